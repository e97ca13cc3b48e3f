package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
)

// newClient returns a client keeping up to conns connections alive to one host, so a closed loop
// of conns workers never dials during a measurement.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

// classicToken fetches a token from POST /accesstoken/get, as quick start step 2 does.
func classicToken(ctx context.Context, c *http.Client, base string, k *credentials.Issued) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/accesstoken/get", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("client_id", k.ClientID)
	req.Header.Set("client_secret", k.ClientSecret)
	req.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
	return answerField(c, req, http.StatusOK, "access_token")
}

// answerField sends req and returns a string field of its JSON answer, which must come with the
// status want and hold the field, not empty.
func answerField(c *http.Client, req *http.Request, want int, field string) (string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != want {
		return "", fmt.Errorf("%s %s: %d %.300s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	var answer map[string]any
	if json.Unmarshal(body, &answer) == nil {
		if v, _ := answer[field].(string); v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s %s: no %s in %.300s", req.Method, req.URL.Path, field, body)
}

// classicAuth fetches a token as classicToken does and returns the headers of Management API
// calls made with it.
func classicAuth(ctx context.Context, c *http.Client, base string, k *credentials.Issued) (http.Header, error) {
	tok, err := classicToken(ctx, c, base, k)
	if err != nil {
		return nil, err
	}
	return authHeader(tok, k), nil
}

// authHeader returns the headers of a classic-flow Management API call.
func authHeader(token string, k *credentials.Issued) http.Header {
	return http.Header{
		"Authorization":             {"Bearer " + token},
		"Ocp-Apim-Subscription-Key": {k.SubscriptionKey},
	}
}

// errorLog keeps the first few errors of a run for the report; the rest are only counted.
type errorLog struct {
	mu    sync.Mutex
	count int
	first []string
}

func (e *errorLog) add(format string, args ...any) {
	e.mu.Lock()
	e.count++
	if len(e.first) < 5 {
		e.first = append(e.first, fmt.Sprintf(format, args...))
	}
	e.mu.Unlock()
}

func (e *errorLog) snapshot() (int, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count, slices.Clone(e.first)
}

// closedLoopResult is one closed-loop run.
type closedLoopResult struct {
	Requests int64
	Elapsed  time.Duration
	Errors   int
	First    []string
}

func (r closedLoopResult) rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// closedLoop runs workers that each send the next request as soon as the previous answer is read,
// for d. A closed loop finds the highest rate the server sustains at that concurrency; an
// open-loop attack at a fixed rate would have to guess it. do returns an error for a wrong answer;
// it must read and close the body so the connection is reused.
func closedLoop(workers int, d time.Duration, do func(worker int, i int) error) closedLoopResult {
	var (
		n    atomic.Int64
		errs errorLog
		wg   sync.WaitGroup
		stop atomic.Bool
	)
	// Requests in flight at the end finish and count; the elapsed time includes them.
	t := time.AfterFunc(d, func() { stop.Store(true) })
	defer t.Stop()
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if err := do(w, i); err != nil {
					errs.add("%v", err)
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	r := closedLoopResult{Requests: n.Load(), Elapsed: time.Since(start)}
	r.Errors, r.First = errs.snapshot()
	return r
}

// drain reads and closes a response body, returning its length.
func drain(resp *http.Response) int64 {
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return n
}

// latencies collects durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Percentiles are latency figures of one kind of request, in milliseconds.
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

func (l *latencies) percentiles() Percentiles {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.5) - 1
		i = max(0, min(i, len(d)-1))
		return ms(d[i])
	}
	return Percentiles{Count: len(d), P50: at(0.50), P99: at(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
