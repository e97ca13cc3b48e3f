package client_test

// The SDK as a partner's integration against a sandbox with fault rules and autopilot policies,
// on SQLite and PostgreSQL.

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// exchange is one request the client sent and the status it got (0: no answer).
type exchange struct {
	method, path, idemKey string
	status                int
	at                    time.Time
}

// recorder is an http.RoundTripper over the real transport that notes each exchange, so a test
// sees what the client really sent and got.
type recorder struct {
	mu   sync.Mutex
	seen []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchange{method: req.Method, path: req.URL.Path, idemKey: req.Header.Get("Idempotency-Key"), at: time.Now()}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		x.status = resp.StatusCode
	}
	r.mu.Lock()
	r.seen = append(r.seen, x)
	r.mu.Unlock()
	return resp, err
}

// to returns the exchanges with path, in order.
func (r *recorder) to(path string) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, x := range r.seen {
		if x.path == path {
			out = append(out, x)
		}
	}
	return out
}

func statuses(xs []exchange) []int {
	out := []int{}
	for _, x := range xs {
		out = append(out, x.status)
	}
	return out
}

// recordedPartner is the demo partner's client over a recorder, with the default retry policy
// except for a short backoff.
func recordedPartner(t *testing.T, base string) (*client.Client, *recorder) {
	rec := &recorder{}
	k := fixtures.DemoPartnerKeys
	c, err := client.New(base, client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey),
		client.WithAdminToken(testAdminToken), client.WithHTTPClient(&http.Client{Transport: rec}),
		client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxElapsed: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func addFault(t *testing.T, adm *client.Admin, f client.FaultRule) *client.AdminFaultRule {
	t.Helper()
	r, err := adm.AddFault(context.Background(), f)
	if err != nil {
		t.Fatalf("AddFault(%+v): %v", f, err)
	}
	return r
}

func deleteFault(t *testing.T, adm *client.Admin, id string) {
	t.Helper()
	if err := adm.DeleteFault(context.Background(), id); err != nil {
		t.Fatalf("DeleteFault(%s): %v", id, err)
	}
}

func fired(t *testing.T, adm *client.Admin, id string) int64 {
	t.Helper()
	rules, err := adm.ListFaults(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Id == id {
			return r.Fired
		}
	}
	t.Fatalf("no fault rule %s", id)
	return 0
}

func newPrefill() client.ProductOrderRequest {
	return client.ProductOrderRequest{
		BusinessIdentifier: client.BusinessIdentifier{Scheme: fixtures.DemoMerchant.Scheme, Id: fixtures.DemoMerchant.ID},
		ProductType:        client.ProductTypeCheckout,
	}
}

func TestFaultsPartnerRetries(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, backend, testserver.Options{})
			c, rec := recordedPartner(t, srv.URL)
			adm := c.Admin()
			ctx := context.Background()
			const prefills = "/management/v1/product-orders"

			// The next two prefills fail with 503: the client retries with the same key and
			// one order is made.
			before, err := adm.ListProductOrders(ctx, client.ProductOrderFilter{})
			if err != nil {
				t.Fatal(err)
			}
			rule := addFault(t, adm, client.FaultRule{OperationID: "orderProduct", Status: 503, Count: 2})
			order, err := c.OrderProduct(ctx, newPrefill())
			if err != nil {
				t.Fatalf("OrderProduct through two injected 503s: %v", err)
			}
			xs := rec.to(prefills)
			if got := statuses(xs); !slices.Equal(got, []int{503, 503, 201}) {
				t.Errorf("prefill attempts got %v, want 503 503 201", got)
			}
			for _, x := range xs {
				if x.idemKey == "" || x.idemKey != xs[0].idemKey {
					t.Errorf("attempts used Idempotency-Keys %q and %q, want one key", xs[0].idemKey, x.idemKey)
				}
			}
			after, err := adm.ListProductOrders(ctx, client.ProductOrderFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before)+1 || after[0].ProductOrderId != order.PrefilledOrderId {
				t.Errorf("orders: %d before, %d after; want exactly the one made", len(before), len(after))
			}
			if n := fired(t, adm, rule.Id); n != 2 {
				t.Errorf("rule fired %d times, want 2", n)
			}

			// 429 with Retry-After: waited for, then retried.
			addFault(t, adm, client.FaultRule{OperationID: "orderProduct", Status: 429, RetryAfter: time.Second, Count: 1})
			if _, err := c.OrderProduct(ctx, newPrefill()); err != nil {
				t.Fatalf("OrderProduct through an injected 429: %v", err)
			}
			xs = rec.to(prefills)[3:]
			if got := statuses(xs); !slices.Equal(got, []int{429, 201}) {
				t.Errorf("attempts after a 429 got %v, want 429 201", got)
			} else if wait := xs[1].at.Sub(xs[0].at); wait < 900*time.Millisecond {
				t.Errorf("retried %v after a 429 with Retry-After: 1", wait)
			} else if xs[0].idemKey != xs[1].idemKey {
				t.Error("the retry after a 429 used another Idempotency-Key")
			}

			// A DELETE is not retried after a 503 or a 500, and the rule kept the data untouched.
			for _, status := range []int{503, 500} {
				addFault(t, adm, client.FaultRule{OperationID: "deleteProductOrder", Status: status, Count: 1})
				err := c.DeleteProductOrder(ctx, order.PrefilledOrderId)
				p := wantProblem(t, err, status)
				if p.Detail == "" {
					t.Errorf("injected %d has no detail: %+v", status, p)
				}
			}
			if got := statuses(rec.to(prefills + "/" + order.PrefilledOrderId.String())); !slices.Equal(got, []int{503, 500}) {
				t.Errorf("DELETE attempts got %v, want one 503 and one 500, no retries", got)
			}
			if _, err := c.GetProductOrderDetails(ctx, order.PrefilledOrderId); err != nil {
				t.Errorf("the order is gone after injected failures: %v", err)
			}

			// Server errors on a GET are retried; a dropped connection too; a delay just waits.
			units := "/management/v1/sales-units"
			addFault(t, adm, client.FaultRule{Method: "GET", Path: units, Status: 502, Count: 1})
			addFault(t, adm, client.FaultRule{Method: "GET", Path: units, Status: 504, Count: 1})
			drop := addFault(t, adm, client.FaultRule{Method: "GET", Path: units, Drop: true, Count: 1})
			addFault(t, adm, client.FaultRule{Method: "GET", Path: units, Delay: 300 * time.Millisecond, Count: 1})
			start := time.Now()
			if _, err := c.GetAllSalesUnits(ctx); err != nil {
				t.Fatalf("GetAllSalesUnits through 502, 504 and a drop: %v", err)
			}
			// Go's transport repeats a GET whose reused connection closed without an answer by
			// itself, so the client may not see the drop at all.
			if got := statuses(rec.to(units)); !slices.Equal(got, []int{502, 504, 0, 200}) && !slices.Equal(got, []int{502, 504, 200}) {
				t.Errorf("sales-unit attempts got %v, want 502 504 (no answer) 200", got)
			}
			if n := fired(t, adm, drop.Id); n != 1 {
				t.Errorf("drop rule fired %d times, want 1", n)
			}
			if el := time.Since(start); el < 300*time.Millisecond {
				t.Errorf("the delayed answer came after %v, want at least 300ms", el)
			}

			// An expired token's 401: the client fetches a new token once and goes on.
			tokensBefore := len(rec.to("/accesstoken/get"))
			addFault(t, adm, client.FaultRule{OperationID: "getMsn", Status: 401, Count: 1})
			if _, err := c.GetMsn(ctx, fixtures.DemoMSN); err != nil {
				t.Fatalf("GetMsn after an injected 401: %v", err)
			}
			if n := len(rec.to("/accesstoken/get")) - tokensBefore; n != 1 {
				t.Errorf("the injected 401 made the client fetch %d tokens, want 1", n)
			}

			// A rule for every operation never touches the operator API or the health checks.
			all := addFault(t, adm, client.FaultRule{OperationID: "*", Status: 503})
			if _, err := adm.ListFaults(ctx); err != nil {
				t.Errorf("operator API answered %v under a rule for every operation", err)
			}
			for _, p := range []string{"/healthz", "/readyz"} {
				if got := srv.Client(t).Do("GET", p, nil).Status; got != 200 {
					t.Errorf("%s answered %d under a rule for every operation", p, got)
				}
			}
			deleteFault(t, adm, all.Id)

			// The request log tells injected answers from real ones.
			reqs, err := adm.ListRequests(ctx)
			if err != nil {
				t.Fatal(err)
			}
			injected := 0
			for _, r := range reqs {
				if r.Injected != nil && *r.Injected {
					injected++
					if r.FaultRule == nil || *r.FaultRule == "" {
						t.Errorf("injected request %s names no rule", r.RequestId)
					}
				}
			}
			// 2 × 503 + 429 + 503 + 500 + 502 + 504 + drop + delay + 401.
			if injected != 10 {
				t.Errorf("request log marks %d requests injected, want 10", injected)
			}
			metrics := srv.Client(t).Do("GET", "/metrics", nil).Body
			if want := `vippsmgmt_injected_faults_total{effect="503",route="POST /management/v1/product-orders"} 2`; !strings.Contains(string(metrics), want) {
				t.Errorf("metrics lack %s", want)
			}
		})
	}
}

// TestFaultBodies checks the answers of injected statuses byte for byte where it matters: the
// shapes the real API uses for them.
func TestFaultBodies(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	adm := newClient(t, srv.URL, client.WithAdminToken(testAdminToken)).Admin()
	c := partnerClient(t, srv.URL)
	tok, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k := fixtures.DemoPartnerKeys
	headers := []string{"Authorization", "Bearer " + tok.AccessToken, "Ocp-Apim-Subscription-Key", k.SubscriptionKey,
		"client_id", k.ClientID, "client_secret", k.ClientSecret}
	call := func(method, path string) testserver.Reply {
		t.Helper()
		return srv.Client(t).Do(method, path, nil, headers...)
	}
	tests := []struct {
		rule                  client.FaultRule
		method, path          string
		status                int
		contentType, contains string
		header, headerValue   string
	}{
		{client.FaultRule{OperationID: "getAllSalesUnits", Status: 401}, "GET", "/management/v1/sales-units", 401,
			"application/problem+json", `"detail":"The access token has expired; fetch a new one."`, "Www-Authenticate", "Bearer"},
		{client.FaultRule{OperationID: "getAllSalesUnits", Status: 429, RetryAfter: 3 * time.Second}, "GET", "/management/v1/sales-units", 429,
			"application/problem+json", `"detail":"Rate limit is exceeded. Try again in 3 seconds."`, "Retry-After", "3"},
		{client.FaultRule{OperationID: "getAllSalesUnits", Status: 503, RetryAfter: 5 * time.Second}, "GET", "/management/v1/sales-units", 503,
			"application/problem+json", `"title":"Service unavailable"`, "Retry-After", "5"},
		{client.FaultRule{OperationID: "getAllSalesUnits", Status: 500}, "GET", "/management/v1/sales-units", 500,
			"application/problem+json", `"detail":"Internal error."`, "", ""},
		{client.FaultRule{OperationID: "fetchAuthorizationTokenUsingPost", Status: 429}, "POST", "/accesstoken/get", 429,
			"application/json;charset=UTF-8", `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 1 seconds."}`, "Retry-After", "1"},
		{client.FaultRule{OperationID: "fetchAuthorizationTokenUsingPost", Status: 401}, "POST", "/accessToken/get", 401,
			"application/json;charset=UTF-8", `"error":"invalid_client","error_description":"AADSTS7000222:`, "", ""},
		{client.FaultRule{OperationID: "fetchAuthorizationTokenUsingPost", Status: 503}, "POST", "/accesstoken/get", 503,
			"application/json;charset=UTF-8", `{"statusCode":503,`, "", ""},
		{client.FaultRule{OperationID: "fetchToken", Status: 503}, "POST", "/miami/v1/token", 503,
			"application/json;charset=UTF-8", `{"error":"temporarily_unavailable"`, "", ""},
	}
	for _, tt := range tests {
		tt.rule.Count = 1
		r := addFault(t, adm, tt.rule)
		resp := call(tt.method, tt.path)
		if resp.Status != tt.status || resp.Header.Get("Content-Type") != tt.contentType || !strings.Contains(string(resp.Body), tt.contains) {
			t.Errorf("%d on %s %s: got %d %s %s", tt.status, tt.method, tt.path, resp.Status, resp.Header.Get("Content-Type"), resp.Body)
		}
		if tt.header != "" && resp.Header.Get(tt.header) != tt.headerValue {
			t.Errorf("%d on %s: %s = %q, want %q", tt.status, tt.path, tt.header, resp.Header.Get(tt.header), tt.headerValue)
		}
		if got := resp.Header.Get("Vippsmgmt-Fault-Rule"); got != r.Id {
			t.Errorf("%d on %s: Vippsmgmt-Fault-Rule = %q, want %q", tt.status, tt.path, got, r.Id)
		}
	}
	// Spent rules let the real answer through.
	if resp := call("GET", "/management/v1/sales-units"); resp.Status != 200 {
		t.Errorf("after the rules were spent: %d", resp.Status)
	}
}

func TestFaultBudgetsAndCallers(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	c, _ := recordedPartner(t, srv.URL)
	adm := c.Admin()
	ctx := context.Background()
	once := client.RetryPolicy{MaxAttempts: 1}
	k := fixtures.DemoPartnerKeys
	single, err := client.New(srv.URL, client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey), client.WithRetryPolicy(once))
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		_, err := single.GetAllSalesUnits(ctx)
		var p *client.Problem
		if errors.As(err, &p) {
			return p.Status
		} else if err != nil {
			t.Fatal(err)
		}
		return 200
	}
	n := func(want, times int) int {
		got := 0
		for range times {
			if get() == want {
				got++
			}
		}
		return got
	}

	// probability 0 never fires, 1 always does.
	zero, one := 0.0, 1.0
	r0 := addFault(t, adm, client.FaultRule{OperationID: "getAllSalesUnits", Status: 500, Probability: &zero})
	if got := n(500, 5); got != 0 {
		t.Errorf("probability 0 fired %d of 5", got)
	}
	deleteFault(t, adm, r0.Id)
	r1 := addFault(t, adm, client.FaultRule{OperationID: "getAllSalesUnits", Status: 500, Probability: &one})
	if got := n(500, 5); got != 5 {
		t.Errorf("probability 1 fired %d of 5", got)
	}
	deleteFault(t, adm, r1.Id)
	// A half: some of 200 but not all, and the firings counted match what callers saw.
	half := 0.5
	rh := addFault(t, adm, client.FaultRule{OperationID: "getAllSalesUnits", Status: 502, Probability: &half})
	got := n(502, 200)
	if got < 60 || got > 140 {
		t.Errorf("probability 0.5 fired %d of 200", got)
	}
	if f := fired(t, adm, rh.Id); f != int64(got) {
		t.Errorf("rule counted %d firings, callers saw %d", f, got)
	}
	deleteFault(t, adm, rh.Id)

	// until: a time of the sandbox clock.
	clk, err := adm.GetClock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addFault(t, adm, client.FaultRule{OperationID: "getAllSalesUnits", Status: 503, Until: clk.Now.Add(time.Hour)})
	if got := n(503, 3); got != 3 {
		t.Errorf("until rule fired %d of 3 before its time", got)
	}
	if _, err := adm.AdvanceClock(ctx, 61*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := n(503, 3); got != 0 {
		t.Errorf("until rule fired %d of 3 after its time", got)
	}

	// Callers: a rule for another client id or partner leaves this one alone.
	addFault(t, adm, client.FaultRule{OperationID: "*", ClientID: fixtures.DemoOtherPartnerKeys.ClientID, Status: 500})
	addFault(t, adm, client.FaultRule{OperationID: "*", PartnerID: fixtures.DemoOtherPartnerID, Status: 500})
	if got := get(); got != 200 {
		t.Errorf("another caller's rules answered %d", got)
	}
	o := fixtures.DemoOtherPartnerKeys
	other, err := client.New(srv.URL, client.WithPartnerKeys(o.ClientID, o.ClientSecret, o.SubscriptionKey), client.WithRetryPolicy(once))
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Token(ctx)
	wantProblem(t, err, 500) // the token request matched by client id (and partner) before any token
	addFault(t, adm, client.FaultRule{OperationID: "fetchAuthorizationTokenUsingPost", PartnerID: fixtures.DemoPartnerID, Status: 503, Count: 1})
	fresh, err := client.New(srv.URL, client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey), client.WithRetryPolicy(once))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fresh.Token(ctx)
	wantProblem(t, err, 503)
}

func TestFaultBadInput(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	post := func(body string) (int, string) {
		return testserver.AdminJSON(t, "POST", srv.URL+"/admin/v1/faults", body)
	}
	tests := []struct{ body, field string }{
		{`{"match":{"operationId":"orderProducts"},"effect":{"status":503}}`, "match.operationId"},
		{`{"match":{"operationId":"adminListFaults"},"effect":{"status":503}}`, "match.operationId"},
		{`{"match":{"operationId":"getHealthz"},"effect":{"status":503}}`, "match.operationId"},
		{`{"match":{"method":"GET","path":"/admin/v1/faults"},"effect":{"status":503}}`, "match.path"},
		{`{"match":{"method":"DELETE","path":"/management/v1/sales-units"},"effect":{"status":503}}`, "match.path"},
		{`{"match":{"operationId":"*"},"effect":{"status":418}}`, "effect.status"},
		{`{"match":{"operationId":"*"},"effect":{"status":400}}`, "effect.status"},
		{`{"match":{"operationId":"*"},"effect":{"delay":"-1s"}}`, "effect.delay"},
		{`{"match":{"operationId":"*"},"effect":{"delay":"1h"}}`, "effect.delay"},
		{`{"match":{"operationId":"*"},"effect":{"status":503},"probability":1.5}`, "probability"},
		{`{"match":{"operationId":"*"},"effect":{"status":503},"probability":-0.1}`, "probability"},
		{`{"match":{"operationId":"*"},"effect":{"status":503},"count":2,"probability":0.5}`, "probability"},
		{`{"match":{"operationId":"*"},"effect":{"status":503},"count":0}`, "count"},
		{`{"match":{"operationId":"*"},"effect":{}}`, "effect"},
		{`{"match":{"operationId":"*"},"effect":{"status":500,"drop":true}}`, "effect.drop"},
		{`{"match":{"operationId":"*"},"effect":{"status":500,"retryAfterSeconds":3}}`, "effect.retryAfterSeconds"},
		{`{"match":{},"effect":{"status":500}}`, "match.operationId"},
		{`{"match":{"operationId":"*","clientId":"a b"},"effect":{"status":500}}`, "match.clientId"},
	}
	for _, tt := range tests {
		status, body := post(tt.body)
		if status != 400 || !strings.Contains(body, `"`+tt.field) {
			t.Errorf("%s: got %d %s, want 400 naming %s", tt.body, status, body, tt.field)
		}
	}
	if status, body := post(`{"id":"dup","match":{"operationId":"*"},"effect":{"status":500},"count":1}`); status != 201 {
		t.Fatalf("valid rule: %d %s", status, body)
	}
	if status, _ := post(`{"id":"dup","match":{"operationId":"*"},"effect":{"status":500},"count":1}`); status != 409 {
		t.Errorf("duplicate id: %d, want 409", status)
	}
}

func TestScenarioRoutesOnlyInSandbox(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{NoSandbox: true})
	adm := newClient(t, srv.URL, client.WithAdminToken(testAdminToken)).Admin()
	ctx := context.Background()
	_, err := adm.ListFaults(ctx)
	wantProblem(t, err, 404)
	_, err = adm.AddFault(ctx, client.FaultRule{OperationID: "*", Status: 503})
	wantProblem(t, err, 404)
	wantProblem(t, adm.DeleteFault(ctx, "x"), 404)
	_, err = adm.ListAutopilot(ctx)
	wantProblem(t, err, 404)
	_, err = adm.SetAutopilot(ctx, client.Autopilot{View: client.Duration(0), Decision: "approve"})
	wantProblem(t, err, 404)
	wantProblem(t, adm.DeleteAutopilot(ctx, ""), 404)
	_, err = adm.GetClock(ctx)
	if p := wantProblem(t, err, 404); !strings.Contains(p.Detail, "The clock control exists only in sandbox mode") {
		t.Errorf("clock outside the sandbox: detail %q", p.Detail)
	}
	_, err = adm.AdvanceClock(ctx, time.Hour)
	wantProblem(t, err, 404)
	_, err = adm.ResetClock(ctx)
	wantProblem(t, err, 404)
	if srv.App.Faults != nil || srv.App.Autopilot != nil {
		t.Error("a production server built the scenario control")
	}
}

// TestFaultsAcrossProcesses runs two servers on one PostgreSQL database: a rule made through one
// applies to both, its count is exact across them, and a delete reaches both.
func TestFaultsAcrossProcesses(t *testing.T) {
	a := testserver.Start(t, "postgres", testserver.Options{})
	ctx := context.Background()
	adm := newClient(t, a.URL, client.WithAdminToken(testAdminToken)).Admin()
	const count = 5
	rule := addFault(t, adm, client.FaultRule{OperationID: "getAllSalesUnits", Status: 503, Count: count})
	b := testserver.Start(t, "postgres", testserver.Options{DSN: a.DSN})

	once := client.RetryPolicy{MaxAttempts: 1}
	k := fixtures.DemoPartnerKeys
	var failures, calls int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, base := range []string{a.URL, b.URL} {
		c, err := client.New(base, client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey), client.WithRetryPolicy(once))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Token(ctx); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			wg.Go(func() {
				for range 4 {
					_, err := c.GetAllSalesUnits(ctx)
					mu.Lock()
					calls++
					var p *client.Problem
					if errors.As(err, &p) && p.Status == 503 {
						failures++
					} else if err != nil {
						t.Error(err)
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if failures != count {
		t.Errorf("%d calls over two servers got %d injected 503s, want exactly %d", calls, failures, count)
	}
	if n := fired(t, adm, rule.Id); n != count {
		t.Errorf("rule counted %d firings, want %d", n, count)
	}

	// A rule added through b reaches a within a second or two; so does its delete.
	bAdm := newClient(t, b.URL, client.WithAdminToken(testAdminToken)).Admin()
	r2 := addFault(t, bAdm, client.FaultRule{OperationID: "getMsn", Status: 500})
	ca := newClient(t, a.URL, client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey), client.WithRetryPolicy(once))
	waitFor(t, "the rule added on the other server to apply", func() bool {
		_, err := ca.GetMsn(ctx, fixtures.DemoMSN)
		return err != nil
	})
	deleteFault(t, bAdm, r2.Id)
	waitFor(t, "the rule deleted on the other server to stop", func() bool {
		_, err := ca.GetMsn(ctx, fixtures.DemoMSN)
		return err == nil
	})
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
