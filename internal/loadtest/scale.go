package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Targets of the scale run.
const (
	TargetGetRatio     = 0.8      // authenticated GET /sales-units/{msn} vs the bare handler, requests/s
	TargetListExtraRSS = 64 << 20 // bytes the 100,000-unit list may add to the server's RSS
	TargetPrefillRate  = 2000     // prefills per second on SQLite
	// TargetPrefillBareRatio: prefills/s on SQLite against a bare loop of one transaction per
	// insert with the same statements, driver and pragmas on the same disk, in the same run.
	TargetPrefillBareRatio = 1.0
	TargetPrefillCPU       = 200                // server CPU per prefill on SQLite, µs
	TargetSoakGrowth       = TargetListExtraRSS // RSS the soak may add
)

// ScaleConfig sizes a scale run. Zero fields take the defaults of the full run.
type ScaleConfig struct {
	Bin            string        // vippsmgmt binary
	Dir            string        // for the databases and logs; removed by the caller
	Units          int           // sales units of the seeded partner (100,000)
	Conns          int           // connections of the GET comparison (32)
	Phase          time.Duration // length of one measured round (5 s)
	Rounds         int           // rounds per side, alternating bare and authenticated, and of each scale-out way (2)
	ListRuns       int           // full list downloads (3)
	PrefillWorkers int           // concurrent prefill callers (16)
	Prefill        time.Duration // length of each prefill measurement (5 s)
	PostgresDSN    string        // database for the PostgreSQL prefill; "" skips it
	PostgresNote   string        // how that server is configured, for the report
	Bare           BareCommand   // runs the baseline in its own process; nil: in this process
	DiscardLog     bool          // send the server's request log nowhere instead of a file
	InstrRequests  int           // requests counted by callgrind per side (10,000; the scale-out count takes half as many GETs and a tenth as many prefills); < 0 skips the count
	InstrConns     int           // connections of the callgrind count (4)
	Orders         int           // product orders of the seeded partner for the v2 list (100,000)
	StartupRuns    int           // starts on a fresh database (5)
	Progress       io.Writer     // one line per step; nil: silent
}

// orDefault gives a config field left zero (or negative) its default.
func orDefault[T int | uint64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// silentIfNil makes a progress writer left nil write nowhere.
func silentIfNil(w *io.Writer) {
	if *w == nil {
		*w = io.Discard
	}
}

// progressf is the progress log of a run: one line per call on w.
func progressf(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
}

// SetDefaults gives the fields left zero their defaults. The runs call it; a command calls it
// first, so that its flags show the same defaults.
func (c *ScaleConfig) SetDefaults() {
	orDefault(&c.Units, 100000)
	orDefault(&c.Conns, 32)
	orDefault(&c.Rounds, 2)
	orDefault(&c.ListRuns, 3)
	orDefault(&c.PrefillWorkers, 16)
	if c.InstrRequests == 0 { // negative skips the count
		c.InstrRequests = 10000
	}
	orDefault(&c.InstrConns, 4)
	orDefault(&c.Orders, 100000)
	orDefault(&c.StartupRuns, 5)
	orDefault(&c.Phase, 5*time.Second)
	orDefault(&c.Prefill, 5*time.Second)
	silentIfNil(&c.Progress)
}

// Machine says where figures were measured.
type Machine struct {
	Date   string `json:"date"`
	OS     string `json:"os"`
	CPUs   int    `json:"cpus"`
	Go     string `json:"go"`
	Kernel string `json:"kernel,omitempty"`
}

func machine() Machine {
	return Machine{Date: time.Now().UTC().Format(time.RFC3339), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPUs: runtime.NumCPU(), Go: runtime.Version(), Kernel: kernel()}
}

// ScaleReport is the result of a scale run.
type ScaleReport struct {
	Machine     Machine           `json:"machine"`
	Units       int               `json:"units"`
	SeedSeconds float64           `json:"seedSeconds"`
	Get         GetReport         `json:"get"`
	Instr       InstructionReport `json:"instructions"`
	List        ListReport        `json:"list"`
	OrderList   ListReport        `json:"orderList"`
	Startup     StartupReport     `json:"startup"`
	ScaleOut    *ScaleOutReport   `json:"scaleOut,omitempty"`
	Prefill     []PrefillReport   `json:"prefill"`
}

// GetReport compares GET /management/v1/sales-units/{msn} with a bare handler serving its bytes.
type GetReport struct {
	Conns        int       `json:"conns"`
	Rounds       int       `json:"rounds"`
	PhaseSeconds float64   `json:"phaseSeconds"`
	Bytes        int       `json:"bytes"`
	AuthRPS      float64   `json:"authRps"`
	BareRPS      float64   `json:"bareRps"`
	AuthRounds   []float64 `json:"authRoundsRps"`
	BareRounds   []float64 `json:"bareRoundsRps"`
	Ratio        float64   `json:"ratio"`
	AuthCPU      float64   `json:"authServerCpuUsPerRequest"` // server process CPU per request, µs
	BareCPU      float64   `json:"bareServerCpuUsPerRequest"` // 0 when the baseline ran in this process
	AuthGenCPU   float64   `json:"authLoadCpuUsPerRequest"`   // the load generator's own CPU per request
	BareGenCPU   float64   `json:"bareLoadCpuUsPerRequest"`
	// CPURatio is the ratio the CPU costs predict when nothing else runs on the machine:
	// (bare server + generator) / (authenticated server + generator) per request.
	CPURatio    float64   `json:"cpuCostRatio"`
	RoundRatios []float64 `json:"roundRatios"`
	Target      float64   `json:"target"`
	Pass        bool      `json:"pass"`
	Errors      int       `json:"errors"`
	FirstErrors []string  `json:"firstErrors,omitempty"`
}

// ListReport is the full list of the seeded partner's sales units.
type ListReport struct {
	Path         string  `json:"path"`
	Units        int     `json:"units"`
	Bytes        int     `json:"bytes"`
	Runs         int     `json:"runs"`
	FirstSeconds float64 `json:"firstSeconds"`
	BestSeconds  float64 `json:"bestSeconds"`
	RSSBefore    uint64  `json:"rssBeforeBytes"`
	RSSPeak      uint64  `json:"rssPeakBytes"`
	ExtraRSS     uint64  `json:"extraRssBytes"`
	Target       uint64  `json:"targetExtraRssBytes"`
	Pass         bool    `json:"pass"`
}

// PrefillReport is POST /management/v1/product-orders on one database.
type PrefillReport struct {
	Backend     string    `json:"backend"`
	Workers     int       `json:"workers"`
	Seconds     float64   `json:"seconds"`
	Created     int64     `json:"created"`
	PerSecond   float64   `json:"perSecond"`
	Target      float64   `json:"target,omitempty"` // 0: none
	Pass        bool      `json:"pass"`
	Errors      int       `json:"errors"`
	FirstErrors []string  `json:"firstErrors,omitempty"`
	ServerCPU   float64   `json:"serverCpuUsPerRequest"`
	Note        string    `json:"note,omitempty"`
	Rounds      []float64 `json:"roundsPerSecond,omitempty"`
	// The bare loop (SQLite): one transaction per insert, same statements, driver, pragmas and
	// disk, alternating with the server's rounds.
	BareLoop   float64   `json:"bareLoopPerSecond,omitempty"`
	BareRounds []float64 `json:"bareLoopRoundsPerSecond,omitempty"`
	BareRatio  float64   `json:"bareLoopRatio,omitempty"`
	BareTarget float64   `json:"targetBareLoopRatio,omitempty"` // 0: none
	PassBare   bool      `json:"passBareLoop,omitempty"`
	CPUTarget  float64   `json:"targetServerCpuUs,omitempty"` // 0: none
	PassCPU    bool      `json:"passServerCpu,omitempty"`
	// PerTransaction is prefills per transaction on SQLite, from the server's metrics.
	PerTransaction float64 `json:"prefillsPerTransaction,omitempty"`
}

// Pass reports whether every figure meets its target and nothing failed.
func (r *ScaleReport) Pass() bool {
	ok := r.Get.Pass && r.List.Pass && r.OrderList.Pass && r.Startup.Pass && r.Startup.PassRSS &&
		(r.ScaleOut == nil || r.ScaleOut.Pass()) && r.Get.Errors == 0 && (r.Instr.Skipped != "" || r.Instr.Pass)
	return ok && prefillsPass(r.Prefill)
}

func prefillsPass(prefills []PrefillReport) bool {
	ok := true
	for _, p := range prefills {
		ok = ok && p.Errors == 0 && (p.Target == 0 || p.Pass) && (p.BareTarget == 0 || p.PassBare) && (p.CPUTarget == 0 || p.PassCPU)
	}
	return ok
}

// RunScale seeds a partner with cfg.Units sales units on a fresh SQLite database, starts the server
// on it and measures the authenticated GET against the bare handler, the full list and the
// prefill rate; then the prefill rate again on PostgreSQL when a DSN is given.
func RunScale(ctx context.Context, cfg ScaleConfig) (*ScaleReport, error) {
	cfg.SetDefaults()
	rep := &ScaleReport{Machine: machine(), Units: cfg.Units}
	logf := progressf(cfg.Progress)

	var err error
	if rep.Startup, err = measureStartup(ctx, cfg, cfg.StartupRuns, logf); err != nil {
		return nil, err
	}
	dsn := "sqlite:" + filepath.Join(cfg.Dir, "scale.db")
	logf("seeding %d sales units on SQLite", cfg.Units)
	seed, err := Seed(ctx, dsn, "load-partner", cfg.Units)
	if err != nil {
		return nil, err
	}
	rep.SeedSeconds = seed.Took.Seconds()
	logf("seeded in %.2f s; starting the server", rep.SeedSeconds)
	srv, err := StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn, LogPath: cfg.logPath("scale-sqlite")})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	client := newClient(max(cfg.Conns, cfg.PrefillWorkers) + 2)
	defer client.CloseIdleConnections()
	hdr, err := classicAuth(ctx, client, srv.URL, seed.Keys)
	if err != nil {
		return nil, err
	}

	if rep.Get, err = measureGet(ctx, cfg, client, srv.URL, srv.PID, hdr, seed.FirstMSN, logf); err != nil {
		return nil, err
	}
	if rep.List, err = measureList(ctx, cfg, client, srv, hdr, logf); err != nil {
		return nil, err
	}
	if rep.OrderList, err = measureOrderList(ctx, cfg, client, srv, dsn, seed, hdr, logf); err != nil {
		return nil, err
	}
	if rep.Prefill, err = measureSQLitePrefill(ctx, cfg, client, srv, hdr, logf); err != nil {
		return nil, err
	}
	if cfg.InstrRequests > 0 {
		if rep.Instr, err = measureInstructions(ctx, cfg, dsn, seed, logf); err != nil {
			return nil, err
		}
	} else {
		rep.Instr.Skipped = "not asked for"
	}

	if cfg.PostgresDSN != "" {
		p, err := RunPrefill(ctx, cfg, cfg.PostgresDSN, "postgres")
		if err != nil {
			return nil, err
		}
		rep.Prefill = append(rep.Prefill, *p)
		if rep.ScaleOut, err = RunScaleOut(ctx, cfg, cfg.PostgresDSN); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// measureSQLitePrefill measures the server's prefills on SQLite against the bare loop, whose
// database it creates beside the server's, and returns them as the first of the prefill figures.
// It is the last measurement of srv, which it stops, so that srv takes no CPU from the next one.
func measureSQLitePrefill(ctx context.Context, cfg ScaleConfig, client *http.Client, srv *Process, hdr http.Header,
	logf func(string, ...any)) ([]PrefillReport, error) {
	defer func() {
		if err := srv.Stop(); err != nil {
			logf("server stop: %v", err)
		}
	}()
	bare, err := openBareLoop(ctx, "sqlite:"+filepath.Join(cfg.Dir, "bare-loop.db"), srv.URL)
	if err != nil {
		return nil, err
	}
	defer bare.Close()
	p, err := measurePrefill(ctx, cfg, client, srv.URL, srv.PID, hdr, "sqlite", bare, logf)
	if err != nil {
		return nil, err
	}
	p.Target = TargetPrefillRate
	p.Pass = p.PerSecond >= p.Target
	p.BareTarget, p.PassBare = TargetPrefillBareRatio, p.BareRatio >= TargetPrefillBareRatio
	p.CPUTarget, p.PassCPU = TargetPrefillCPU, p.ServerCPU <= TargetPrefillCPU
	p.Note = "synchronous=FULL: every commit is fsynced; concurrent prefills share a transaction"
	return []PrefillReport{p}, nil
}

// PrefillRunReport is the prefill part of a scale run alone.
type PrefillRunReport struct {
	Machine Machine         `json:"machine"`
	Prefill []PrefillReport `json:"prefill"`
}

// Pass reports whether every prefill figure meets its target.
func (r *PrefillRunReport) Pass() bool { return prefillsPass(r.Prefill) }

// RunPrefillOnly measures what RunScale measures of prefills, without the rest: SQLite against
// the bare loop, then PostgreSQL when a DSN is given.
func RunPrefillOnly(ctx context.Context, cfg ScaleConfig) (*PrefillRunReport, error) {
	cfg.SetDefaults()
	rep := &PrefillRunReport{Machine: machine()}
	logf := progressf(cfg.Progress)
	dsn := "sqlite:" + filepath.Join(cfg.Dir, "prefill.db")
	seed, err := Seed(ctx, dsn, "load-partner", 10)
	if err != nil {
		return nil, err
	}
	srv, client, hdr, err := startPrefillServer(ctx, cfg, dsn, "sqlite", seed)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	defer client.CloseIdleConnections()
	if rep.Prefill, err = measureSQLitePrefill(ctx, cfg, client, srv, hdr, logf); err != nil {
		return nil, err
	}
	if cfg.PostgresDSN != "" {
		p, err := RunPrefill(ctx, cfg, cfg.PostgresDSN, "postgres")
		if err != nil {
			return nil, err
		}
		rep.Prefill = append(rep.Prefill, *p)
	}
	return rep, nil
}

// RunPrefill measures prefills per second on its own server over dsn, a database holding no other
// load test's partner of that backend's name: what RunScale does for PostgreSQL.
func RunPrefill(ctx context.Context, cfg ScaleConfig, dsn, backend string) (*PrefillReport, error) {
	cfg.SetDefaults()
	logf := progressf(cfg.Progress)
	logf("seeding %s", backend)
	seed, err := Seed(ctx, dsn, "load-partner-"+backend, 10)
	if err != nil {
		return nil, err
	}
	srv, client, hdr, err := startPrefillServer(ctx, cfg, dsn, backend, seed)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	defer client.CloseIdleConnections()
	p, err := measurePrefill(ctx, cfg, client, srv.URL, srv.PID, hdr, backend, nil, logf)
	if err != nil {
		return nil, err
	}
	p.Pass = p.Errors == 0
	p.Note = cfg.PostgresNote
	return &p, nil
}

// startPrefillServer starts the server on dsn with a client for cfg.PrefillWorkers callers and the
// headers of seed's partner; the caller stops the server and closes the client's connections.
func startPrefillServer(ctx context.Context, cfg ScaleConfig, dsn, backend string, seed *Seeded) (*Process, *http.Client, http.Header, error) {
	srv, err := StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn, LogPath: cfg.logPath("prefill-" + backend)})
	if err != nil {
		return nil, nil, nil, err
	}
	client := newClient(cfg.PrefillWorkers + 2)
	hdr, err := classicAuth(ctx, client, srv.URL, seed.Keys)
	if err != nil {
		client.CloseIdleConnections()
		srv.Stop()
		return nil, nil, nil, err
	}
	return srv, client, hdr, nil
}

func (c *ScaleConfig) logPath(name string) string {
	if c.DiscardLog {
		return ""
	}
	return filepath.Join(c.Dir, name+".log")
}

func measureGet(ctx context.Context, cfg ScaleConfig, client *http.Client, base string, serverPID int, hdr http.Header, msn string,
	logf func(string, ...any)) (GetReport, error) {
	rep := GetReport{Conns: cfg.Conns, Rounds: cfg.Rounds, PhaseSeconds: cfg.Phase.Seconds(), Target: TargetGetRatio}
	path := "/management/v1/sales-units/" + msn
	// The bytes the real handler answers are what the bare handler serves.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	req.Header = hdr.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return rep, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return rep, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	rep.Bytes = len(body)
	bare, err := startBare(ctx, cfg.Bare, resp.Header.Get("Content-Type"), body, cfg.Dir)
	if err != nil {
		return rep, err
	}
	defer bare.stop()

	cpu := func(pid int) time.Duration {
		if pid == 0 {
			return 0
		}
		d, _ := ReadCPU(pid)
		return d
	}
	run := func(url string, h http.Header, d time.Duration) closedLoopResult {
		get := getExpecting(client, getPerConn(ctx, url+path, h, cfg.Conns), len(body))
		return closedLoop(cfg.Conns, d, func(w, _ int) error { return get(w) })
	}
	// Both get the same requests, headers included: reading a request's token and subscription
	// key is part of any handler of this API. Warm both: connections, caches, the runtime's heap.
	warm := min(cfg.Phase/2, time.Second)
	run(bare.URL, hdr, warm)
	run(base, hdr, warm)
	var authN, bareN int64
	var authT, bareT, authCPU, bareCPU, authGen, bareGen time.Duration
	self := os.Getpid()
	for round := 0; round < cfg.Rounds; round++ {
		c0, g0 := cpu(bare.PID), cpu(self)
		b := run(bare.URL, hdr, cfg.Phase)
		c1, g1 := cpu(serverPID), cpu(self)
		a := run(base, hdr, cfg.Phase)
		c2, g2 := cpu(serverPID), cpu(self)
		bareCPU += cpu(bare.PID) - c0
		authCPU += c2 - c1
		bareGen += g1 - g0
		authGen += g2 - g1
		bareN, bareT = bareN+b.Requests, bareT+b.Elapsed
		authN, authT = authN+a.Requests, authT+a.Elapsed
		rep.BareRounds = append(rep.BareRounds, round1(b.rate()))
		rep.AuthRounds = append(rep.AuthRounds, round1(a.rate()))
		rep.RoundRatios = append(rep.RoundRatios, round3(a.rate()/b.rate()))
		rep.Errors += a.Errors + b.Errors
		rep.FirstErrors = append(rep.FirstErrors, a.First...)
		rep.FirstErrors = append(rep.FirstErrors, b.First...)
		logf("GET round %d: authenticated %.0f req/s, bare %.0f req/s", round+1, a.rate(), b.rate())
	}
	rep.AuthRPS = round1(float64(authN) / authT.Seconds())
	rep.BareRPS = round1(float64(bareN) / bareT.Seconds())
	rep.Ratio = round3(rep.AuthRPS / rep.BareRPS)
	rep.Pass = rep.Ratio >= rep.Target && rep.Errors == 0
	if authN > 0 && bareN > 0 {
		rep.AuthCPU = round1(float64(authCPU.Microseconds()) / float64(authN))
		rep.BareCPU = round1(float64(bareCPU.Microseconds()) / float64(bareN))
		rep.AuthGenCPU = round1(float64(authGen.Microseconds()) / float64(authN))
		rep.BareGenCPU = round1(float64(bareGen.Microseconds()) / float64(bareN))
		if rep.AuthCPU+rep.AuthGenCPU > 0 {
			rep.CPURatio = round3((rep.BareCPU + rep.BareGenCPU) / (rep.AuthCPU + rep.AuthGenCPU))
		}
	}
	return rep, nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// measureList downloads the whole list cfg.ListRuns times, checking it is a complete JSON array of
// the seeded units in MSN order, and reads the server's peak RSS meanwhile.
func measureList(ctx context.Context, cfg ScaleConfig, client *http.Client, srv *Process, hdr http.Header,
	logf func(string, ...any)) (ListReport, error) {
	return watchList(ctx, cfg, client, srv, hdr, "/management/v1/sales-units", cfg.Units, checkList, logf)
}

// measureOrderList adds cfg.Orders product orders to the seeded partner (the server reads them
// from the database it shares) and downloads GET /management/v2/product-orders as measureList
// does, checking every order comes once, newest first.
func measureOrderList(ctx context.Context, cfg ScaleConfig, client *http.Client, srv *Process, dsn string, seed *Seeded,
	hdr http.Header, logf func(string, ...any)) (ListReport, error) {
	logf("seeding %d product orders", cfg.Orders)
	took, err := SeedOrders(ctx, dsn, seed, cfg.Orders)
	if err != nil {
		return ListReport{}, err
	}
	logf("seeded in %.2f s", took.Seconds())
	return watchList(ctx, cfg, client, srv, hdr, "/management/v2/product-orders", cfg.Orders, checkOrderList, logf)
}

// getPerConn makes one GET of url per connection, each with its own copy of the headers.
func getPerConn(ctx context.Context, url string, h http.Header, conns int) []*http.Request {
	reqs := make([]*http.Request, conns)
	for i := range reqs {
		reqs[i], _ = http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		reqs[i].Header = h.Clone()
	}
	return reqs
}

// getExpecting sends connection w's request and checks the answer is 200 with size bytes, as
// every answer of a GET compared against the bare handler must be.
func getExpecting(c *http.Client, reqs []*http.Request, size int) func(w int) error {
	return func(w int) error {
		resp, err := c.Do(reqs[w])
		if err != nil {
			return err
		}
		n := drain(resp)
		if resp.StatusCode != http.StatusOK || n != int64(size) {
			return fmt.Errorf("GET %s: status %d, %d bytes", reqs[w].URL.Path, resp.StatusCode, n)
		}
		return nil
	}
}

// checkItems verifies a list answer of route: 200, a complete JSON array of n items, each of
// which passes check (given its index).
func checkItems[T any](route, items string, resp *http.Response, body []byte, n int, check func(int, T) bool) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %.200s", route, resp.StatusCode, body)
	}
	var list []T
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("%s: not a complete JSON array (%d bytes): %w", route, len(body), err)
	}
	if len(list) != n {
		return fmt.Errorf("%s: %d %s, want %d", route, len(list), items, n)
	}
	for i, item := range list {
		if !check(i, item) {
			return fmt.Errorf("%s: item %d is %+v", route, i, item)
		}
	}
	return nil
}

// listedOrder is what checkOrderList reads of an order in the list.
type listedOrder struct {
	ID     string `json:"productOrderId"`
	Status string `json:"status"`
}

// checkOrderList verifies a v2 order list: a complete JSON array of n distinct orders.
func checkOrderList(resp *http.Response, body []byte, n int) error {
	seen := make(map[string]bool, n)
	return checkItems("GET /management/v2/product-orders", "orders", resp, body, n, func(_ int, o listedOrder) bool {
		ok := o.ID != "" && !seen[o.ID] && o.Status == "RECEIVED"
		seen[o.ID] = true
		return ok
	})
}

// watchList downloads path cfg.ListRuns times, checking each answer, and reads the server's peak
// RSS meanwhile.
func watchList(ctx context.Context, cfg ScaleConfig, client *http.Client, srv *Process, hdr http.Header, path string, n int,
	check func(*http.Response, []byte, int) error, logf func(string, ...any)) (ListReport, error) {
	rep := ListReport{Path: path, Units: n, Runs: cfg.ListRuns, Target: TargetListExtraRSS}
	before, err := srv.Mem()
	if err != nil {
		return rep, err
	}
	rep.RSSBefore = before.RSS
	// clear_refs resets VmHWM; sampling covers kernels where it cannot.
	resetOK := srv.ResetPeak() == nil
	var sampled atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := srv.Mem(); err == nil && m.RSS > sampled.Load() {
				sampled.Store(m.RSS)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	for run := 0; run < cfg.ListRuns; run++ {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		req.Header = hdr.Clone()
		resp, err := client.Do(req)
		if err != nil {
			close(stop)
			return rep, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			close(stop)
			return rep, fmt.Errorf("GET %s: %w after %d bytes", path, err, len(body))
		}
		if err := check(resp, body, n); err != nil {
			close(stop)
			return rep, err
		}
		rep.Bytes = len(body)
		if run == 0 {
			rep.FirstSeconds = took.Seconds()
		}
		if rep.BestSeconds == 0 || took.Seconds() < rep.BestSeconds {
			rep.BestSeconds = took.Seconds()
		}
		logf("GET %s, %d items: %.3f s, %d bytes", path, n, took.Seconds(), len(body))
	}
	close(stop)
	wg.Wait()
	after, err := srv.Mem()
	if err != nil {
		return rep, err
	}
	rep.RSSPeak = max(sampled.Load(), after.RSS)
	if resetOK {
		rep.RSSPeak = max(rep.RSSPeak, after.Peak)
	}
	if rep.RSSPeak > rep.RSSBefore {
		rep.ExtraRSS = rep.RSSPeak - rep.RSSBefore
	}
	rep.Pass = rep.ExtraRSS < rep.Target
	return rep, nil
}

// listedUnit is what checkList reads of a sales unit in the list.
type listedUnit struct {
	MSN  string `json:"msn"`
	Name string `json:"name"`
}

// checkList verifies a sales-unit list answer: a complete JSON array with every unit once, in
// MSN order, and the right content type.
func checkList(resp *http.Response, body []byte, units int) error {
	err := checkItems("GET /management/v1/sales-units", "units", resp, body, units, func(i int, u listedUnit) bool {
		return u.MSN == unitMSN(i) && u.Name == "Shop "+strconv.Itoa(i)
	})
	if err != nil {
		return err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		return fmt.Errorf("GET /management/v1/sales-units: Content-Type %q", ct)
	}
	return nil
}

// prefillBody is a complete, valid prefill; each request differs only in its Idempotency-Key.
var prefillBody = []byte(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654317"},` +
	`"productType":"PAYMENT_INTEGRATION","salesUnitName":"Load test shop","productUseCase":"Website",` +
	`"website":{"url":"https://shop.example.com","termsUrl":"https://shop.example.com/terms"},` +
	`"annualTurnover":2500000,"annualTurnoverPercentage":"40","merchantCategoryCode":"5942",` +
	`"intendedPurpose":"Books sold on the website.","hasRecurring":false,` +
	`"settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"}}`)

// runID keeps Idempotency-Keys of separate runs on one database apart.
var runID = strconv.FormatInt(time.Now().UnixNano()%1e9, 36)

// prefill sends one POST /management/v1/product-orders and returns the new order's id.
func prefill(ctx context.Context, client *http.Client, base string, hdr http.Header, key string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/management/v1/product-orders", bytes.NewReader(prefillBody))
	if err != nil {
		return "", err
	}
	req.Header = hdr.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	return answerField(client, req, http.StatusCreated, "prefilledOrderId")
}

// measurePrefill runs prefills from cfg.PrefillWorkers workers against the server. With bare set
// (SQLite), it alternates cfg.Rounds rounds of the server with as many of the bare loop, and
// compares the two rates of the same run.
func measurePrefill(ctx context.Context, cfg ScaleConfig, client *http.Client, base string, serverPID int, hdr http.Header, backend string,
	bare *bareLoop, logf func(string, ...any)) (PrefillReport, error) {
	rep := PrefillReport{Backend: backend, Workers: cfg.PrefillWorkers}
	run := func(phase string, d time.Duration) closedLoopResult {
		return closedLoop(cfg.PrefillWorkers, d, func(w, i int) error {
			_, err := prefill(ctx, client, base, hdr, fmt.Sprintf("%s-%s-%s-%d-%d", runID, backend, phase, w, i))
			return err
		})
	}
	warm := min(cfg.Prefill/4, time.Second)
	if w := run("w", warm); w.Errors > 0 {
		return rep, fmt.Errorf("prefill warm-up on %s: %d errors, first: %v", backend, w.Errors, w.First)
	}
	rounds := 1
	if bare != nil {
		rounds = max(cfg.Rounds, 1)
		if _, err := bare.run(ctx, "w", warm); err != nil {
			return rep, err
		}
	}
	var (
		n, bareN             int64
		elapsed, bareElapsed time.Duration
		cpu                  time.Duration
	)
	tx0, orders0, grouped := prefillTransactions(ctx, client, base)
	for round := 1; round <= rounds; round++ {
		if bare != nil {
			b, err := bare.run(ctx, fmt.Sprint("m", round), cfg.Prefill)
			if err != nil {
				return rep, err
			}
			bareN, bareElapsed = bareN+b.Requests, bareElapsed+b.Elapsed
			rep.BareRounds = append(rep.BareRounds, round1(b.rate()))
			logf("bare loop, one transaction per insert: %d in %.2f s: %.0f/s", b.Requests, b.Elapsed.Seconds(), b.rate())
		}
		c0, _ := ReadCPU(serverPID)
		r := run(fmt.Sprint("m", round), cfg.Prefill)
		c1, _ := ReadCPU(serverPID)
		cpu += c1 - c0
		n, elapsed = n+r.Requests, elapsed+r.Elapsed
		rep.Errors += r.Errors
		rep.FirstErrors = append(rep.FirstErrors, r.First...)
		rep.Rounds = append(rep.Rounds, round1(r.rate()))
		logf("prefill on %s: %d created in %.2f s: %.0f/s", backend, r.Requests, r.Elapsed.Seconds(), r.rate())
	}
	if n > 0 {
		rep.ServerCPU = round1(float64(cpu.Microseconds()) / float64(n))
	}
	rep.Seconds = elapsed.Seconds()
	rep.Created = n
	rep.PerSecond = round1(float64(n) / elapsed.Seconds())
	if bare != nil && bareN > 0 {
		rep.BareLoop = round1(float64(bareN) / bareElapsed.Seconds())
		rep.BareRatio = round3(rep.PerSecond / rep.BareLoop)
	}
	if tx1, orders1, ok := prefillTransactions(ctx, client, base); grouped && ok && tx1 > tx0 {
		rep.PerTransaction = round1((orders1 - orders0) / (tx1 - tx0))
	}
	return rep, nil
}

// prefillTransactions reads the server's count of SQLite prefill transactions and of the prefills
// they stored from /metrics; ok is false where the server has none (PostgreSQL).
func prefillTransactions(ctx context.Context, client *http.Client, base string) (transactions, prefills float64, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, 0, false
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	var gotTx, gotPrefills bool
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), " ")
		if !found {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "vippsmgmt_sqlite_prefill_transactions_total":
			transactions, gotTx = v, true
		case "vippsmgmt_sqlite_prefills_total":
			prefills, gotPrefills = v, true
		}
	}
	return transactions, prefills, gotTx && gotPrefills
}
