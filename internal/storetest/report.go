package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// reportKeys registers a partner key set and a merchant key set, so callers have owners.
func (e *env) reportKeys() {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	e.unit("123456", "912345688", nil, vippsmgmt.SalesUnitActive)
	must(e.t, e.s.UpsertAPIKey(e.ctx, &vippsmgmt.APIKey{ClientID: "acme-client", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"),
		SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-a")}))
	must(e.t, e.s.UpsertAPIKey(e.ctx, &vippsmgmt.APIKey{ClientID: "shop-client", Kind: vippsmgmt.KeyMerchant, MSN: ptr("123456"),
		SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-u")}))
}

func fact(at time.Time, id, client, route string, status int) vippsmgmt.RequestFacts {
	return vippsmgmt.RequestFacts{Time: at, RequestID: id, ClientID: client, Method: "GET", Route: route, Path: "/p",
		Status: status, SystemName: true, SystemVersion: true}
}

func reportOf(t *testing.T, ctx context.Context, rs vippsmgmt.ReportStore, clientID string) []vippsmgmt.ReportCaller {
	t.Helper()
	callers, _, err := rs.ReportCallers(ctx, clientID)
	must(t, err)
	return callers
}

func testReportAggregates(t *testing.T, e *env, rs vippsmgmt.ReportStore) {
	e.reportKeys()
	t0 := e.clock.Now().UTC().Truncate(time.Microsecond)
	const list = "GET /management/v1/sales-units"
	const units = "GET /management/v1/sales-units/{msn}"
	batch := []vippsmgmt.RequestFacts{
		fact(t0.Add(2*time.Second), "r3", "acme-client", list, 200),
		fact(t0, "r1", "acme-client", list, 200),
		fact(t0.Add(time.Second), "r2", "shop-client", "POST /management/v1/product-orders", 403),
	}
	batch[0].SystemName = false // no-system-headers, the latest occurrence
	batch[1].SystemVersion = false
	batch[2].Kind = vippsmgmt.KeyMerchant
	batch[2].Problem, batch[2].Detail = "Forbidden", "Partner keys only."
	for i := range 3 {
		f := fact(t0.Add(time.Duration(3+i)*time.Second), fmt.Sprintf("n%d", i), "acme-client", units, 404)
		f.Problem, f.Detail = "Not found", fmt.Sprintf("No sales unit %d.", i)
		batch = append(batch, f)
	}
	batch = append(batch, fact(t0, "x", "", list, 200)) // no caller: not reported
	must(t, rs.RecordRequests(e.ctx, batch))

	got, start, err := rs.ReportCallers(e.ctx, "")
	must(t, err)
	if !start.Equal(t0) {
		t.Errorf("the first window starts %v, want %v (the first request)", start, t0)
	}
	ts := func(d time.Duration) time.Time { return t0.Add(d) }
	want := []vippsmgmt.ReportCaller{
		{
			ClientID: "acme-client", PartnerID: "acme", Kind: vippsmgmt.KeyPartner, Requests: 5, FirstSeen: t0, LastSeen: ts(5 * time.Second),
			Signals: []vippsmgmt.SignalCount{{Code: vippsmgmt.FindingNoSystemHeaders, Count: 2, FirstSeen: t0, LastSeen: ts(2 * time.Second), ExampleRequestID: "r3"}},
			Routes: []vippsmgmt.RouteCount{
				{Route: list, Requests: 2},
				{Route: units, Requests: 3, ClientErrors: 3, FirstError: ts(3 * time.Second), LastError: ts(5 * time.Second), ExampleRequestID: "n2",
					Problems: []vippsmgmt.ProblemCount{{Problem: "Not found", Detail: "No sales unit 2.", Count: 3}}},
			},
		},
		{
			ClientID: "shop-client", Kind: vippsmgmt.KeyMerchant, Requests: 1, FirstSeen: ts(time.Second), LastSeen: ts(time.Second),
			Signals: []vippsmgmt.SignalCount{{Code: vippsmgmt.FindingMerchantKeysOnPartnerOperation, Route: "POST /management/v1/product-orders",
				Count: 1, FirstSeen: ts(time.Second), LastSeen: ts(time.Second), ExampleRequestID: "r2"}},
			Routes: []vippsmgmt.RouteCount{{Route: "POST /management/v1/product-orders", Requests: 1, ClientErrors: 1,
				FirstError: ts(time.Second), LastError: ts(time.Second), ExampleRequestID: "r2",
				Problems: []vippsmgmt.ProblemCount{{Problem: "Forbidden", Detail: "Partner keys only.", Count: 1}}}},
		},
	}
	wantSame(t, "ReportCallers", want, got)
	if got := reportOf(t, e.ctx, rs, "shop-client"); len(got) != 1 || got[0].ClientID != "shop-client" {
		t.Errorf("ReportCallers(shop-client) = %+v, want only shop-client", got)
	}
	if got := reportOf(t, e.ctx, rs, "nobody"); len(got) != 0 {
		t.Errorf("ReportCallers(nobody) = %+v, want none", got)
	}

	// A second batch adds to the counts; the example is the latest occurrence, the first seen stays.
	late := fact(ts(10*time.Second), "n9", "acme-client", units, 404)
	late.Problem = "Not found"
	early := fact(ts(-time.Second), "r0", "acme-client", list, 200)
	early.SystemName = false
	must(t, rs.RecordRequests(e.ctx, []vippsmgmt.RequestFacts{late, early}))
	acme := reportOf(t, e.ctx, rs, "acme-client")[0]
	if acme.Requests != 7 || !acme.FirstSeen.Equal(ts(-time.Second)) || !acme.LastSeen.Equal(ts(10*time.Second)) {
		t.Errorf("after the second batch: requests %d, seen %v to %v; want 7, %v to %v", acme.Requests, acme.FirstSeen, acme.LastSeen, ts(-time.Second), ts(10*time.Second))
	}
	if s := acme.Signals[0]; s.Count != 3 || !s.FirstSeen.Equal(ts(-time.Second)) || s.ExampleRequestID != "r3" {
		t.Errorf("no-system-headers after the second batch = %+v, want count 3, first seen %v, example r3", s, ts(-time.Second))
	}
	if r := acme.Routes[1]; r.ClientErrors != 4 || r.ExampleRequestID != "n9" || r.Problems[0].Count != 4 || !r.FirstError.Equal(ts(3*time.Second)) {
		t.Errorf("route after the second batch = %+v, want 4 errors, example n9, first error %v", r, ts(3*time.Second))
	}
}

// testReportStateContinues checks that the rules' memory lives in the store: a second batch (as
// after a restart, or from another process) continues where the first ended.
func testReportStateContinues(t *testing.T, e *env, rs vippsmgmt.ReportStore) {
	e.reportKeys()
	t0 := e.clock.Now().UTC()
	token := func(i int) vippsmgmt.RequestFacts {
		f := fact(t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("t%d", i), "acme-client", "POST /accesstoken/get", 200)
		f.TokenExpires = f.Time.Add(24 * time.Hour)
		return f
	}
	for i := range 5 {
		must(t, rs.RecordRequests(e.ctx, []vippsmgmt.RequestFacts{token(i)}))
	}
	got := reportOf(t, e.ctx, rs, "acme-client")[0].Signals
	if len(got) != 1 || got[0].Code != vippsmgmt.FindingTokenNotReused || got[0].Count != 4 || got[0].ExampleRequestID != "t4" {
		t.Fatalf("signals = %+v, want token-not-reused 4 times, example t4", got)
	}
}

func testReportReset(t *testing.T, e *env, rs vippsmgmt.ReportStore) {
	e.reportKeys()
	before := e.clock.Now().UTC()
	f := fact(before, "r1", "acme-client", "GET /management/v1/sales-units", 200)
	f.SystemName = false
	must(t, rs.RecordRequests(e.ctx, []vippsmgmt.RequestFacts{f}))
	start, err := rs.ResetReport(e.ctx, before.Add(time.Second))
	must(t, err)
	if !start.After(before) {
		t.Errorf("window starts %v, want after %v", start, before)
	}
	callers, gotStart, err := rs.ReportCallers(e.ctx, "")
	must(t, err)
	if len(callers) != 0 || !gotStart.Equal(start) {
		t.Fatalf("after reset: %d callers, window %v; want none, %v", len(callers), gotStart, start)
	}
	// A batch buffered before the reset arrives late: it belongs to the old window.
	must(t, rs.RecordRequests(e.ctx, []vippsmgmt.RequestFacts{f}))
	if got := reportOf(t, e.ctx, rs, ""); len(got) != 0 {
		t.Errorf("a request from before the window was counted: %+v", got)
	}
	f.Time, f.RequestID = start.Add(time.Second), "r2"
	must(t, rs.RecordRequests(e.ctx, []vippsmgmt.RequestFacts{f}))
	if got := reportOf(t, e.ctx, rs, ""); len(got) != 1 || got[0].Requests != 1 || got[0].Signals[0].ExampleRequestID != "r2" {
		t.Errorf("after reset and one request: %+v", got)
	}
}

// testReportConcurrent records batches for the same callers at once, as several processes do:
// no count is lost and no batch fails.
func testReportConcurrent(t *testing.T, e *env, rs vippsmgmt.ReportStore) {
	e.reportKeys()
	t0 := e.clock.Now().UTC()
	const workers, batches, perBatch = 4, 5, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*batches)
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				var batch []vippsmgmt.RequestFacts
				for i := range perBatch {
					at := t0.Add(time.Duration((w*batches+b)*perBatch+i) * time.Millisecond)
					for _, c := range []string{"shop-client", "acme-client"} {
						f := fact(at, fmt.Sprintf("w%db%di%d", w, b, i), c, "GET /management/v1/sales-units", 200)
						f.SystemVersion = false
						batch = append(batch, f)
					}
				}
				errs <- rs.RecordRequests(e.ctx, batch)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	for _, c := range reportOf(t, e.ctx, rs, "") {
		const want = workers * batches * perBatch
		if c.Requests != want || len(c.Signals) != 1 || c.Signals[0].Count != want || c.Routes[0].Requests != want {
			t.Errorf("%s: %d requests, signals %+v; want %d each", c.ClientID, c.Requests, c.Signals, want)
		}
	}
}

// testReportProblemsBounded: a route keeps a bounded number of kinds of problems, and the ones it
// keeps go on counting.
func testReportProblemsBounded(t *testing.T, e *env, rs vippsmgmt.ReportStore) {
	e.reportKeys()
	t0 := e.clock.Now().UTC()
	for round := range 2 {
		var batch []vippsmgmt.RequestFacts
		for i := range 50 {
			f := fact(t0.Add(time.Duration(round*50+i)*time.Millisecond), fmt.Sprintf("r%d-%d", round, i), "acme-client", "GET /x", 400)
			f.Problem = fmt.Sprintf("problem %02d", i)
			batch = append(batch, f)
		}
		must(t, rs.RecordRequests(e.ctx, batch))
	}
	r := reportOf(t, e.ctx, rs, "acme-client")[0].Routes[0]
	if r.ClientErrors != 100 || len(r.Problems) != 20 {
		t.Fatalf("route has %d errors and %d kinds of problems, want 100 and 20", r.ClientErrors, len(r.Problems))
	}
	for _, p := range r.Problems {
		if p.Count != 2 {
			t.Errorf("%s counted %d times, want 2", p.Problem, p.Count)
		}
	}
}
