package loadtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSyscallCounterFailsClean: when the counter cannot start, it says so and leaves no
// descriptor open behind it, as every scaleout way that cannot be counted would otherwise leak.
func TestSyscallCounterFailsClean(t *testing.T) {
	if _, err := exec.LookPath("perf"); err != nil {
		t.Skip("perf is not installed: the counter fails before opening anything")
	}
	openFDs := func() int {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd to count descriptors in")
		}
		return len(fds)
	}
	before := openFDs()
	for range 3 {
		c, err := startSyscallCounter(t.Context(), filepath.Join(t.TempDir(), "missing"), []int{os.Getpid()})
		if err == nil {
			c.stop()
			t.Fatal("the counter started without a directory for its output")
		}
	}
	if after := openFDs(); after != before {
		t.Fatalf("%d descriptors open before, %d after three failed starts", before, after)
	}
}

// TestSyscallCounterRunsPhaseRegardless: a counter perf no longer answers still runs the phase it
// was to count, so the figures taken around it are not lost with the syscall counts.
func TestSyscallCounterRunsPhaseRegardless(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Close()
	c := &syscallCounter{ctl: w, ackFile: r}
	ran := false
	if err := c.measure(func() { ran = true }); err == nil {
		t.Error("measure reported no error with perf's control pipe closed")
	}
	if !ran {
		t.Error("the phase did not run")
	}
}
