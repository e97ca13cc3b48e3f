//go:build unix

// Package cputime reads the CPU time this process has used, for benchmarks that report CPU per
// operation: unlike wall time, it does not depend on how busy the machine's other cores are.
package cputime

import (
	"syscall"
	"time"
)

// Process is the user and system CPU time this process has used, all goroutines together.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
