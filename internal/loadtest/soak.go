package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// SoakConfig sizes a soak run. Zero fields take the defaults.
type SoakConfig struct {
	Bin         string
	Dir         string        // for the database and the log; removed by the caller
	Duration    time.Duration // measured time (60 s), after a warm-up of a tenth of it (at most 5 s)
	Rate        int           // requests per second over the whole mix (200)
	Partners    int           // partners the requests are spread over (10)
	Units       int           // sales units of each partner (1,000)
	MaxInFlight int           // requests outstanding at once; a tick finding all busy is an error (256)
	PostgresDSN string        // run on this PostgreSQL database instead of a fresh SQLite file
	DiscardLog  bool
	Progress    io.Writer
	SampleEvery time.Duration // RSS samples (5 s)
}

// SetDefaults gives the fields left zero their defaults. The runs call it; a command calls it
// first, so that its flags show the same defaults.
func (c *SoakConfig) SetDefaults() {
	orDefault(&c.Duration, 60*time.Second)
	orDefault(&c.Rate, 200)
	orDefault(&c.Partners, 10)
	orDefault(&c.Units, 1000)
	orDefault(&c.MaxInFlight, 256)
	orDefault(&c.SampleEvery, 5*time.Second)
	silentIfNil(&c.Progress)
}

// The request kinds of the mix and their weights in percent.
const (
	KindToken        = "token"         // POST /accesstoken/get
	KindList         = "list"          // GET /management/v1/sales-units
	KindSalesUnit    = "sales-unit"    // GET /management/v1/sales-units/{msn}
	KindOrderDetails = "order-details" // GET /management/v2/product-orders/{id}/details
	KindPrefill      = "prefill"       // POST /management/v1/product-orders
	KindOrders       = "orders"        // GET /management/v2/product-orders
)

// Mix is the share of each kind, in percent.
var Mix = []struct {
	Kind   string
	Weight int
}{
	{KindToken, 5}, {KindList, 30}, {KindSalesUnit, 15}, {KindOrderDetails, 15}, {KindPrefill, 15}, {KindOrders, 20},
}

// SoakReport is the result of a soak run.
type SoakReport struct {
	Machine       Machine               `json:"machine"`
	Backend       string                `json:"backend"`
	Seconds       float64               `json:"seconds"`
	Rate          int                   `json:"rate"`
	Partners      int                   `json:"partners"`
	Units         int                   `json:"unitsPerPartner"`
	Requests      int                   `json:"requests"`
	RPS           float64               `json:"rps"`
	Errors        int                   `json:"errors"`
	FirstErrors   []string              `json:"firstErrors,omitempty"`
	Overall       Percentiles           `json:"overall"`
	Kinds         map[string]KindReport `json:"kinds"`
	RSSIdle       uint64                `json:"rssIdleBytes"`
	RSSStart      uint64                `json:"rssStartBytes"`
	RSSEnd        uint64                `json:"rssEndBytes"`
	RSSMax        uint64                `json:"rssMaxBytes"`
	RSSSamples    []uint64              `json:"rssSamplesBytes"`
	Growth        int64                 `json:"rssGrowthBytes"`
	Target        int64                 `json:"targetGrowthBytes"`
	LogErrorLines int                   `json:"serverLogErrorLines"`
	// ServerCPU is the server's CPU time per measured request, in µs: a figure a shared, busy
	// machine changes far less than latency.
	ServerCPU float64 `json:"serverCpuUsPerRequest"`
	Pass      bool    `json:"pass"`
}

// KindReport is one kind of request in the soak.
type KindReport struct {
	Percentiles
	Errors int `json:"errors"`
}

// soakState is what the requests of a soak share.
type soakState struct {
	client   *http.Client
	base     string
	partners []*soakPartner
	seq      atomic.Int64
}

// soakPartner is one partner's side of the soak: its keys, latest token and recent orders.
type soakPartner struct {
	seed   *Seeded
	header atomic.Pointer[http.Header] // of the latest token

	mu     sync.Mutex
	orders []string // recent order ids, for details calls
	next   int
}

func (p *soakPartner) addOrder(id string) {
	p.mu.Lock()
	if len(p.orders) < 64 {
		p.orders = append(p.orders, id)
	} else {
		p.orders[p.next%len(p.orders)] = id
		p.next++
	}
	p.mu.Unlock()
}

func (p *soakPartner) order(r *rand.Rand) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.orders[r.IntN(len(p.orders))]
}

// do sends one request of kind for a random partner and checks its answer.
func (s *soakState) do(ctx context.Context, kind string, r *rand.Rand) error {
	p := s.partners[r.IntN(len(s.partners))]
	hdr := *p.header.Load()
	get := func(path string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
		if err != nil {
			return err
		}
		req.Header = hdr.Clone()
		resp, err := s.client.Do(req)
		if err != nil {
			return err
		}
		n := drain(resp)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		if n == 0 {
			return fmt.Errorf("GET %s: empty body", path)
		}
		return nil
	}
	switch kind {
	case KindToken:
		h, err := classicAuth(ctx, s.client, s.base, p.seed.Keys)
		if err != nil {
			return err
		}
		p.header.Store(&h)
		return nil
	case KindList:
		return get("/management/v1/sales-units")
	case KindSalesUnit:
		return get("/management/v1/sales-units/" + unitMSN(p.seed.First+r.IntN(p.seed.Units)))
	case KindOrderDetails:
		return get("/management/v2/product-orders/" + p.order(r) + "/details")
	case KindOrders:
		return get("/management/v2/product-orders")
	case KindPrefill:
		id, err := prefill(ctx, s.client, s.base, hdr, fmt.Sprintf("%s-soak-%d", runID, s.seq.Add(1)))
		if err == nil {
			p.addOrder(id)
		}
		return err
	}
	return fmt.Errorf("unknown kind %q", kind)
}

// RunSoak seeds cfg.Partners partners, starts the server and sends cfg.Rate requests per second of the Mix for
// cfg.Duration, open loop: each request leaves at its scheduled time whether or not earlier ones
// have returned, and its latency counts from that time, so a stalling server shows in the figures.
func RunSoak(ctx context.Context, cfg SoakConfig) (*SoakReport, error) {
	cfg.SetDefaults()
	logf := progressf(cfg.Progress)
	rep := &SoakReport{Machine: machine(), Backend: "sqlite", Rate: cfg.Rate, Partners: cfg.Partners, Units: cfg.Units,
		Target: TargetSoakGrowth,
		Kinds:  map[string]KindReport{}}
	dsn := "sqlite:" + filepath.Join(cfg.Dir, "soak.db")
	if cfg.PostgresDSN != "" {
		dsn, rep.Backend = cfg.PostgresDSN, "postgres"
	}
	ids := make([]string, cfg.Partners)
	for i := range ids {
		ids[i] = fmt.Sprintf("soak-%s-%d", runID, i)
	}
	seeds, err := SeedPartners(ctx, dsn, ids, cfg.Units)
	if err != nil {
		return nil, err
	}
	logPath := ""
	if !cfg.DiscardLog {
		logPath = filepath.Join(cfg.Dir, "soak-"+rep.Backend+".log")
	}
	srv, err := StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn, LogPath: logPath})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	if m, err := srv.Mem(); err == nil {
		rep.RSSIdle = m.RSS
	}
	st := &soakState{client: newClient(cfg.MaxInFlight), base: srv.URL}
	defer st.client.CloseIdleConnections()
	for _, seed := range seeds {
		p := &soakPartner{seed: seed}
		h, err := classicAuth(ctx, st.client, srv.URL, seed.Keys)
		if err != nil {
			return nil, err
		}
		p.header.Store(&h)
		for i := 0; i < 3; i++ {
			id, err := prefill(ctx, st.client, srv.URL, h, fmt.Sprintf("%s-soak-seed-%s-%d", runID, seed.PartnerID, i))
			if err != nil {
				return nil, err
			}
			p.addOrder(id)
		}
		st.partners = append(st.partners, p)
	}

	warm := min(cfg.Duration/10, 5*time.Second)
	logf("soak on %s: warming up for %s at %d req/s", rep.Backend, warm, cfg.Rate)
	w := openLoop(ctx, st, cfg, warm, 1)
	start, err := srv.Mem()
	if err != nil {
		return nil, err
	}
	rep.RSSStart, rep.RSSMax = start.RSS, start.RSS
	logf("measuring for %s; server RSS %.1f MiB", cfg.Duration, mib(start.RSS))

	samplerDone := make(chan struct{})
	stopSampler := make(chan struct{})
	go func() {
		defer close(samplerDone)
		t := time.NewTicker(cfg.SampleEvery)
		defer t.Stop()
		for {
			select {
			case <-stopSampler:
				return
			case <-t.C:
				if m, err := srv.Mem(); err == nil {
					rep.RSSSamples = append(rep.RSSSamples, m.RSS)
					rep.RSSMax = max(rep.RSSMax, m.RSS)
					logf("  RSS %.1f MiB", mib(m.RSS))
				}
			}
		}
	}()
	cpu0, cpuErr := ReadCPU(srv.PID)
	res := openLoop(ctx, st, cfg, cfg.Duration, 2)
	if cpu1, err := ReadCPU(srv.PID); err == nil && cpuErr == nil && res.requests > 0 {
		rep.ServerCPU = round1(float64((cpu1 - cpu0).Microseconds()) / float64(res.requests))
	}
	close(stopSampler)
	<-samplerDone
	end, err := srv.Mem()
	if err != nil {
		return nil, err
	}
	rep.RSSEnd = end.RSS
	rep.RSSMax = max(rep.RSSMax, end.RSS)
	rep.Growth = int64(rep.RSSEnd) - int64(rep.RSSStart)

	rep.Seconds = res.elapsed.Seconds()
	rep.RPS = round1(float64(res.requests) / rep.Seconds)
	rep.Requests = res.requests
	rep.Errors, rep.FirstErrors = res.errs.snapshot()
	we, wfirst := w.errs.snapshot()
	rep.Errors += we
	rep.FirstErrors = append(wfirst, rep.FirstErrors...)
	rep.Overall = res.all.percentiles()
	for _, m := range Mix {
		rep.Kinds[m.Kind] = KindReport{Percentiles: res.kinds[m.Kind].percentiles(), Errors: int(res.kindErrs[m.Kind].Load())}
	}
	if err := srv.Stop(); err != nil {
		logf("server stop: %v", err)
	}
	if logPath != "" {
		if n, err := CountLogErrors(logPath); err == nil {
			rep.LogErrorLines = n
		}
	}
	rep.Pass = rep.Errors == 0 && rep.Growth < rep.Target
	return rep, nil
}

type openLoopResult struct {
	requests int
	elapsed  time.Duration
	errs     errorLog
	all      latencies
	kinds    map[string]*latencies
	kindErrs map[string]*atomic.Int64
}

// openLoop sends cfg.Rate requests per second for d, picking kinds by weight with a fixed seed.
func openLoop(ctx context.Context, st *soakState, cfg SoakConfig, d time.Duration, seed uint64) *openLoopResult {
	res := &openLoopResult{kinds: map[string]*latencies{}, kindErrs: map[string]*atomic.Int64{}}
	var cum []int
	total := 0
	for _, m := range Mix {
		total += m.Weight
		cum = append(cum, total)
		res.kinds[m.Kind] = &latencies{}
		res.kindErrs[m.Kind] = &atomic.Int64{}
	}
	pick := rand.New(rand.NewPCG(seed, 42))
	sem := make(chan struct{}, cfg.MaxInFlight)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(cfg.Rate)
	start := time.Now()
	end := start.Add(d)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(end) || ctx.Err() != nil {
			break
		}
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				continue
			}
		}
		n := pick.IntN(total)
		kind := Mix[0].Kind
		for j, c := range cum {
			if n < c {
				kind = Mix[j].Kind
				break
			}
		}
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		res.requests++
		select {
		case sem <- struct{}{}:
		default:
			res.errs.add("%s: %d requests already outstanding", kind, cfg.MaxInFlight)
			res.kindErrs[kind].Add(1)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := st.do(ctx, kind, r)
			lat := time.Since(at)
			if err != nil {
				res.errs.add("%s: %v", kind, err)
				res.kindErrs[kind].Add(1)
				return
			}
			res.all.add(lat)
			res.kinds[kind].add(lat)
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
