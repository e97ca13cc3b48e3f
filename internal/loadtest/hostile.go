package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TargetHostileRSS is the resident memory the server must stay under, start to end, while it
// answers the hostile mix. The server idles at some 30-50 MiB; every request it reads is bounded
// (32 KiB of headers, 2 MiB of body), so what the mix can add is its concurrency times those
// bounds plus the Go runtime's slack, far below this.
const TargetHostileRSS = 256 << 20

// The hostile request kinds.
const (
	HostileHeader     = "huge-header" // a Vipps-System-Name of 1 KiB to 8 times the header limit
	HostileMethod     = "long-method" // a random method of 1 KiB to 2 times the header limit
	HostileBody       = "big-body"    // a prefill body of 1 to 3 MiB (the limit is 2 MiB)
	HostileField      = "huge-field"  // a prefill whose intendedPurpose is 4 KiB to 1.5 MiB
	HostileTokenFlood = "token-flood" // POST /accesstoken/get naming the legitimate client id, wrong secret
	HostileSlowHeader = "slow-header" // a connection that trickles its headers a byte at a time
	HostileSlowBody   = "slow-body"   // a prefill that announces 1 MiB and trickles it
	HostileIdleConn   = "idle-conn"   // a connection that sends nothing
)

// HostileKinds lists the hostile kinds in report order.
var HostileKinds = []string{HostileHeader, HostileMethod, HostileBody, HostileField, HostileTokenFlood,
	HostileSlowHeader, HostileSlowBody, HostileIdleConn}

// HostileConfig sizes a hostile run. Zero fields take the defaults.
type HostileConfig struct {
	Bin         string
	Dir         string        // for the database and the log; removed by the caller
	Duration    time.Duration // 60 s
	Workers     int           // closed-loop senders of each request kind (4)
	SlowConns   int           // slow connections of each slow kind kept open at once (50)
	IdleConns   int           // connections that send nothing, kept open at once (300)
	LegitEvery  time.Duration // pause between the legitimate client's rounds (100 ms)
	RSSBound    uint64        // TargetHostileRSS
	Progress    io.Writer
	SampleEvery time.Duration // RSS samples (1 s)
}

// SetDefaults gives the fields left zero their defaults. The runs call it; a command calls it
// first, so that its flags show the same defaults.
func (c *HostileConfig) SetDefaults() {
	orDefault(&c.Duration, 60*time.Second)
	orDefault(&c.Workers, 4)
	orDefault(&c.SlowConns, 50)
	orDefault(&c.IdleConns, 300)
	orDefault(&c.LegitEvery, 100*time.Millisecond)
	orDefault(&c.RSSBound, TargetHostileRSS)
	orDefault(&c.SampleEvery, time.Second)
	silentIfNil(&c.Progress)
}

// HostileReport is the result of a hostile run.
type HostileReport struct {
	Machine  Machine `json:"machine"`
	Seconds  float64 `json:"seconds"`
	RSSIdle  uint64  `json:"rssIdleBytes"`
	RSSPeak  uint64  `json:"rssPeakBytes"` // VmHWM at the end: the highest RSS of the whole run
	RSSEnd   uint64  `json:"rssEndBytes"`
	RSSBound uint64  `json:"rssBoundBytes"`
	// Legit counts the legitimate client's requests (token, sales-unit list, prefill), each of
	// which must get its normal answer.
	Legit       map[string]LegitReport `json:"legit"`
	LegitOK     int                    `json:"legitOk"`
	LegitFailed int                    `json:"legitFailed"`
	FirstErrors []string               `json:"firstLegitErrors,omitempty"`
	// Hostile counts the hostile requests of each kind by outcome: the status code, or what
	// happened to the connection ("closed" by the server, "timeout" when it outlived the run).
	Hostile map[string]map[string]int `json:"hostile"`
	// ServerLogBytes is the size of the server's log after the run.
	ServerLogBytes int64 `json:"serverLogBytes"`
	Pass           bool  `json:"pass"`
}

// LegitReport is one kind of the legitimate client's requests.
type LegitReport struct {
	Percentiles
	Failed int `json:"failed"`
}

// outcomes counts outcomes per hostile kind.
type outcomes struct {
	mu sync.Mutex
	m  map[string]map[string]int
}

func (o *outcomes) add(kind, outcome string) {
	o.mu.Lock()
	if o.m[kind] == nil {
		o.m[kind] = map[string]int{}
	}
	o.m[kind][outcome]++
	o.mu.Unlock()
}

// RunHostile seeds two partners, a legitimate one and the attacker's, starts the server with its
// own token throttle and for cfg.Duration sends the hostile mix while the legitimate partner takes
// a token, lists its sales units and sends a prefill, round after round. Every legitimate request
// must get its normal answer and the server's RSS must stay under cfg.RSSBound.
func RunHostile(ctx context.Context, cfg HostileConfig) (*HostileReport, error) {
	cfg.SetDefaults()
	logf := progressf(cfg.Progress)
	rep := &HostileReport{Machine: machine(), RSSBound: cfg.RSSBound, Legit: map[string]LegitReport{}}
	dsn := "sqlite:" + filepath.Join(cfg.Dir, "hostile.db")
	seeds, err := SeedPartners(ctx, dsn, []string{"hostile-" + runID + "-legit", "hostile-" + runID + "-attacker"}, 200)
	if err != nil {
		return nil, err
	}
	legit, attacker := seeds[0], seeds[1]
	logPath := filepath.Join(cfg.Dir, "hostile.log")
	srv, err := StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn, LogPath: logPath, ServerThrottle: true})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	idle, err := srv.Mem()
	if err != nil {
		return nil, err
	}
	rep.RSSIdle = idle.RSS
	attackClient := newClient(4 * cfg.Workers)
	defer attackClient.CloseIdleConnections()
	attackHdr, err := classicAuth(ctx, attackClient, srv.URL, attacker.Keys)
	if err != nil {
		return nil, err
	}
	logf("hostile mix for %s against %s; server RSS %.1f MiB", cfg.Duration, srv.URL, mib(idle.RSS))

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	out := &outcomes{m: map[string]map[string]int{}}
	h := &hostile{base: srv.URL, client: attackClient, hdr: attackHdr, legitID: legit.Keys.ClientID,
		subKey: legit.Keys.SubscriptionKey, out: out}
	h.addr = strings.TrimPrefix(srv.URL, "http://")
	var wg sync.WaitGroup
	start := time.Now()
	for i, kind := range []string{HostileHeader, HostileMethod, HostileBody, HostileField, HostileTokenFlood} {
		for w := range cfg.Workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(i), uint64(w)))
				for runCtx.Err() == nil {
					h.send(runCtx, kind, r)
				}
			})
		}
	}
	for _, kind := range []string{HostileSlowHeader, HostileSlowBody} {
		for range cfg.SlowConns {
			wg.Go(func() {
				for runCtx.Err() == nil {
					h.slow(runCtx, kind)
				}
			})
		}
	}
	for range cfg.IdleConns {
		wg.Go(func() {
			for runCtx.Err() == nil {
				h.idle(runCtx)
			}
		})
	}

	var rssSampled atomic.Uint64
	wg.Go(func() {
		t := time.NewTicker(cfg.SampleEvery)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if m, err := srv.Mem(); err == nil {
					rssSampled.Store(max(rssSampled.Load(), m.RSS))
					logf("  RSS %.1f MiB (peak %.1f MiB)", mib(m.RSS), mib(m.Peak))
				}
			}
		}
	})

	legitRes := runLegit(runCtx, srv.URL, legit, cfg.LegitEvery)
	wg.Wait()
	rep.Seconds = time.Since(start).Seconds()
	end, err := srv.Mem()
	if err != nil {
		return nil, err
	}
	rep.RSSEnd, rep.RSSPeak = end.RSS, max(end.Peak, rssSampled.Load())
	rep.Hostile = out.m
	for _, k := range []string{KindToken, KindList, KindPrefill} {
		lr := LegitReport{Percentiles: legitRes.kinds[k].percentiles(), Failed: int(legitRes.kindErrs[k].Load())}
		rep.Legit[k] = lr
		rep.LegitOK += lr.Count
		rep.LegitFailed += lr.Failed
	}
	_, rep.FirstErrors = legitRes.errs.snapshot()
	if err := srv.Stop(); err != nil {
		logf("server stop: %v", err)
	}
	if fi, err := statSize(logPath); err == nil {
		rep.ServerLogBytes = fi
	}
	rep.Pass = rep.LegitFailed == 0 && rep.LegitOK > 0 && rep.RSSPeak < rep.RSSBound
	return rep, nil
}

// runLegit is the legitimate partner: a token, its sales-unit list and a prefill, round after
// round until ctx ends. A round cut by the end of the run counts as neither success nor failure.
func runLegit(ctx context.Context, base string, s *Seeded, pause time.Duration) *openLoopResult {
	res := &openLoopResult{kinds: map[string]*latencies{}, kindErrs: map[string]*atomic.Int64{}}
	for _, k := range []string{KindToken, KindList, KindPrefill} {
		res.kinds[k], res.kindErrs[k] = &latencies{}, &atomic.Int64{}
	}
	client := newClient(1)
	defer client.CloseIdleConnections()
	// The requests themselves run to completion after the run ends, so none is cut short.
	reqCtx := context.WithoutCancel(ctx)
	record := func(kind string, at time.Time, err error) bool {
		if err != nil {
			res.errs.add("%s: %v", kind, err)
			res.kindErrs[kind].Add(1)
			return false
		}
		res.kinds[kind].add(time.Since(at))
		return true
	}
	for i := 0; ctx.Err() == nil; i++ {
		at := time.Now()
		hdr, err := classicAuth(reqCtx, client, base, s.Keys)
		if !record(KindToken, at, err) {
			continue
		}
		at = time.Now()
		record(KindList, at, legitList(reqCtx, client, base, hdr, s.Units))
		at = time.Now()
		_, err = prefill(reqCtx, client, base, hdr, fmt.Sprintf("%s-hostile-legit-%d", runID, i))
		record(KindPrefill, at, err)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return res
}

// legitList fetches the partner's sales-unit list and checks it holds all its units.
func legitList(ctx context.Context, client *http.Client, base string, hdr http.Header, units int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/management/v1/sales-units", nil)
	if err != nil {
		return err
	}
	req.Header = hdr.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /management/v1/sales-units: %d %.300s", resp.StatusCode, b)
	}
	if n := bytes.Count(b, []byte(`"msn"`)); n != units {
		return fmt.Errorf("GET /management/v1/sales-units: %d units, want %d", n, units)
	}
	return nil
}

// hostile sends the attacks.
type hostile struct {
	base, addr string
	client     *http.Client
	hdr        http.Header // the attacker partner's own token: big bodies get past authentication
	legitID    string
	subKey     string
	out        *outcomes
}

// send sends one hostile request of kind and records its outcome.
func (h *hostile) send(ctx context.Context, kind string, r *rand.Rand) {
	var req *http.Request
	var err error
	switch kind {
	case HostileHeader:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/management/v1/sales-units", nil)
		if err == nil {
			req.Header = h.hdr.Clone()
			req.Header.Set("Vipps-System-Name", randLetters(r, 1<<10+r.IntN(8*32<<10)))
		}
	case HostileMethod:
		req, err = http.NewRequestWithContext(ctx, randLetters(r, 1<<10+r.IntN(2*32<<10)), h.base+"/management/v1/sales-units", nil)
	case HostileBody:
		size := 1<<20 + r.IntN(2<<20)
		body := append(append([]byte(`{"padding":"`), bytes.Repeat([]byte("x"), size)...), `"}`...)
		req, err = h.prefillRequest(ctx, body)
	case HostileField:
		purpose := randLetters(r, 4<<10+r.IntN(1536<<10))
		body := bytes.Replace(prefillBody, []byte(`"Books sold on the website."`), []byte(strconv.Quote(purpose)), 1)
		req, err = h.prefillRequest(ctx, body)
	case HostileTokenFlood:
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/accesstoken/get", nil)
		if err == nil {
			req.Header.Set("client_id", h.legitID)
			req.Header.Set("client_secret", randLetters(r, 32))
			req.Header.Set("Ocp-Apim-Subscription-Key", h.subKey)
		}
	}
	if err != nil {
		h.out.add(kind, "request: "+err.Error())
		return
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.out.add(kind, errOutcome(ctx, err))
		return
	}
	drain(resp)
	h.out.add(kind, strconv.Itoa(resp.StatusCode))
}

func (h *hostile) prefillRequest(ctx context.Context, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/management/v1/product-orders", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h.hdr.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "hostile-"+strconv.FormatUint(rand.Uint64(), 36))
	return req, nil
}

// slow opens one connection that trickles a request: its headers or, after complete headers
// announcing 1 MiB, its body, a few bytes every 200 ms, until the server answers or closes it or
// the run ends.
func (h *hostile) slow(ctx context.Context, kind string) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", h.addr)
	if err != nil {
		h.out.add(kind, errOutcome(ctx, err))
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	var head, drip string
	switch kind {
	case HostileSlowHeader:
		head, drip = "GET /management/v1/sales-units HTTP/1.1\r\nHost: "+h.addr+"\r\n", "X-Slow: aaaaaaaa"
	default:
		head = "POST /management/v1/product-orders HTTP/1.1\r\nHost: " + h.addr + "\r\nAuthorization: " +
			h.hdr.Get("Authorization") + "\r\nOcp-Apim-Subscription-Key: " + h.hdr.Get("Ocp-Apim-Subscription-Key") +
			"\r\nContent-Type: application/json\r\nIdempotency-Key: slow-" + runID + "\r\nContent-Length: 1048576\r\n\r\n"
		drip = `{"intendedPurpose":"`
	}
	answered := make(chan string, 1)
	go func() { answered <- readStatus(conn) }()
	if _, err := io.WriteString(conn, head); err != nil {
		h.out.add(kind, errOutcome(ctx, err))
		return
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case s := <-answered:
			h.out.add(kind, outcomeOr(ctx, s))
			return
		case <-t.C:
			if _, err := io.WriteString(conn, drip[i%len(drip):i%len(drip)+1]); err != nil {
				h.out.add(kind, outcomeOr(ctx, <-answered))
				return
			}
		}
	}
}

// idle opens a connection and sends nothing until the server closes it or the run ends.
func (h *hostile) idle(ctx context.Context) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", h.addr)
	if err != nil {
		h.out.add(HostileIdleConn, errOutcome(ctx, err))
		// Out of descriptors or ports: try again a little later rather than spin.
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	h.out.add(HostileIdleConn, outcomeOr(ctx, readStatus(conn)))
}

// readStatus reads the server's answer on a raw connection: its status code, or "closed" when
// the connection ends without one.
func readStatus(conn net.Conn) string {
	b := make([]byte, 512)
	n, _ := io.ReadAtLeast(conn, b, len("HTTP/1.1 200"))
	if f := strings.Fields(string(b[:n])); n > 0 && len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		return f[1]
	}
	return "closed"
}

// outcomeOr says "timeout" for a connection the end of the run cut, else s.
func outcomeOr(ctx context.Context, s string) string {
	if ctx.Err() != nil && s == "closed" {
		return "timeout"
	}
	return s
}

// errOutcome names a transport error briefly, so the report groups them.
func errOutcome(ctx context.Context, err error) string {
	var ue *url.Error
	switch {
	case ctx.Err() != nil:
		return "timeout"
	case errors.As(err, &ue) && ue.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "reset by peer"), strings.Contains(err.Error(), "broken pipe"),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "server closed"):
		return "closed"
	}
	return "error: " + err.Error()
}

const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// randLetters returns n random capital letters: a valid HTTP token, so the client sends it as is.
func randLetters(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// WriteText prints the report for people.
func (r *HostileReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "hostile mix for %.0f s (%s)\n", r.Seconds, r.Machine)
	fmt.Fprintf(&b, "server RSS: idle %.1f MiB, peak %.1f MiB, end %.1f MiB (bound %.0f MiB)\n",
		mib(r.RSSIdle), mib(r.RSSPeak), mib(r.RSSEnd), mib(r.RSSBound))
	fmt.Fprintf(&b, "legitimate client: %d ok, %d failed\n", r.LegitOK, r.LegitFailed)
	for _, k := range []string{KindToken, KindList, KindPrefill} {
		l := r.Legit[k]
		fmt.Fprintf(&b, "  %-8s %5d ok %3d failed  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", k, l.Count, l.Failed, l.P50, l.P99, l.Max)
	}
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	fmt.Fprintln(&b, "hostile requests by outcome:")
	for _, k := range HostileKinds {
		m := r.Hostile[k]
		keys := make([]string, 0, len(m))
		total := 0
		for s, n := range m {
			keys = append(keys, s)
			total += n
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, s := range keys {
			parts[i] = fmt.Sprintf("%s %d", s, m[s])
		}
		fmt.Fprintf(&b, "  %-12s %6d: %s\n", k, total, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "server log: %.1f MiB\n", mib(uint64(r.ServerLogBytes)))
	fmt.Fprintf(&b, "target: every legitimate request answered normally and RSS under the bound: %s\n", verdict(r.Pass))
	_, err := io.WriteString(w, b.String())
	return err
}
