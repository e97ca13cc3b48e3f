package loadtest

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
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TargetInstructionRatio bounds the authenticated GET's instructions per request against the bare
// handler's.
const TargetInstructionRatio = 1.5

// InstructionReport counts, with callgrind, the instructions the server process executes per
// authenticated GET /management/v1/sales-units/{msn} and per request of the bare handler serving the
// same bytes. Instruction counts barely move when other work shares the machine, unlike
// requests per second. The kernel's share (syscalls) is not counted on either side.
type InstructionReport struct {
	Tool     string `json:"tool"`
	Requests int    `json:"requests"`
	Conns    int    `json:"conns"`
	// Auth and Bare are the instructions per request net of what the process executes in as long
	// a time without requests (AuthIdle, BareIdle); AuthRaw and BareRaw include it.
	Auth        float64  `json:"authInstructionsPerRequest"`
	Bare        float64  `json:"bareInstructionsPerRequest"`
	AuthRaw     float64  `json:"authRawInstructionsPerRequest"`
	BareRaw     float64  `json:"bareRawInstructionsPerRequest"`
	AuthIdle    float64  `json:"authIdleInstructionsPerRequest"`
	BareIdle    float64  `json:"bareIdleInstructionsPerRequest"`
	Ratio       float64  `json:"ratio"`
	Target      float64  `json:"target"`
	Pass        bool     `json:"pass"`
	Errors      int      `json:"errors"`
	FirstErrors []string `json:"firstErrors,omitempty"`
	// Skipped says why nothing was counted (valgrind is not installed); Pass is then false.
	Skipped string `json:"skipped,omitempty"`
}

// callgrindEnv is the environment of a process counted by callgrind. Asynchronous preemption sends
// the process a signal every 10 ms of running, and under callgrind everything runs some 50 times
// slower, so the count would mostly measure preemption. The runtime reads the CPU's cycle counter
// with RDTSCP where the CPU has it, an instruction valgrind 3.19 (Debian 12's) does not decode:
// the process dies of SIGILL at its first contended lock; with RDTSCP off it uses RDTSC.
const callgrindEnv = "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off"

// CallgrindVersion returns valgrind's version when valgrind and callgrind_control are installed.
func CallgrindVersion() (string, bool) {
	if _, err := exec.LookPath("callgrind_control"); err != nil {
		return "", false
	}
	out, err := exec.Command("valgrind", "--version").Output()
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

// underCallgrind turns cmd into the same command run by callgrind, which collects from the start
// but is zeroed before the measured requests; its dumps go to dir.
func underCallgrind(cmd *exec.Cmd, dir string) *exec.Cmd {
	args := append([]string{"--tool=callgrind", "--dump-instr=no", "--collect-jumps=no",
		"--callgrind-out-file=" + filepath.Join(dir, "callgrind.%p"), cmd.Path}, cmd.Args[1:]...)
	c := exec.Command("valgrind", args...)
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	c.Env = append(env, callgrindEnv)
	return c
}

// callgrindControl sends a command (-z zero, -d dump) to a process running under callgrind.
func callgrindControl(ctx context.Context, pid int, flag string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "callgrind_control", flag, strconv.Itoa(pid)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		return fmt.Errorf("callgrind_control %s %d: %v: %s", flag, pid, err, out)
	}
	return nil
}

// dumpTotal returns the instruction total of the newest dump of pid in dir.
func dumpTotal(dir string, pid int) (uint64, error) {
	dumps, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("callgrind.%d.*", pid)))
	if len(dumps) == 0 {
		return 0, fmt.Errorf("no callgrind dump of process %d in %s", pid, dir)
	}
	// Dumps are numbered .1, .2, ... in order.
	sort.Slice(dumps, func(i, j int) bool { return dumpNumber(dumps[i]) < dumpNumber(dumps[j]) })
	f, err := os.Open(dumps[len(dumps)-1])
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseCallgrindTotal(f)
}

func dumpNumber(path string) int {
	n, _ := strconv.Atoi(path[strings.LastIndexByte(path, '.')+1:])
	return n
}

// parseCallgrindTotal reads the "totals:" (or, failing that, "summary:") line of a callgrind dump
// whose first event is Ir.
func parseCallgrindTotal(r interface{ Read([]byte) (int, error) }) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var summary string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "totals:"); ok {
			return parseFirstCount(v)
		}
		if v, ok := strings.CutPrefix(line, "summary:"); ok {
			summary = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if summary == "" {
		return 0, errors.New("callgrind dump has no totals line")
	}
	return parseFirstCount(summary)
}

func parseFirstCount(v string) (uint64, error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, errors.New("empty callgrind totals line")
	}
	return strconv.ParseUint(f[0], 10, 64)
}

// countedServer is a process started under callgrind.
type countedServer struct {
	*Process
	dir string
}

// kill stops a counted process with SIGKILL: callgrind trips over Go's handling of SIGTERM, and
// its counts were already dumped.
func (s *countedServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.waitErr
	}
	s.closeLog()
}

// count is what callgrind counted over n requests and over as long a time without any.
type count struct {
	raw  float64 // instructions per request, everything the process did meanwhile included
	idle float64 // instructions per request the process executes in the same time without requests
}

// countRequests zeroes the counters of a callgrind process, has conns workers send n requests in
// all and counts what the process executed; then it counts the same length of time without
// requests. Under callgrind a process runs some 50 times slower, so the work a server does every
// second (clock refresh, report flush, expiry sweep) falls on 50 times fewer requests than it would
// in real time; the idle count is that share.
func countRequests(ctx context.Context, s *countedServer, conns, n int, do func(worker int) error, errs *errorLog) (count, error) {
	return countRequestsAcross(ctx, []*countedServer{s}, conns, n, do, errs)
}

// countRequestsAcross is countRequests over several processes serving the same requests between
// them: the counts are the sums of the processes'.
func countRequestsAcross(ctx context.Context, servers []*countedServer, conns, n int, do func(worker int) error, errs *errorLog) (count, error) {
	for _, s := range servers {
		if err := callgrindControl(ctx, s.PID, "-z"); err != nil {
			return count{}, err
		}
	}
	start := time.Now()
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			for left.Add(-1) >= 0 && ctx.Err() == nil {
				if err := do(w); err != nil {
					errs.add("%v", err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := ctx.Err(); err != nil {
		return count{}, err
	}
	total, err := zeroAndDump(ctx, servers, 0)
	if err != nil {
		return count{}, err
	}
	idle, err := zeroAndDump(ctx, servers, took)
	if err != nil {
		return count{}, err
	}
	return count{raw: float64(total) / float64(n), idle: float64(idle) / float64(n)}, nil
}

// zeroAndDump dumps the counters of the servers after wait (zeroing them first when wait > 0) and
// returns the instructions they counted in all.
func zeroAndDump(ctx context.Context, servers []*countedServer, wait time.Duration) (uint64, error) {
	if wait > 0 {
		for _, s := range servers {
			if err := callgrindControl(ctx, s.PID, "-z"); err != nil {
				return 0, err
			}
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	var sum uint64
	for _, s := range servers {
		if err := callgrindControl(ctx, s.PID, "-d"); err != nil {
			return 0, err
		}
		n, err := dumpTotal(s.dir, s.PID)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// measureInstructions counts instructions per request of the authenticated GET on a server over
// dsn and of the bare handler serving the same answer, each in its own process under callgrind.
// Both get the same warm-up and the same requests over the same connections.
func measureInstructions(ctx context.Context, cfg ScaleConfig, dsn string, seed *Seeded, logf func(string, ...any)) (InstructionReport, error) {
	rep := InstructionReport{Requests: cfg.InstrRequests, Conns: cfg.InstrConns, Target: TargetInstructionRatio}
	if cfg.Bare == nil {
		rep.Skipped = "the bare handler runs in this process (--bare-in-process)"
		return rep, nil
	}
	dir, tool, skipped, err := prepareCallgrind(cfg.Dir, "callgrind")
	if err != nil || skipped != "" {
		rep.Skipped = skipped
		return rep, err
	}
	rep.Tool = tool
	logf("starting the server under callgrind (slow)")
	srv, err := startCounted(ctx, dir, func() (*exec.Cmd, string) {
		return serverCommand(ServerConfig{Bin: cfg.Bin, DB: dsn})
	}, cfg.logPath("instructions-server"))
	if err != nil {
		return rep, err
	}
	defer srv.kill()
	client := newClient(cfg.InstrConns + 1)
	defer client.CloseIdleConnections()
	hdr, err := classicAuth(ctx, client, srv.URL, seed.Keys)
	if err != nil {
		return rep, err
	}
	path := "/management/v1/sales-units/" + seed.FirstMSN
	body, contentType, err := getOnce(ctx, client, srv.URL+path, hdr)
	if err != nil {
		return rep, err
	}
	bareCmd, err := cfg.Bare(contentType, body, cfg.Dir)
	if err != nil {
		return rep, err
	}
	logf("starting the bare handler under callgrind")
	bare, err := startCounted(ctx, dir, func() (*exec.Cmd, string) { return bareCmd, "" }, "")
	if err != nil {
		return rep, err
	}
	defer bare.kill()
	bareClient := newClient(cfg.InstrConns + 1)
	defer bareClient.CloseIdleConnections()

	var errs errorLog
	authDo := getExpecting(client, getPerConn(ctx, srv.URL+path, hdr, cfg.InstrConns), len(body))
	bareDo := getExpecting(bareClient, getPerConn(ctx, bare.URL+path, hdr, cfg.InstrConns), len(body))
	// The bare handler is sent the very same requests, token and subscription key included:
	// reading them is part of what any handler of this API costs.
	// Warm-up: connections, caches, the heap's steady size.
	warm := max(cfg.InstrRequests/5, 100)
	logf("callgrind: %d warm-up and %d counted requests per side", warm, cfg.InstrRequests)
	var warmErrs errorLog
	if _, err := countRequests(ctx, srv, cfg.InstrConns, warm, authDo, &warmErrs); err != nil {
		return rep, err
	}
	if _, err := countRequests(ctx, bare, cfg.InstrConns, warm, bareDo, &warmErrs); err != nil {
		return rep, err
	}
	auth, err := countRequests(ctx, srv, cfg.InstrConns, cfg.InstrRequests, authDo, &errs)
	if err != nil {
		return rep, err
	}
	bareCount, err := countRequests(ctx, bare, cfg.InstrConns, cfg.InstrRequests, bareDo, &errs)
	if err != nil {
		return rep, err
	}
	rep.AuthRaw, rep.AuthIdle = round1(auth.raw), round1(auth.idle)
	rep.BareRaw, rep.BareIdle = round1(bareCount.raw), round1(bareCount.idle)
	rep.Auth, rep.Bare = max(auth.raw-auth.idle, 0), max(bareCount.raw-bareCount.idle, 0)
	rep.Errors, rep.FirstErrors = errs.snapshot()
	if n, first := warmErrs.snapshot(); n > 0 {
		rep.Errors += n
		rep.FirstErrors = append(rep.FirstErrors, first...)
	}
	rep.Auth, rep.Bare = round1(rep.Auth), round1(rep.Bare)
	if rep.Bare > 0 {
		rep.Ratio = round3(rep.Auth / rep.Bare)
	}
	rep.Pass = rep.Errors == 0 && rep.Ratio > 0 && rep.Ratio <= rep.Target
	logf("callgrind: authenticated %.0f, bare %.0f instructions per request (%.3f)", rep.Auth, rep.Bare, rep.Ratio)
	return rep, nil
}

// prepareCallgrind makes the directory name under parent for callgrind's output and names the
// tool for a report; skipped, when not empty, says why nothing can be counted on this machine.
func prepareCallgrind(parent, name string) (dir, tool, skipped string, err error) {
	version, ok := CallgrindVersion()
	if !ok {
		return "", "", "valgrind (callgrind) is not installed", nil
	}
	dir = filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", err
	}
	return dir, "callgrind, " + version + ", " + callgrindEnv, "", nil
}

// startCounted starts the command build returns under callgrind and waits for it to serve.
func startCounted(ctx context.Context, dir string, build func() (*exec.Cmd, string), logPath string) (*countedServer, error) {
	cmd, admin := build()
	p, err := StartProcess(ctx, underCallgrind(cmd, dir), logPath)
	if err != nil {
		return nil, err
	}
	p.AdminToken = admin
	return &countedServer{Process: p, dir: dir}, nil
}

// getOnce fetches url and returns the body and Content-Type of a 200 answer.
func getOnce(ctx context.Context, c *http.Client, url string, h http.Header) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header = h.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b.String())
	}
	return []byte(b.String()), resp.Header.Get("Content-Type"), nil
}

// RunInstructions seeds a partner with cfg.Units sales units on a fresh SQLite database and counts
// the instructions of the authenticated GET and of the bare handler: the instruction part of
// RunScale alone, quick enough to repeat after each change.
func RunInstructions(ctx context.Context, cfg ScaleConfig) (*InstructionReport, error) {
	cfg.SetDefaults()
	logf := progressf(cfg.Progress)
	dsn := "sqlite:" + filepath.Join(cfg.Dir, "instructions.db")
	seed, err := Seed(ctx, dsn, "load-partner", cfg.Units)
	if err != nil {
		return nil, err
	}
	rep, err := measureInstructions(ctx, cfg, dsn, seed, logf)
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// WriteText writes the instruction count beside its target.
func (r *InstructionReport) WriteText(w io.Writer) error {
	if r.Skipped != "" {
		_, err := fmt.Fprintf(w, "instructions per request: not counted: %s\n", r.Skipped)
		return err
	}
	_, err := fmt.Fprintf(w, "GET /management/v1/sales-units/{msn}: %d requests over %d connections, %s\n"+
		"  instructions per request: authenticated %.0f, bare net/http handler %.0f\n"+
		"  (counted %.0f and %.0f, less %.0f and %.0f executed in as long a time without requests)\n"+
		"  ratio %.3f, target <= %.2f: %s (%d errors)\n",
		r.Requests, r.Conns, r.Tool, r.Auth, r.Bare, r.AuthRaw, r.BareRaw, r.AuthIdle, r.BareIdle, r.Ratio, r.Target, verdict(r.Pass), r.Errors)
	return err
}
