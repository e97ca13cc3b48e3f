package reliability

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/loadtest"
	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// procAdminToken is the operator token of the server processes the tests start.
const procAdminToken = "reliability-admin-token"

// serverBinary builds cmd/vippsmgmt into the test's temporary directory. Each test that needs
// processes builds its own copy: the go command's cache makes that a link step, and a copy
// outliving its test could not be cleaned up (pgtest.Main exits the process).
func serverBinary(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "vippsmgmt")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/vippsmgmt/vippsmgmt/cmd/vippsmgmt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the server in %.1f s", time.Since(start).Seconds())
	return bin
}

// proc is a running `vippsmgmt serve` child process.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	URL    string
	Addr   string // HOST:PORT
	stderr *syncbuf.Buffer
	exited chan struct{}
	state  *os.ProcessState
}

// startProc starts the binary on db (sqlite:PATH or a postgres URL) on a free loopback port and
// waits for the banner naming its address. The process is killed when the test ends.
func startProc(t testing.TB, bin, db string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--admin-token", procAdminToken,
		"--log-format", "json", "--token-rate", "100000", "--token-burst", "100000"}, extra...)
	cmd := exec.Command(bin, args...)
	// The child dies with the test process even if the test binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{t: t, cmd: cmd, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	select {
	case line, ok := <-first:
		// "vippsmgmt is listening on http://HOST:PORT (database ...)"
		const prefix = "vippsmgmt is listening on http://"
		if !ok || !strings.HasPrefix(line, prefix) {
			<-p.exited
			t.Fatalf("server did not start: first line %q\n%s", line, p.stderr.String())
		}
		p.Addr, _, _ = strings.Cut(strings.TrimPrefix(line, prefix), " ")
		p.URL = "http://" + p.Addr
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not print its address within 60 s\n%s", p.stderr.String())
	}
	return p
}

func (p *proc) api(t testing.TB) testserver.Client { return testserver.Client{T: t, URL: p.URL} }

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// crash kills the process with SIGKILL, as a power cut or the kernel's OOM killer would, and waits
// until it is gone.
func (p *proc) crash() {
	p.t.Helper()
	p.signal(syscall.SIGKILL)
	if _, err := p.wait(10 * time.Second); err == nil {
		p.t.Fatal("SIGKILL did not kill the server")
	}
}

// wait waits up to d for the process to exit and returns its exit code, or an error.
func (p *proc) wait(d time.Duration) (int, error) {
	select {
	case <-p.exited:
		if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, fmt.Errorf("killed by %v", ws.Signal())
		}
		return p.state.ExitCode(), nil
	case <-time.After(d):
		return -1, errors.New("still running")
	}
}

// rss is the process's resident memory in MiB, or 0 when unknown.
func (p *proc) rss() float64 {
	m, err := loadtest.ReadMem(p.cmd.Process.Pid)
	if err != nil {
		return 0
	}
	return float64(m.RSS) / (1 << 20)
}

// procHeaders returns the operator headers of a server process.
func procAdmin() []string { return testserver.AdminHeaders(procAdminToken) }

// newClient is a client with its own connection pool, so one test's connections do not linger in
// another's.
func newClient() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}
