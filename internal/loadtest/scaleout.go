package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// Targets of the scale-out figure: the work a request costs must not grow with a second process.
const (
	TargetScaleOutRead    = 1.0  // server CPU (and instructions) per GET with two processes / with one
	TargetScaleOutPrefill = 1.10 // server CPU (and instructions) per prefill with two processes / with one
	// CPU time is read in 10 ms ticks and moves with whatever else runs on the machine; a CPU
	// ratio within 5 % of its target is within that error. Instruction counts move by about 1 %.
	scaleOutCPUSlack   = 1.05
	scaleOutInstrSlack = 1.02
)

// ScaleOutRun is the server CPU per request of one way of running the server processes, summed
// over the rounds of a scale-out run.
type ScaleOutRun struct {
	Processes  int     `json:"processes"`
	GOMAXPROCS int     `json:"gomaxprocs"` // of each process
	Workers    int     `json:"workers"`    // closed-loop callers in all
	ReadCPU    float64 `json:"readCpuUs"`  // server CPU (user + system) per GET, µs
	ReadSys    float64 `json:"readSysUs"`  // of which system (kernel) time
	ReadSwitch float64 `json:"readContextSwitches"`
	ReadRPS    float64 `json:"readRps"`
	PrefillCPU float64 `json:"prefillCpuUs"`
	PrefillSys float64 `json:"prefillSysUs"`
	PreSwitch  float64 `json:"prefillContextSwitches"`
	PrefillRPS float64 `json:"prefillRps"`
	// ReadSyscalls is what the server processes' threads asked of the kernel per GET; zero when
	// ScaleOutReport.SyscallsSkipped says why it was not counted.
	ReadSyscalls SyscallCounts `json:"readSyscalls"`

	read, pre         usage
	readSyscalls      map[string]int64
	reads, prefills   int64
	readSecs, preSecs float64
}

// usage is what the server processes spent: CPU time and context switches.
type usage struct {
	user, sys time.Duration
	switches  int64
}

func (u usage) sub(v usage) usage {
	return usage{user: u.user - v.user, sys: u.sys - v.sys, switches: u.switches - v.switches}
}

func (u usage) add(v usage) usage {
	return usage{user: u.user + v.user, sys: u.sys + v.sys, switches: u.switches + v.switches}
}

func processUsage(procs []*Process) usage {
	var total usage
	for _, p := range procs {
		user, sys, _ := readCPUSplit(p.PID)
		total = total.add(usage{user: user, sys: sys, switches: contextSwitches(p.PID)})
	}
	return total
}

// ScaleOutInstr is what callgrind counts per request in the server processes with one process and
// with two: unlike CPU time it does not grow when the processes wait for each other or for the
// cores, so it tells more work apart from contention.
type ScaleOutInstr struct {
	Tool         string  `json:"tool,omitempty"`
	Reads        int     `json:"reads"`
	Prefills     int     `json:"prefills"`
	Read1        float64 `json:"readInstructionsOneProcess"`
	Read2        float64 `json:"readInstructionsTwoProcesses"`
	Prefill1     float64 `json:"prefillInstructionsOneProcess"`
	Prefill2     float64 `json:"prefillInstructionsTwoProcesses"`
	ReadRatio    float64 `json:"readRatio"`
	PrefillRatio float64 `json:"prefillRatio"`
	PassRead     bool    `json:"passRead"`
	PassPrefill  bool    `json:"passPrefill"`
	// Skipped says why nothing was counted; the targets are then judged on CPU time alone.
	Skipped string `json:"skipped,omitempty"`
}

// ScaleOutReport is server CPU and instructions per request with one and with two server processes
// on one PostgreSQL database, the load spread evenly over the processes. On a 2-core machine a
// second process cannot add throughput (one already fills both cores); what it shows is whether a
// request costs more when processes share the database and the cores, which is what a machine with
// more cores would multiply.
//
// One process runs with the runtime's GOMAXPROCS (the number of cores); two run as documented for
// several processes on one host, each with GOMAXPROCS = cores / processes (Split), and, to show
// what that setting is worth, each with the runtime's default (Unsplit). Half is one process sent
// as many callers as each of two processes is sent: it tells what a request costs a process that
// is half as busy apart from what a second process costs.
type ScaleOutReport struct {
	Workers int           `json:"workers"`
	Seconds float64       `json:"seconds"`
	Rounds  int           `json:"rounds"`
	Cores   int           `json:"cores"`
	One     ScaleOutRun   `json:"one"`
	Half    ScaleOutRun   `json:"oneHalfLoad"` // one process sent what each of two is sent
	Split   ScaleOutRun   `json:"twoSplit"`
	Unsplit ScaleOutRun   `json:"twoUnsplit"`
	Instr   ScaleOutInstr `json:"instructions"`
	// SyscallsSkipped says why no way's syscalls were counted (perf missing or not permitted).
	SyscallsSkipped string `json:"syscallsSkipped,omitempty"`
	// Ratios of CPU per request, two processes (Split) over one.
	ReadRatio    float64  `json:"readCpuRatio"`
	PrefillRatio float64  `json:"prefillCpuRatio"`
	PassRead     bool     `json:"passRead"`
	PassPrefill  bool     `json:"passPrefill"`
	Errors       int      `json:"errors"`
	FirstErrors  []string `json:"firstErrors,omitempty"`
}

// Pass is whether every scale-out target is met: CPU per request, and instructions per request
// when they were counted.
func (r *ScaleOutReport) Pass() bool {
	return r.PassRead && r.PassPrefill && (r.Instr.Skipped != "" || (r.Instr.PassRead && r.Instr.PassPrefill))
}

// splitProcs is GOMAXPROCS for each of n processes sharing this machine's cores.
func splitProcs(n int) int { return max(runtime.NumCPU()/n, 1) }

// RunScaleOut measures GET /management/v1/sales-units/{msn} and prefills against one server
// process on dsn, then against two, and compares the server CPU per request; with valgrind
// installed it also counts instructions per request the same way.
func RunScaleOut(ctx context.Context, cfg ScaleConfig, dsn string) (*ScaleOutReport, error) {
	cfg.SetDefaults()
	logf := progressf(cfg.Progress)
	// Numbered past the units other runs seed on the same database.
	seeds, err := seedPartners(ctx, dsn, []string{"load-partner-scaleout"}, 100, 900_000_000)
	if err != nil {
		return nil, err
	}
	seed := seeds[0]
	cores := runtime.NumCPU()
	rep := &ScaleOutReport{Workers: cfg.PrefillWorkers, Seconds: cfg.Prefill.Seconds(), Rounds: cfg.Rounds, Cores: cores,
		One:     ScaleOutRun{Processes: 1, GOMAXPROCS: cores, Workers: cfg.PrefillWorkers},
		Half:    ScaleOutRun{Processes: 1, GOMAXPROCS: cores, Workers: max(cfg.PrefillWorkers/2, 1)},
		Split:   ScaleOutRun{Processes: 2, GOMAXPROCS: splitProcs(2), Workers: cfg.PrefillWorkers},
		Unsplit: ScaleOutRun{Processes: 2, GOMAXPROCS: cores, Workers: cfg.PrefillWorkers}}
	ways := []*ScaleOutRun{&rep.One, &rep.Half, &rep.Split, &rep.Unsplit}
	var errs errorLog
	run := func(r *ScaleOutRun) error {
		n := r.Processes
		var procs []*Process
		defer func() {
			for _, p := range procs {
				_ = p.Stop()
			}
		}()
		for i := range n {
			p, err := StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn, Env: []string{"GOMAXPROCS=" + strconv.Itoa(r.GOMAXPROCS)},
				LogPath: cfg.logPath(fmt.Sprintf("scaleout-%d-%d-%d", n, r.GOMAXPROCS, i))})
			if err != nil {
				return err
			}
			procs = append(procs, p)
		}
		client := newClient(cfg.PrefillWorkers + 2)
		defer client.CloseIdleConnections()
		hdr, err := classicAuth(ctx, client, procs[0].URL, seed.Keys)
		if err != nil {
			return err
		}
		bases := make([]string, n)
		for i, p := range procs {
			bases[i] = p.URL
		}
		get, post := scaleOutCalls(ctx, client, bases, hdr, seed.FirstMSN, fmt.Sprintf("cpu-%d-%d", n, r.GOMAXPROCS))
		var counter *syscallCounter
		if rep.SyscallsSkipped == "" {
			pids := make([]int, n)
			for i, p := range procs {
				pids[i] = p.PID
			}
			if counter, err = startSyscallCounter(ctx, cfg.Dir, pids); err != nil {
				rep.SyscallsSkipped = err.Error()
			}
		}
		closedLoop(r.Workers, min(cfg.Prefill/4, time.Second), func(w, _ int) error { return get(w) }) // warm-up
		u0 := processUsage(procs)
		var rd closedLoopResult
		reads := func() { rd = closedLoop(r.Workers, cfg.Prefill, func(w, _ int) error { return get(w) }) }
		if counter == nil {
			reads()
		} else {
			err := counter.measure(reads)
			counts, serr := counter.stop()
			switch {
			case err != nil:
				rep.SyscallsSkipped = "perf: " + err.Error()
			case serr != nil:
				rep.SyscallsSkipped = "perf: " + serr.Error()
			default:
				r.readSyscalls = addCounts(r.readSyscalls, counts)
			}
		}
		u1 := processUsage(procs)
		pf := closedLoop(r.Workers, cfg.Prefill, func(w, _ int) error { return post(w) })
		u2 := processUsage(procs)
		for _, res := range []closedLoopResult{rd, pf} {
			for _, e := range res.First {
				errs.add("%s", e)
			}
			rep.Errors += res.Errors
		}
		r.read = r.read.add(u1.sub(u0))
		r.pre = r.pre.add(u2.sub(u1))
		r.reads += rd.Requests
		r.prefills += pf.Requests
		r.readSecs += rd.Elapsed.Seconds()
		r.preSecs += pf.Elapsed.Seconds()
		rdU, pfU := u1.sub(u0), u2.sub(u1)
		logf("scale-out, %d process(es), GOMAXPROCS=%d each, %d callers: GET %.0f/s, %.1f µs CPU each (%.1f system); prefill %.0f/s, %.1f µs CPU each (%.1f system)",
			n, r.GOMAXPROCS, r.Workers, rd.rate(), perRequestUs(rdU.user+rdU.sys, rd.Requests), perRequestUs(rdU.sys, rd.Requests),
			pf.rate(), perRequestUs(pfU.user+pfU.sys, pf.Requests), perRequestUs(pfU.sys, pf.Requests))
		return nil
	}
	// The ways alternate round by round, so a burst of other work on the machine falls on each.
	for range cfg.Rounds {
		for _, r := range ways {
			if err := run(r); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range ways {
		r.ReadCPU, r.PrefillCPU = perRequestUs(r.read.user+r.read.sys, r.reads), perRequestUs(r.pre.user+r.pre.sys, r.prefills)
		r.ReadSys, r.PrefillSys = perRequestUs(r.read.sys, r.reads), perRequestUs(r.pre.sys, r.prefills)
		if r.reads > 0 && r.prefills > 0 {
			r.ReadSwitch = round3(float64(r.read.switches) / float64(r.reads))
			r.PreSwitch = round3(float64(r.pre.switches) / float64(r.prefills))
		}
		if rep.SyscallsSkipped == "" {
			r.ReadSyscalls = syscallsPerRequest(r.readSyscalls, r.reads)
		}
		if r.readSecs > 0 && r.preSecs > 0 {
			r.ReadRPS, r.PrefillRPS = round1(float64(r.reads)/r.readSecs), round1(float64(r.prefills)/r.preSecs)
		}
	}
	ratio := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return round3(a / b)
	}
	rep.ReadRatio, rep.PrefillRatio = ratio(rep.Split.ReadCPU, rep.One.ReadCPU), ratio(rep.Split.PrefillCPU, rep.One.PrefillCPU)

	if cfg.InstrRequests > 0 {
		if rep.Instr, err = countScaleOut(ctx, cfg, dsn, seed, &errs, logf); err != nil {
			return nil, err
		}
	} else {
		rep.Instr.Skipped = "not asked for"
	}
	rep.Errors, rep.FirstErrors = errs.snapshot()
	rep.PassRead = rep.Errors == 0 && rep.ReadRatio > 0 && rep.ReadRatio <= TargetScaleOutRead*scaleOutCPUSlack
	rep.PassPrefill = rep.Errors == 0 && rep.PrefillRatio > 0 && rep.PrefillRatio <= TargetScaleOutPrefill*scaleOutCPUSlack
	return rep, nil
}

// scaleOutCalls returns a GET of msn and a prefill with a fresh Idempotency-Key, each sent by
// worker w to process w mod len(bases), so the load is spread evenly.
func scaleOutCalls(ctx context.Context, client *http.Client, bases []string, hdr http.Header, msn, label string) (get, post func(w int) error) {
	var seq atomic.Int64
	get = func(w int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, bases[w%len(bases)]+"/management/v1/sales-units/"+msn, nil)
		req.Header = hdr.Clone()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		drain(resp)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET sales unit on %d processes: %d", len(bases), resp.StatusCode)
		}
		return nil
	}
	post = func(w int) error {
		_, err := prefill(ctx, client, bases[w%len(bases)], hdr, fmt.Sprintf("%s-scaleout-%s-%d", runID, label, seq.Add(1)))
		return err
	}
	return get, post
}

func addCounts(sum, counts map[string]int64) map[string]int64 {
	if sum == nil {
		sum = map[string]int64{}
	}
	for k, v := range counts {
		sum[k] += v
	}
	return sum
}

func perRequestUs(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return round1(float64(d.Microseconds()) / float64(n))
}

// countScaleOut counts with callgrind the instructions per GET and per prefill in one server
// process, then in two serving the same requests between them, each net of what the processes
// execute in as long a time without requests.
func countScaleOut(ctx context.Context, cfg ScaleConfig, dsn string, seed *Seeded, errs *errorLog, logf func(string, ...any)) (ScaleOutInstr, error) {
	rep := ScaleOutInstr{Reads: max(cfg.InstrRequests/2, 200), Prefills: max(cfg.InstrRequests/10, 100)}
	dir, tool, skipped, err := prepareCallgrind(cfg.Dir, "callgrind-scaleout")
	if err != nil || skipped != "" {
		rep.Skipped = skipped
		return rep, err
	}
	rep.Tool = tool
	countWith := func(n int) (read, pre float64, err error) {
		var servers []*countedServer
		defer func() {
			for _, s := range servers {
				s.kill()
			}
		}()
		logf("scale-out: starting %d server process(es) under callgrind (slow)", n)
		for i := range n {
			s, err := startCounted(ctx, dir, func() (*exec.Cmd, string) {
				return serverCommand(ServerConfig{Bin: cfg.Bin, DB: dsn, Env: []string{"GOMAXPROCS=" + strconv.Itoa(splitProcs(n))}})
			}, cfg.logPath(fmt.Sprintf("scaleout-instr-%d-%d", n, i)))
			if err != nil {
				return 0, 0, err
			}
			servers = append(servers, s)
		}
		client := newClient(cfg.InstrConns + 1)
		defer client.CloseIdleConnections()
		hdr, err := classicAuth(ctx, client, servers[0].URL, seed.Keys)
		if err != nil {
			return 0, 0, err
		}
		bases := make([]string, n)
		for i, s := range servers {
			bases[i] = s.URL
		}
		get, post := scaleOutCalls(ctx, client, bases, hdr, seed.FirstMSN, fmt.Sprintf("instr-%d", n))
		var warmErrs errorLog
		if _, err := countRequestsAcross(ctx, servers, cfg.InstrConns, rep.Reads/5, get, &warmErrs); err != nil {
			return 0, 0, err
		}
		if _, err := countRequestsAcross(ctx, servers, cfg.InstrConns, rep.Prefills/5, post, &warmErrs); err != nil {
			return 0, 0, err
		}
		if m, first := warmErrs.snapshot(); m > 0 {
			errs.add("warm-up: %d errors, first: %s", m, strings.Join(first, "; "))
		}
		r, err := countRequestsAcross(ctx, servers, cfg.InstrConns, rep.Reads, get, errs)
		if err != nil {
			return 0, 0, err
		}
		p, err := countRequestsAcross(ctx, servers, cfg.InstrConns, rep.Prefills, post, errs)
		if err != nil {
			return 0, 0, err
		}
		read, pre = round1(max(r.raw-r.idle, 0)), round1(max(p.raw-p.idle, 0))
		logf("scale-out under callgrind, %d process(es): %.0f instructions per GET (%.0f counted), %.0f per prefill (%.0f counted)",
			n, read, r.raw, pre, p.raw)
		return read, pre, nil
	}
	if rep.Read1, rep.Prefill1, err = countWith(1); err != nil {
		return rep, err
	}
	if rep.Read2, rep.Prefill2, err = countWith(2); err != nil {
		return rep, err
	}
	if rep.Read1 > 0 && rep.Prefill1 > 0 {
		rep.ReadRatio, rep.PrefillRatio = round3(rep.Read2/rep.Read1), round3(rep.Prefill2/rep.Prefill1)
	}
	rep.PassRead = rep.ReadRatio > 0 && rep.ReadRatio <= TargetScaleOutRead*scaleOutInstrSlack
	rep.PassPrefill = rep.PrefillRatio > 0 && rep.PrefillRatio <= TargetScaleOutPrefill*scaleOutInstrSlack
	return rep, nil
}

// RunScaleOutOnly is the scale-out part of RunScale alone, on the PostgreSQL database of
// cfg.PostgresDSN.
func RunScaleOutOnly(ctx context.Context, cfg ScaleConfig) (*ScaleOutReport, error) {
	if cfg.PostgresDSN == "" {
		return nil, fmt.Errorf("the scale-out figure needs PostgreSQL")
	}
	return RunScaleOut(ctx, cfg, cfg.PostgresDSN)
}

// WriteText writes the scale-out figures beside their targets.
func (r *ScaleOutReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	r.write(func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) })
	return tw.Flush()
}

func (r *ScaleOutReport) write(p func(string, ...any)) {
	p("scale-out on PostgreSQL\t%d workers, %d × %.1f s per phase and way, load spread over the processes, %d cores", r.Workers, r.Rounds, r.Seconds, r.Cores)
	p("  GET sales unit, server CPU per request\tone process %.1f µs, two %.1f µs\tratio %.3f, target <= %.2f\t%s",
		r.One.ReadCPU, r.Split.ReadCPU, r.ReadRatio, TargetScaleOutRead, verdict(r.PassRead))
	p("  prefill, server CPU per request\tone process %.1f µs, two %.1f µs\tratio %.3f, target <= %.2f\t%s",
		r.One.PrefillCPU, r.Split.PrefillCPU, r.PrefillRatio, TargetScaleOutPrefill, verdict(r.PassPrefill))
	p("  each way\tGET: CPU µs (system), context switches, per s\tprefill: CPU µs (system), context switches, per s")
	for _, w := range []struct {
		name string
		r    ScaleOutRun
	}{{"one process", r.One}, {"one, half the callers", r.Half}, {"two", r.Split}, {"two, GOMAXPROCS unset", r.Unsplit}} {
		p("  %s (GOMAXPROCS=%d, %d callers)\t%.1f (%.1f), %.2f, %.0f/s\t%.1f (%.1f), %.2f, %.0f/s", w.name, w.r.GOMAXPROCS, w.r.Workers,
			w.r.ReadCPU, w.r.ReadSys, w.r.ReadSwitch, w.r.ReadRPS, w.r.PrefillCPU, w.r.PrefillSys, w.r.PreSwitch, w.r.PrefillRPS)
	}
	if r.SyscallsSkipped != "" {
		p("  syscalls per GET\tnot counted: %s", r.SyscallsSkipped)
	} else {
		for _, w := range []struct {
			name string
			r    ScaleOutRun
		}{{"one process", r.One}, {"one, half the callers", r.Half}, {"two", r.Split}, {"two, GOMAXPROCS unset", r.Unsplit}} {
			p("  syscalls per GET, %s\t%s", w.name, w.r.ReadSyscalls)
		}
	}
	if in := r.Instr; in.Skipped != "" {
		p("  instructions per request\tnot counted: %s", in.Skipped)
	} else {
		p("  instructions per request\t%d GETs and %d prefills, net of idle work, %s", in.Reads, in.Prefills, in.Tool)
		p("  GET sales unit, instructions per request\tone process %.0f, two %.0f\tratio %.3f, target <= %.2f\t%s",
			in.Read1, in.Read2, in.ReadRatio, TargetScaleOutRead, verdict(in.PassRead))
		p("  prefill, instructions per request\tone process %.0f, two %.0f\tratio %.3f, target <= %.2f\t%s",
			in.Prefill1, in.Prefill2, in.PrefillRatio, TargetScaleOutPrefill, verdict(in.PassPrefill))
	}
	if r.Errors > 0 {
		p("  errors\t%d\tfirst: %s", r.Errors, strings.Join(r.FirstErrors, "; "))
	}
}
