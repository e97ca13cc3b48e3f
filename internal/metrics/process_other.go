//go:build !linux

package metrics

import (
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/cputime"
)

// started approximates the process's start: package initialisation runs within milliseconds of
// it.
var started = time.Now()

// Process reports what this operating system tells without /proc: the CPU time (where the
// system reports it) and the start time, under the names Prometheus's Go client gives them.
func Process() []Family {
	out := []Family{single(TypeGauge, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
		float64(started.UnixNano())/1e9)}
	if cpu := cputime.Process(); cpu > 0 {
		out = append(out, single(TypeCounter, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu.Seconds()))
	}
	return out
}
