package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ServerPackage is the import path of the product binary started under load.
const ServerPackage = "github.com/vippsmgmt/vippsmgmt/cmd/vippsmgmt"

// BuildServer compiles the product binary into dir with the go command and returns its path. It
// must run inside the module (the repository or one of its directories).
func BuildServer(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "vippsmgmt")
	// Static, as a release is built (internal/release): a cgo build maps the C library too, 1.5 MiB
	// more resident memory than what ships. Symbols are kept for callgrind_annotate; they are not
	// loaded into memory.
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ServerPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (run inside the repository or pass the binary): %w\n%s", ServerPackage, err, out)
	}
	return bin, nil
}

// ServerConfig says how to start the server under test.
type ServerConfig struct {
	Bin       string // the vippsmgmt binary
	DB        string // sqlite:PATH or a postgres:// URL
	TokenRate int    // token requests per second and burst per client id; high, so load is not throttled
	LogPath   string // where the JSON request log goes; "" discards it
	// ServerThrottle keeps the server's own token rate and burst (TokenRate is then unused), for
	// runs that test the throttle rather than measure throughput.
	ServerThrottle bool
	Env            []string // added to this process's environment, e.g. GOMAXPROCS=1
}

// Process is a running `vippsmgmt serve`, a child of this process so its memory can be read apart
// from the load generator's.
type Process struct {
	URL        string
	AdminToken string
	PID        int

	cmd     *exec.Cmd
	waitErr chan error
	logFile *os.File
}

// startTimeout bounds start-up: migrations, demo data and the signing key take well under that,
// also under callgrind, which runs everything some 50 times slower.
const startTimeout = 3 * time.Minute

// StartServer starts `vippsmgmt serve` on a free loopback port and waits until /healthz answers.
func StartServer(ctx context.Context, cfg ServerConfig) (*Process, error) {
	cmd, admin := serverCommand(cfg)
	p, err := StartProcess(ctx, cmd, cfg.LogPath)
	if err != nil {
		return nil, err
	}
	p.AdminToken = admin
	return p, nil
}

// serverCommand is the `vippsmgmt serve` command StartServer runs, with its fresh admin token.
func serverCommand(cfg ServerConfig) (*exec.Cmd, string) {
	if cfg.TokenRate <= 0 {
		cfg.TokenRate = 100000
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	admin := hex.EncodeToString(b)
	rate := strconv.Itoa(cfg.TokenRate)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", cfg.DB, "--demo", "--log-format", "json", "--admin-token", admin}
	if !cfg.ServerThrottle {
		args = append(args, "--token-rate", rate, "--token-burst", rate)
	}
	cmd := exec.Command(cfg.Bin, args...)
	if len(cfg.Env) > 0 {
		cmd.Env = append(os.Environ(), cfg.Env...)
	}
	return cmd, admin
}

// StartProcess starts cmd, a server that prints "listening on http://ADDR" on its standard output
// once it accepts connections, and waits until its /healthz answers. Its standard error goes to
// logPath, or nowhere when that is "".
func StartProcess(ctx context.Context, cmd *exec.Cmd, logPath string) (*Process, error) {
	p := &Process{cmd: cmd, waitErr: make(chan error, 1)}
	var logW io.Writer = io.Discard
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		p.logFile, logW = f, f
	}
	cmd.Stderr = logW
	// The server dies with this process, so an interrupted run leaves nothing behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.closeLog()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		p.closeLog()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p.PID = cmd.Process.Pid
	// The banner names the bound address; the rest is drained so the pipe never fills.
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "listening on http://"); i >= 0 && !sent {
				u, _, _ := strings.Cut(line[i+len("listening on "):], " ")
				urlc <- u
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.waitErr <- cmd.Wait()
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case p.URL = <-urlc:
	case err := <-p.waitErr:
		p.closeLog()
		return nil, fmt.Errorf("%s exited at start-up (%v)%s", filepath.Base(cmd.Path), err, logTail(logPath))
	case <-timer.C:
		p.Stop()
		return nil, errors.New("server did not report its address in time")
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
	// 127.0.0.1 rather than the banner's localhost: no resolver, no IPv6 detour.
	p.URL = strings.Replace(p.URL, "//localhost:", "//127.0.0.1:", 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("server at %s is not healthy: %v", p.URL, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop asks the server to shut down (SIGTERM) and kills it if it has not stopped in 10 s.
func (p *Process) Stop() error {
	defer p.closeLog()
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.waitErr:
		p.waitErr <- err // a second Stop returns at once
		return err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		err := <-p.waitErr
		p.waitErr <- err
		return fmt.Errorf("server did not stop in 10 s; killed")
	}
}

func (p *Process) closeLog() {
	if p.logFile != nil {
		p.logFile.Close()
		p.logFile = nil
	}
}

// Mem is a process's resident memory, from /proc/PID/status.
type Mem struct {
	RSS  uint64 // VmRSS, bytes
	Peak uint64 // VmHWM, bytes: the highest RSS since start or since ResetPeak
	// Anon is RssAnon, bytes: the part of RSS that is not pages of files (the executable's):
	// the Go heap and stacks, SQLite's allocator, the data segment once written.
	Anon uint64
}

// Mem reads the server's resident memory.
func (p *Process) Mem() (Mem, error) { return ReadMem(p.PID) }

// ResetPeak restarts the server's VmHWM at its current RSS (Linux clear_refs), so the next Mem's
// Peak covers only what follows.
func (p *Process) ResetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.PID), []byte("5"), 0)
}

// ReadMem reads VmRSS, VmHWM and RssAnon of a process.
func ReadMem(pid int) (Mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Mem{}, err
	}
	var m Mem
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		field := map[string]*uint64{"VmRSS": &m.RSS, "VmHWM": &m.Peak, "RssAnon": &m.Anon}[name]
		if !ok || field == nil {
			continue
		}
		f := strings.Fields(val) // "12345 kB"
		if len(f) != 2 || f[1] != "kB" {
			return Mem{}, fmt.Errorf("unexpected %s line %q", name, line)
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return Mem{}, err
		}
		*field = kb << 10
	}
	if m.RSS == 0 {
		return Mem{}, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

// ReadCPU returns the CPU time (user and system) a process has used. /proc counts it in clock
// ticks, which are 1/100 s on Linux whatever the kernel's HZ.
func ReadCPU(pid int) (time.Duration, error) {
	user, sys, err := readCPUSplit(pid)
	return user + sys, err
}

// readCPUSplit returns the user and the system CPU time a process has used.
func readCPUSplit(pid int) (user, sys time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name may hold spaces; the fields after its closing parenthesis do not.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return time.Duration(utime) * 10 * time.Millisecond, time.Duration(stime) * 10 * time.Millisecond, nil
}

// contextSwitches returns how often the threads of a process have been switched off a core,
// voluntarily (waiting) or not, from /proc/PID/task/*/status.
func contextSwitches(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread has exited
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			} else if v, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// logTail returns the end of a server log for error messages.
func logTail(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\nserver log:\n" + string(b)
}

// statSize returns a file's size.
func statSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// CountLogErrors counts ERROR lines in a JSON server log.
func CountLogErrors(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"level":"ERROR"`) {
			n++
		}
	}
	return n, sc.Err()
}
