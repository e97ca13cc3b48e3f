// Package report collects what the integration report needs from every answered request and
// keeps it in the store. Observing a request only appends a few fields to an in-memory buffer;
// the rules run when the buffer is flushed (every second, before every report and at shutdown),
// in one transaction per flush, so a request costs no database write of its own.
package report

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vippsmgmt/vippsmgmt"
)

// Defaults of Config.
const (
	DefaultFlushEvery  = time.Second
	DefaultMaxBuffered = 8192
	// MaxErrorBody is how much of a 4xx answer is kept to name the problem.
	MaxErrorBody = 512
	// maxDetail bounds the detail text kept per problem.
	maxDetail = 200
)

// Observation is one answered request as the HTTP layer saw it.
type Observation struct {
	vippsmgmt.RequestFacts
	IdempotencyKey string // the prefill's Idempotency-Key; hashed before it is kept
	ErrorBody      []byte // the start of a 4xx answer's body
}

// Config configures a Collector.
type Config struct {
	Store         vippsmgmt.ReportStore
	Logger        *slog.Logger
	ClassicTTL    time.Duration // lifetime of /accesstoken/get tokens
	ManagementTTL time.Duration // lifetime of /miami/v1/token tokens
	FlushEvery    time.Duration
	MaxBuffered   int // observations held between flushes; more are dropped and counted
}

// Collector buffers observations and flushes them to the store.
type Collector struct {
	cfg Config
	mu  sync.Mutex
	buf []Observation
	// spare is the buffer of the last flush that succeeded, emptied, for the next one to fill:
	// requests append into room that is already there instead of growing (and copying) a buffer
	// every cycle. Only flushMu's holder touches it.
	spare   []Observation
	scratch []vippsmgmt.RequestFacts // a flush's facts, kept for the next flush under flushMu
	kick    chan struct{}
	flushMu sync.Mutex
	dropped atomic.Int64
}

// New returns a collector; Run flushes it.
func New(cfg Config) *Collector {
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = DefaultMaxBuffered
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Collector{cfg: cfg, kick: make(chan struct{}, 1)}
}

// Observe queues one request. It never blocks on the database: a full buffer drops the
// observation (counted in Dropped) and asks for an early flush.
func (c *Collector) Observe(o Observation) {
	if o.ClientID == "" {
		return
	}
	c.mu.Lock()
	n := len(c.buf)
	if n < c.cfg.MaxBuffered {
		c.buf = append(c.buf, o)
		n++
	} else {
		c.dropped.Add(1)
	}
	c.mu.Unlock()
	if n >= c.cfg.MaxBuffered/2 {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// Dropped is how many observations a full buffer turned away since start.
func (c *Collector) Dropped() int64 { return c.dropped.Load() }

// Run flushes every FlushEvery (sooner when the buffer fills) until ctx ends, then once more.
func (c *Collector) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.Flush(fctx); err != nil {
				c.cfg.Logger.Warn("report: final flush failed", "error", err)
			}
			return
		case <-t.C:
		case <-c.kick:
		}
		if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Logger.Warn("report: flush failed", "error", err)
		}
	}
}

// Flush hands the buffered observations to the store. On failure they go back to the buffer,
// as far as it has room, for the next attempt.
func (c *Collector) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	next := c.spare
	c.spare = nil
	c.mu.Lock()
	batch := c.buf
	if len(batch) == 0 {
		c.mu.Unlock()
		c.spare = next
		return nil
	}
	if cap(next) < len(batch) {
		// Room for twice the last batch: requests keep arriving while this one is written.
		next = make([]Observation, 0, min(max(2*len(batch), 64), c.cfg.MaxBuffered))
	}
	c.buf = next
	c.mu.Unlock()
	facts := slices.Grow(c.scratch[:0], len(batch))[:len(batch)]
	for i := range batch {
		facts[i] = c.facts(&batch[i])
	}
	err := c.cfg.Store.RecordRequests(ctx, facts)
	clear(facts)
	c.scratch = facts[:0]
	if err == nil {
		clear(batch) // what the observations point to may go
		c.spare = batch[:0]
	} else {
		c.mu.Lock()
		room := c.cfg.MaxBuffered - len(c.buf)
		if room < len(batch) {
			c.dropped.Add(int64(len(batch) - max(room, 0)))
			batch = batch[len(batch)-max(room, 0):]
		}
		c.buf = append(batch, c.buf...)
		c.mu.Unlock()
	}
	return err
}

// facts completes what the rules need from an observation, off the request's path.
func (c *Collector) facts(o *Observation) vippsmgmt.RequestFacts {
	f := o.RequestFacts
	if o.IdempotencyKey != "" {
		f.IdempotencyKey = vippsmgmt.Hash64(o.IdempotencyKey)
	}
	if f.Status == 200 && f.TokenExpires.IsZero() {
		issued := f.ClockTime
		if issued.IsZero() {
			issued = f.Time
		}
		switch {
		case f.Route == vippsmgmt.RouteMiamiToken:
			f.TokenExpires = issued.Add(c.cfg.ManagementTTL)
		case hasPrefixFold(f.Route, "post /accesstoken/get"):
			f.TokenExpires = issued.Add(c.cfg.ClassicTTL)
		}
	}
	switch f.Route {
	case vippsmgmt.RouteOrderDetails, vippsmgmt.RouteOrderDetailsV1:
		f.OrderID = orderIDOf(strings.TrimSuffix(f.Path, "/details"))
	case vippsmgmt.RouteDeleteOrder:
		f.OrderID = orderIDOf(f.Path)
	}
	if f.Status >= 400 && f.Status < 500 && f.Problem == "" {
		f.Problem, f.Detail = ProblemOf(o.ErrorBody)
	}
	return f
}

// hasPrefixFold is strings.HasPrefix ignoring case, without lower-casing (and copying) s for every
// observation.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// orderIDOf takes the order id out of .../product-orders/{id}.
func orderIDOf(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// ProblemOf names a 4xx answer from the start of its body: a problem's title and detail, an
// identity provider's error and description, or a gateway's message. The body may be cut short:
// the members before the cut still count.
func ProblemOf(body []byte) (problem, detail string) {
	fields := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err == nil && t == json.Delim('{') {
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				break
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				break
			}
			var str string
			if name, ok := k.(string); ok && json.Unmarshal(v, &str) == nil {
				fields[name] = str
			}
		}
	}
	switch {
	case fields["title"] != "":
		return clip(fields["title"], 80), clip(fields["detail"], maxDetail)
	case fields["error"] != "":
		return clip(fields["error"], 80), clip(fields["error_description"], maxDetail)
	case fields["message"] != "":
		return clip(fields["message"], 80), ""
	}
	return "(no problem body)", ""
}

// clip cuts s to at most n bytes of valid UTF-8 without control characters (PostgreSQL refuses
// NUL in text, and a batch it refuses would be retried forever).
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\ufffd"))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Report is the integration report of a window.
type Report struct {
	WindowStart time.Time `json:"windowStart"`
	Callers     []Caller  `json:"callers"`
}

// Caller is one caller's part of the report.
type Caller struct {
	ClientID  string              `json:"clientId"`
	PartnerID string              `json:"partnerId"`
	Kind      string              `json:"kind"`
	Requests  int64               `json:"requests"`
	FirstSeen time.Time           `json:"firstSeen"`
	LastSeen  time.Time           `json:"lastSeen"`
	Findings  []vippsmgmt.Finding `json:"findings"`
}

// Started reports whether the window has a start: before the first counted request it has none.
func (r *Report) Started() bool { return r.WindowStart.Unix() > 0 }

// Worst is the severity of the caller's worst finding, "" without findings.
func (c Caller) Worst() vippsmgmt.Severity {
	if len(c.Findings) == 0 {
		return ""
	}
	return c.Findings[0].Severity
}

// Report flushes this process's buffer (as far as the database lets it) and returns the report, callers worst first (only
// clientID's when given).
func (c *Collector) Report(ctx context.Context, clientID string) (*Report, error) {
	if err := c.Flush(ctx); err != nil {
		// What is stored is still worth showing; the buffer waits for the next flush.
		c.cfg.Logger.WarnContext(ctx, "report: flush before reading failed", "error", err)
	}
	callers, start, err := c.cfg.Store.ReportCallers(ctx, clientID)
	if err != nil {
		return nil, err
	}
	out := &Report{WindowStart: start, Callers: make([]Caller, 0, len(callers))}
	for i := range callers {
		rc := &callers[i]
		findings := rc.Findings()
		if findings == nil {
			findings = []vippsmgmt.Finding{}
		}
		out.Callers = append(out.Callers, Caller{
			ClientID: rc.ClientID, PartnerID: rc.PartnerID, Kind: rc.Kind, Requests: rc.Requests,
			FirstSeen: rc.FirstSeen, LastSeen: rc.LastSeen, Findings: findings,
		})
	}
	slices.SortStableFunc(out.Callers, func(a, b Caller) int {
		if d := b.Worst().Rank() - a.Worst().Rank(); d != 0 {
			return d
		}
		if d := len(b.Findings) - len(a.Findings); d != 0 {
			return d
		}
		return strings.Compare(a.ClientID, b.ClientID)
	})
	return out, nil
}

// Reset starts a new window: what this process buffered so far belongs to the old one.
func (c *Collector) Reset(ctx context.Context) (time.Time, error) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	c.buf = c.buf[:0]
	c.mu.Unlock()
	return c.cfg.Store.ResetReport(ctx, time.Now())
}
