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
