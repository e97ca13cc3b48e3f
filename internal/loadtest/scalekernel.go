package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SyscallCounts is how many system calls the server processes made per GET, counted in the kernel
// by perf's syscall tracepoints: they count events, not time, so a slower machine does not make
// them larger as it does CPU time; how often a process runs out of work still moves them, and
// that is what they are for. Read and Write are the network: the request, the
// query and their answers, and each read that found nothing yet. EpollPwait is the runtime
// polling the network, blocking when a process has nothing to run; Futex a thread of the runtime
// parked or woken; Nanosleep the runtime's monitor thread (sysmon) napping between checks.
type SyscallCounts struct {
	Total      float64 `json:"total"`
	Read       float64 `json:"read"`
	Write      float64 `json:"write"`
	EpollPwait float64 `json:"epollPwait"`
	Futex      float64 `json:"futex"`
	Nanosleep  float64 `json:"nanosleep"`
}

// syscallEvents are the tracepoints counted, in the order of SyscallCounts' fields.
var syscallEvents = []string{"raw_syscalls:sys_enter", "syscalls:sys_enter_read", "syscalls:sys_enter_write",
	"syscalls:sys_enter_epoll_pwait", "syscalls:sys_enter_futex", "syscalls:sys_enter_nanosleep"}

// syscallCounter is a `perf stat` attached to the server processes with its events disabled; the
// measurement enables them for exactly the phase counted, over perf's control descriptors.
type syscallCounter struct {
	cmd     *exec.Cmd
	out     string
	ctl     *os.File
	ack     *bufio.Reader
	ackFile *os.File
}

// perfAckTimeout bounds the wait for perf to confirm a command: it answers in about 0.1 s.
const perfAckTimeout = 10 * time.Second

// startSyscallCounter attaches perf to pids. An error says why nothing can be counted (no perf,
// no permission for tracepoints); the caller reports it instead of the counts.
func startSyscallCounter(ctx context.Context, dir string, pids []int) (*syscallCounter, error) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return nil, errors.New("perf is not installed")
	}
	ids := make([]string, len(pids))
	for i, p := range pids {
		ids[i] = strconv.Itoa(p)
	}
	// The output file comes first: nothing is left open when it cannot be made.
	f, err := os.CreateTemp(dir, "perf-stat-*.csv")
	if err != nil {
		return nil, err
	}
	f.Close()
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	ackR, ackW, err := os.Pipe()
	if err != nil {
		os.Remove(f.Name())
		ctlR.Close()
		ctlW.Close()
		return nil, err
	}
	c := &syscallCounter{out: f.Name(), ctl: ctlW, ack: bufio.NewReader(ackR), ackFile: ackR}
	c.cmd = exec.CommandContext(ctx, perf, "stat", "-x", ",", "-o", c.out, "-D", "-1", "--control", "fd:3,4",
		"-e", strings.Join(syscallEvents, ","), "-p", strings.Join(ids, ","))
	c.cmd.ExtraFiles = []*os.File{ctlR, ackW}
	var stderr strings.Builder
	c.cmd.Stderr = &stderr
	err = c.cmd.Start()
	ctlR.Close()
	ackW.Close()
	if err != nil {
		c.closePipes()
		os.Remove(c.out)
		return nil, err
	}
	// perf acknowledges a command only once its events are open: a refusal shows as no answer.
	if err := c.command("disable"); err != nil {
		c.stop()
		return nil, fmt.Errorf("perf cannot count syscall tracepoints here: %s", firstLine(stderr.String(), err))
	}
	return c, nil
}

func firstLine(s string, err error) string {
	if s = strings.TrimSpace(s); s == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// command sends perf a control command and waits for its acknowledgement.
func (c *syscallCounter) command(cmd string) error {
	if _, err := fmt.Fprintln(c.ctl, cmd); err != nil {
		return err
	}
	_ = c.ackFile.SetReadDeadline(time.Now().Add(perfAckTimeout))
	line, err := c.ack.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasSuffix(line, "ack\n") {
		return fmt.Errorf("perf answered %q", line)
	}
	return nil
}

// measure counts the syscalls the processes make while phase runs. The phase runs even when perf
// fails to start counting: the run measures it in other ways too (CPU time, requests).
func (c *syscallCounter) measure(phase func()) error {
	err := c.command("enable")
	phase()
	if err != nil {
		return err
	}
	return c.command("disable")
}

func (c *syscallCounter) closePipes() {
	c.ctl.Close()
	c.ackFile.Close()
}

// stop ends perf and reads its counts, summed over the processes.
func (c *syscallCounter) stop() (map[string]int64, error) {
	c.closePipes()
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	_ = c.cmd.Wait()
	defer os.Remove(c.out)
	b, err := os.ReadFile(c.out)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) < 3 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			counts[f[2]] += n
		}
	}
	if _, ok := counts[syscallEvents[0]]; !ok {
		return nil, fmt.Errorf("perf counted nothing (%s)", filepath.Base(c.out))
	}
	return counts, nil
}

// syscallsPerRequest divides counts by n requests.
func syscallsPerRequest(counts map[string]int64, n int64) SyscallCounts {
	if n == 0 {
		return SyscallCounts{}
	}
	per := func(event string) float64 { return round3(float64(counts[event]) / float64(n)) }
	return SyscallCounts{Total: per(syscallEvents[0]), Read: per(syscallEvents[1]), Write: per(syscallEvents[2]),
		EpollPwait: per(syscallEvents[3]), Futex: per(syscallEvents[4]), Nanosleep: per(syscallEvents[5])}
}

func (s SyscallCounts) String() string {
	return fmt.Sprintf("%.2f: read %.2f, write %.2f, epoll_pwait %.2f, futex %.2f, nanosleep %.2f",
		s.Total, s.Read, s.Write, s.EpollPwait, s.Futex, s.Nanosleep)
}
