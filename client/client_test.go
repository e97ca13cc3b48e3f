package client_test

// Unit tests of the SDK's own behaviour (token flows, retries, idempotency, error mapping) against
// small httptest servers that misbehave on purpose. e2e_test.go runs the SDK against a real
// vippsmgmt server.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt/client"
)

// fastRetry keeps fault tests quick.
var fastRetry = client.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxElapsed: 5 * time.Second}

// fake is a scripted server: token endpoints that count their calls, and a handler per API path.
type fake struct {
	t           *testing.T
	tokenCalls  atomic.Int32
	miamiCalls  atomic.Int32
	tokenDelay  time.Duration
	tokenSerial atomic.Int32
	mu          sync.Mutex
	api         map[string]http.HandlerFunc // "METHOD /path"
	seen        []*http.Request
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	f := &fake{t: t, api: map[string]http.HandlerFunc{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	f.api[route] = h
	f.mu.Unlock()
}

// failing answers route with a problem of status every time, and counts the calls it answers.
func (f *fake) failing(route string, status int, detail string) *atomic.Int32 {
	calls := new(atomic.Int32)
	f.handle(route, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		problem(w, status, detail)
	})
	return calls
}

func (f *fake) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.seen...)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/accesstoken/get":
		f.tokenCalls.Add(1)
		time.Sleep(f.tokenDelay)
		if r.Header.Get("client_id") != "cid" || r.Header.Get("client_secret") != "secret" || r.Header.Get("Ocp-Apim-Subscription-Key") != "sub" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"timestamp":"2025-01-02 10:11:12Z","trace_id":"tr-1","correlation_id":"co-1"}`)
			return
		}
		n := f.tokenSerial.Add(1)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":"86399","ext_expires_in":"0","expires_on":"1","not_before":"0","resource":"x","access_token":"classic-%d"}`, n)
		return
	case "/miami/v1/token":
		f.miamiCalls.Add(1)
		body, _ := io.ReadAll(r.Body)
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("mid:msecret"))
		if r.Header.Get("Authorization") != want || string(body) != "grant_type=client_credentials" || r.Header.Get("Ocp-Apim-Subscription-Key") != "" ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"Client authentication failed."}`)
			return
		}
		n := f.tokenSerial.Add(1)
		fmt.Fprintf(w, `{"access_token":"mgmt-%d","token_type":"Bearer","expires_in":900}`, n)
		return
	}
	f.mu.Lock()
	f.seen = append(f.seen, r.Clone(context.Background()))
	h := f.api[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if h == nil {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func jsonOK(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		io.WriteString(w, body)
	}
}

func newClient(t *testing.T, base string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(base, append([]client.Option{client.WithRetryPolicy(fastRetry)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHeadersClassicFlow(t *testing.T) {
	f, srv := newFake(t)
	f.handle("GET /management/v1/sales-units", jsonOK(`[{"msn":"123456","name":"Shop"}]`))
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"),
		client.WithSystem("acme", "3.1.2"), client.WithPlugin("acme-webshop", "4.5.6"))
	got, err := c.GetAllSalesUnits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]client.MsnInfo{{Msn: "123456", Name: "Shop"}}, got); diff != "" {
		t.Errorf("sales units (-want +got):\n%s", diff)
	}
	r := f.requests()[0]
	for h, want := range map[string]string{
		"Authorization": "Bearer classic-1", "Ocp-Apim-Subscription-Key": "sub",
		"Vipps-System-Name": "acme", "Vipps-System-Version": "3.1.2",
		"Vipps-System-Plugin-Name": "acme-webshop", "Vipps-System-Plugin-Version": "4.5.6",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

func TestHeadersManagementFlow(t *testing.T) {
	f, srv := newFake(t)
	f.handle("GET /management/v1/partners/price-packages", jsonOK(`[]`))
	c := newClient(t, srv.URL, client.WithManagementKeys("mid", "msecret"))
	if _, err := c.GetPartnerPricePackages(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 15*time.Minute || tok.AccessToken != "mgmt-1" {
		t.Errorf("token = %+v, want mgmt-1 for 15m", tok)
	}
	r := f.requests()[0]
	if got := r.Header.Get("Authorization"); got != "Bearer mgmt-1" {
		t.Errorf("Authorization = %q", got)
	}
	if _, ok := r.Header["Ocp-Apim-Subscription-Key"]; ok {
		t.Errorf("management call sent a subscription key")
	}
	if f.miamiCalls.Load() != 1 || f.tokenCalls.Load() != 0 {
		t.Errorf("token calls: miami %d, accesstoken %d; want 1, 0", f.miamiCalls.Load(), f.tokenCalls.Load())
	}
}

func TestColdCacheFetchesOneToken(t *testing.T) {
	f, srv := newFake(t)
	f.tokenDelay = 50 * time.Millisecond // keep the fetch open while all callers arrive
	f.handle("GET /management/v1/sales-units", jsonOK(`[]`))
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if _, err := c.GetAllSalesUnits(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if n := len(f.requests()); n != 100 {
		t.Errorf("API requests = %d, want 100", n)
	}
}

func TestUnauthorizedRefetchesTokenOnce(t *testing.T) {
	f, srv := newFake(t)
	var calls atomic.Int32
	f.handle("GET /management/v1/sales-units/123456", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") == "Bearer classic-1" { // the first token "expired" on the server
			problem(w, http.StatusUnauthorized, "token expired")
			return
		}
		jsonOK(`{"msn":"123456","name":"Shop","businessIdentifier":{"scheme":"business:NO:ORG","id":"987654317"},"configuration":{}}`)(w, r)
	})
	never := f.failing("GET /management/v1/sales-units/999999", http.StatusUnauthorized, "never")
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
	su, err := c.GetMsn(context.Background(), "123456")
	if err != nil {
		t.Fatal(err)
	}
	if su.BusinessIdentifier.Id != "987654317" {
		t.Errorf("sales unit = %+v", su)
	}
	if calls.Load() != 2 || f.tokenCalls.Load() != 2 {
		t.Errorf("API calls %d, token calls %d; want 2, 2", calls.Load(), f.tokenCalls.Load())
	}

	// A 401 that persists is retried exactly once, then returned.
	_, err = c.GetMsn(context.Background(), "999999")
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != http.StatusUnauthorized || p.Detail != "never" {
		t.Fatalf("err = %v, want 401 Problem", err)
	}
	if never.Load() != 2 {
		t.Errorf("API calls = %d, want 2 (one retry after a new token)", never.Load())
	}
}

// problem answers with a problem of status, titled by its standard text.
func problem(w http.ResponseWriter, status int, detail string) {
	title := http.StatusText(status)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"https://vippsmgmt.dev/problems/x","title":%q,"status":%d,"detail":%q,"instance":"urn:uuid:1"}`, title, status, detail)
}

func TestRetryAfter429(t *testing.T) {
	f, srv := newFake(t)
	var calls atomic.Int32
	var times []time.Time
	var mu sync.Mutex
	f.handle("GET /management/v1/sales-units", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			problem(w, http.StatusTooManyRequests, "slow down")
			return
		}
		jsonOK(`[]`)(w, r)
	})
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
	if _, err := c.GetAllSalesUnits(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("calls = %d, want 2", calls.Load())
	}
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want about the 1 s of Retry-After", gap)
	}
}

func TestRetryGivesUp(t *testing.T) {
	f, srv := newFake(t)
	calls := f.failing("GET /management/v1/sales-units", http.StatusBadGateway, "upstream down")
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
	_, err := c.GetAllSalesUnits(context.Background())
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != http.StatusBadGateway {
		t.Fatalf("err = %v, want the last 502", err)
	}
	if calls.Load() != 4 {
		t.Errorf("calls = %d, want MaxAttempts = 4", calls.Load())
	}

	// A Retry-After beyond the time budget is not waited for.
	f.handle("GET /management/v1/sales-units", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		problem(w, http.StatusTooManyRequests, "later")
	})
	start := time.Now()
	_, err = c.GetAllSalesUnits(context.Background())
	if !errors.As(err, &p) || p.Status != http.StatusTooManyRequests || p.RetryAfter != time.Hour {
		t.Fatalf("err = %v (%+v), want 429 with RetryAfter 1h", err, p)
	}
	if time.Since(start) > time.Second {
		t.Errorf("waited %v for a Retry-After past the budget", time.Since(start))
	}
}

// TestRetryAfterFarFuture: a Retry-After too far ahead to count in a time.Duration is past any
// time budget, not a wait that wraps round into one the budget lets through.
func TestRetryAfterFarFuture(t *testing.T) {
	for _, ra := range []string{"Fri, 31 Dec 9999 23:59:59 GMT", "9223372036", "99999999999999999"} {
		f, srv := newFake(t)
		calls := new(atomic.Int32)
		f.handle("GET /management/v1/sales-units", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", ra)
			problem(w, http.StatusTooManyRequests, "later")
		})
		c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
		// Without a deadline only the policy bounds the wait; the cancel only keeps a broken
		// client from hanging the test.
		ctx, cancel := context.WithCancel(context.Background())
		stop := time.AfterFunc(10*time.Second, cancel)
		_, err := c.GetAllSalesUnits(ctx)
		stop.Stop()
		if ctx.Err() != nil {
			t.Errorf("Retry-After %s: the call waited until it was cancelled", ra)
		}
		cancel()
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != http.StatusTooManyRequests {
			t.Errorf("Retry-After %s: got %v, want the 429 at once", ra, err)
		}
		if calls.Load() != 1 {
			t.Errorf("Retry-After %s: %d calls, want 1", ra, calls.Load())
		}
	}
}

func TestNoRetryFor5xxOnDelete(t *testing.T) {
	f, srv := newFake(t)
	calls := f.failing("DELETE /management/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43", http.StatusServiceUnavailable, "try later")
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
	id, _ := client.ParseUUID("0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43")
	if err := c.DeleteProductOrder(context.Background(), id); err == nil {
		t.Fatal("no error")
	}
	if calls.Load() != 1 {
		t.Errorf("calls = %d, want 1: a DELETE is not repeated after a 5xx", calls.Load())
	}
}

func TestPrefillRetriesReuseIdempotencyKey(t *testing.T) {
	f, srv := newFake(t)
	var calls atomic.Int32
	var mu sync.Mutex
	var keys, bodies []string
	f.handle("POST /management/v1/product-orders", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		bodies = append(bodies, string(b))
		mu.Unlock()
		switch calls.Add(1) {
		case 1: // the connection drops before an answer
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case 2:
			problem(w, http.StatusServiceUnavailable, "busy")
		case 3:
			w.Header().Set("Retry-After", "0")
			problem(w, http.StatusTooManyRequests, "slow down")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"prefilledOrderId":"0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43","prefillUrl":"http://x/register/prefilled/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43"}`)
		}
	})
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
	order := client.ProductOrderRequest{
		BusinessIdentifier: client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654317"},
		ProductType:        client.ProductTypeCheckout,
	}
	res, err := c.OrderProduct(context.Background(), order)
	if err != nil {
		t.Fatal(err)
	}
	if res.PrefilledOrderId.String() != "0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43" {
		t.Errorf("result = %+v", res)
	}
	if len(keys) != 4 {
		t.Fatalf("attempts = %d, want 4", len(keys))
	}
	for i := range keys {
		if keys[i] == "" || keys[i] != keys[0] {
			t.Errorf("attempt %d used key %q, first used %q", i+1, keys[i], keys[0])
		}
		if bodies[i] != bodies[0] {
			t.Errorf("attempt %d sent body %s, first sent %s", i+1, bodies[i], bodies[0])
		}
	}

	// A new call gets a new key; a given key is used as is.
	calls.Store(3)
	if _, err := c.OrderProduct(context.Background(), order); err != nil {
		t.Fatal(err)
	}
	calls.Store(3)
	if _, err := c.OrderProduct(context.Background(), order, client.WithIdempotencyKey("order-42")); err != nil {
		t.Fatal(err)
	}
	if keys[4] == keys[0] || keys[5] != "order-42" {
		t.Errorf("keys of later calls = %q, %q; want a fresh one, then order-42", keys[4], keys[5])
	}
	if _, err := c.OrderProduct(context.Background(), order, client.WithIdempotencyKey("not valid!")); err == nil {
		t.Error("invalid idempotency key accepted")
	}
}

func TestContextEndsRetries(t *testing.T) {
	f, srv := newFake(t)
	f.handle("GET /management/v1/sales-units", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		problem(w, http.StatusTooManyRequests, "later")
	})
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"))
	if _, err := c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetAllSalesUnits(ctx)
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want the 429 (a 2 s wait does not fit in the deadline)", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestProblemMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		want   client.Problem
	}{
		{
			name: "problem+json", status: 400, ctype: "application/problem+json",
			body: `{"type":"https://vippsmgmt.dev/problems/invalid-request","title":"Invalid request","status":400,"detail":"productType: must be one of","instance":"urn:uuid:42","extraDetails":[{"key":"productType","value":"bad"}]}`,
			want: client.Problem{Status: 400, Type: "https://vippsmgmt.dev/problems/invalid-request", Title: "Invalid request", Detail: "productType: must be one of", Instance: "urn:uuid:42",
				ExtraDetails: []client.ExtraDetails{{Key: "productType", Value: "bad"}}},
		},
		{
			name: "404 as application/json", status: 404, ctype: "application/json;charset=UTF-8",
			body: `{"type":"t","title":"Not found","status":404,"detail":"no such order","instance":"urn:uuid:7"}`,
			want: client.Problem{Status: 404, Type: "t", Title: "Not found", Detail: "no such order", Instance: "urn:uuid:7"},
		},
		{
			name: "gateway", status: 401, ctype: "application/json",
			body: `{"statusCode":401,"message":"Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}`,
			want: client.Problem{Status: 401, Title: "Unauthorized", Detail: "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."},
		},
		{
			name: "identity", status: 400, ctype: "application/json",
			body: `{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'x' was not found in the directory.","error_codes":[700016],"timestamp":"2025-01-02 10:11:12Z","trace_id":"tr","correlation_id":"co"}`,
			want: client.Problem{Status: 400, Title: "unauthorized_client", Detail: "AADSTS700016: Application with identifier 'x' was not found in the directory.", Instance: "tr",
				ExtraDetails: []client.ExtraDetails{{Key: "error_code", Value: "700016"}, {Key: "timestamp", Value: "2025-01-02 10:11:12Z"}, {Key: "trace_id", Value: "tr"}, {Key: "correlation_id", Value: "co"}}},
		},
		{
			name: "oauth", status: 401, ctype: "application/json",
			body: `{"error":"invalid_client","error_description":"Client authentication failed."}`,
			want: client.Problem{Status: 401, Title: "invalid_client", Detail: "Client authentication failed."},
		},
		{
			name: "html", status: 502, ctype: "text/html",
			body: "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>",
			want: client.Problem{Status: 502, Title: "Bad Gateway", Detail: "<html><body> <h1>502 Bad Gateway</h1> </body></html>"},
		},
		{
			// A long page is cut whole characters at a time: the detail stays valid UTF-8.
			name: "long text", status: 503, ctype: "text/plain; charset=utf-8",
			body: "x" + strings.Repeat("ø", 150),
			want: client.Problem{Status: 503, Title: "Service Unavailable", Detail: "x" + strings.Repeat("ø", 99) + "..."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, client.WithAdminToken("x"), client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 1}))
			_, err := c.Admin().ListPartners(context.Background())
			var p *client.Problem
			if !errors.As(err, &p) {
				t.Fatalf("err = %v (%T), want *client.Problem", err, err)
			}
			tc.want.Method, tc.want.URL = "GET", srv.URL+"/admin/v1/partners"
			if diff := cmp.Diff(&tc.want, p); diff != "" {
				t.Errorf("problem (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenErrorIsProblem(t *testing.T) {
	_, srv := newFake(t)
	c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "wrong", "sub"))
	_, err := c.GetAllSalesUnits(context.Background())
	var p *client.Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want *client.Problem", err)
	}
	if p.Status != 401 || p.Title != "invalid_client" || !strings.Contains(p.Detail, "AADSTS7000215") {
		t.Errorf("problem = %+v", p)
	}
	if want := "POST " + srv.URL + "/accesstoken/get: 401 invalid_client: AADSTS7000215: Invalid client secret provided."; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		base string
		opts []client.Option
	}{
		{"ftp://x", nil},
		{"not a url", nil},
		{"http://x", []client.Option{client.WithPartnerKeys("a", "b", "")}},
		{"http://x", []client.Option{client.WithManagementKeys("a", "")}},
		{"http://x", []client.Option{client.WithPartnerKeys("a", "b", "c"), client.WithManagementKeys("a", "b")}},
		{"http://x", []client.Option{client.WithSystem(strings.Repeat("x", 31), "1")}},
		{"http://x", []client.Option{client.WithRetryPolicy(client.RetryPolicy{})}},
	} {
		if _, err := client.New(tc.base, tc.opts...); err == nil {
			t.Errorf("New(%q, %d options) succeeded", tc.base, len(tc.opts))
		}
	}
	c, err := client.New("http://x/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAllSalesUnits(context.Background()); err == nil || !strings.Contains(err.Error(), "no API keys") {
		t.Errorf("call without keys: %v", err)
	}
	if _, err := c.Admin().ListPartners(context.Background()); err == nil || !strings.Contains(err.Error(), "no admin token") {
		t.Errorf("admin call without token: %v", err)
	}
}

func TestBaseURLWithPath(t *testing.T) {
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/vipps", client.WithAdminToken("x"))
	if _, err := c.Admin().ListPartners(context.Background()); err != nil {
		t.Fatal(err)
	}
	if path != "/vipps/admin/v1/partners" {
		t.Errorf("path = %q, want the base path kept", path)
	}
}

// TestAdminPagesFollowTheCursor: the operator lists send the cursor the server answered and stop
// on an empty one; a server that answers the cursor it was sent would make the walk endless, so
// it ends with an error; a caller that stops early reads no further page.
func TestAdminPagesFollowTheCursor(t *testing.T) {
	const route = "GET /admin/v1/product-orders"
	pages := func(items string, next func(cursor string) string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer x" {
				problem(w, http.StatusUnauthorized, "no token")
				return
			}
			w.Header().Set("Vippsmgmt-Next-Cursor", next(r.URL.Query().Get("cursor")))
			jsonOK(items)(w, r)
		}
	}
	cursors := func(f *fake) []string {
		var out []string
		for _, r := range f.requests() {
			out = append(out, r.URL.Query().Get("cursor"))
		}
		return out
	}

	t.Run("walks to the last page", func(t *testing.T) {
		f, srv := newFake(t)
		f.handle(route, pages(`[{}]`, func(cursor string) string {
			return map[string]string{"": "c1", "c1": "c2", "c2": ""}[cursor]
		}))
		got, err := newClient(t, srv.URL, client.WithAdminToken("x")).Admin().ListProductOrders(context.Background(), client.ProductOrderFilter{})
		if err != nil || len(got) != 3 {
			t.Fatalf("got %d orders, %v; want 3, nil", len(got), err)
		}
		if diff := cmp.Diff([]string{"", "c1", "c2"}, cursors(f)); diff != "" {
			t.Errorf("cursors sent (-want +got):\n%s", diff)
		}
	})

	// A server that would make the walk endless: the client stops at the page that shows it.
	for _, tc := range []struct {
		name, items string
		next        func(cursor string) string
		want        string
		reads       int
	}{
		{"repeated cursor", `[{}]`, func(string) string { return "same" }, "same cursor twice", 2},
		{"empty pages that never end", `[]`, func(cursor string) string { return cursor + "x" }, "empty page", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.handle(route, pages(tc.items, tc.next))
			// The cancel only keeps a client that walks on from hanging the test.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := time.AfterFunc(10*time.Second, cancel)
			defer stop.Stop()
			got, err := newClient(t, srv.URL, client.WithAdminToken("x")).Admin().ListProductOrders(ctx, client.ProductOrderFilter{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || got != nil {
				t.Fatalf("got %d orders, %v; want an error containing %q", len(got), err, tc.want)
			}
			if n := len(f.requests()); n != tc.reads {
				t.Errorf("%d pages read, want %d", n, tc.reads)
			}
		})
	}

	t.Run("caller stops early", func(t *testing.T) {
		f, srv := newFake(t)
		f.handle(route, pages(`[{}]`, func(cursor string) string { return cursor + "x" }))
		adm := newClient(t, srv.URL, client.WithAdminToken("x")).Admin()
		for _, err := range client.All(context.Background(), func(ctx context.Context, p client.PageRequest) (*client.Page[client.AdminProductOrder], error) {
			return adm.ListProductOrdersPage(ctx, client.ProductOrderFilter{}, p)
		}) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d pages read after the first item, want 1", n)
		}
	})

	t.Run("page that is not a list", func(t *testing.T) {
		for body, want := range map[string]string{"": "empty response body", `{"items":[]}`: "decode response"} {
			f, srv := newFake(t)
			f.handle(route, func(w http.ResponseWriter, r *http.Request) { jsonOK(body)(w, r) })
			_, err := newClient(t, srv.URL, client.WithAdminToken("x")).Admin().ListProductOrdersPage(context.Background(), client.ProductOrderFilter{}, client.PageRequest{})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("body %q: got %v, want an error containing %q", body, err, want)
			}
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		f, srv := newFake(t)
		f.handle(route, pages(`[{}]`, func(string) string { return "" }))
		_, err := newClient(t, srv.URL, client.WithAdminToken("wrong")).Admin().ListProductOrders(context.Background(), client.ProductOrderFilter{})
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != http.StatusUnauthorized {
			t.Fatalf("got %v, want a 401 problem", err)
		}
	})
}

// TestAnswerSize: a list longer than any fixed buffer is read whole; an answer over the size the
// caller allows is an error that says so, not a truncated list, and is not fetched again; an
// error page of any size still becomes a Problem.
func TestAnswerSize(t *testing.T) {
	const route = "GET /management/v1/sales-units"
	item := `{"msn":"123456","name":"` + strings.Repeat("n", 90) + `"},`
	count := (9<<20)/len(item) + 1 // past the 8 MiB the client once stopped at
	list := "[" + strings.Repeat(item, count)
	list = list[:len(list)-1] + "]"

	f, srv := newFake(t)
	calls := new(atomic.Int32)
	f.handle(route, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		jsonOK(list)(w, r)
	})
	units, err := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub")).GetAllSalesUnits(context.Background())
	if err != nil || len(units) != count {
		t.Fatalf("a %d-byte list: got %d units, %v; want %d, nil", len(list), len(units), err, count)
	}

	for limit, wantErr := range map[int64]bool{int64(len(list)): false, int64(len(list)) - 1: true, math.MaxInt64: false} {
		calls.Store(0)
		c := newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"), client.WithMaxResponseBytes(limit))
		units, err := c.GetAllSalesUnits(context.Background())
		if !wantErr {
			if err != nil || len(units) != count {
				t.Errorf("limit %d = the list's size: got %d units, %v", limit, len(units), err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("response larger than %d bytes", limit)) || units != nil {
			t.Errorf("limit %d, one byte short: got %d units, %v; want an error naming the limit", limit, len(units), err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("limit %d: the list was fetched %d times, want once", limit, n)
		}
	}

	f.handle(route, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>upstream gone "+strings.Repeat("x", 3<<20))
	})
	_, err = newClient(t, srv.URL, client.WithPartnerKeys("cid", "secret", "sub"), client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 1})).GetAllSalesUnits(context.Background())
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != http.StatusBadGateway || !strings.HasPrefix(p.Detail, "<html>upstream gone") {
		t.Errorf("a 3 MiB error page: got %v, want a 502 Problem describing it", err)
	}

	if _, err := client.New(srv.URL, client.WithMaxResponseBytes(0)); err == nil {
		t.Error("WithMaxResponseBytes(0) accepted")
	}
}
