//go:build !unix

// Package cputime reads the CPU time this process has used, for benchmarks that report CPU per
// operation: unlike wall time, it does not depend on how busy the machine's other cores are.
package cputime

import "time"

// Process is not measured here: it is always 0.
func Process() time.Duration { return 0 }
