package report_test

// The report against real servers: a sloppy integration in plain net/http must trigger every
// finding; the project's own client running the quick start must trigger none at warning or above.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// sloppy is an integration written without reading the guides: no system headers, a new token
// for everything, new idempotency keys on retry, no backoff.
type sloppy struct {
	t    *testing.T
	base string
	ids  map[string]bool // X-Request-Id of every answer
}

func (s *sloppy) do(method, path string, header map[string]string, body string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s.ids[resp.Header.Get("X-Request-Id")] = true
	return resp.StatusCode, b
}

func (s *sloppy) token(k fixtures.Keys) (int, string) {
	s.t.Helper()
	status, b := s.do("POST", "/accesstoken/get", map[string]string{
		"client_id": k.ClientID, "client_secret": k.ClientSecret, "Ocp-Apim-Subscription-Key": k.SubscriptionKey}, "")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(b, &tok)
	return status, tok.AccessToken
}

func (s *sloppy) call(k fixtures.Keys, token, method, path string, header map[string]string, body string) (int, []byte) {
	s.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + token, "Ocp-Apim-Subscription-Key": k.SubscriptionKey, "Content-Type": "application/json"}
	for n, v := range header {
		h[n] = v
	}
	return s.do(method, path, h, body)
}

func (s *sloppy) want(status int, got int, b []byte, what string) {
	s.t.Helper()
	if got != status {
		s.t.Fatalf("%s: status %d (%s), want %d", what, got, b, status)
	}
}

// run drives every bad habit once or as often as its threshold needs, against two server
// processes on one database.
func (s *sloppy) run(other string) {
	partner, merchant, mgmt := fixtures.DemoPartnerKeys, fixtures.DemoMerchantKeys, fixtures.DemoManagementKeys
	// token-not-reused: a fresh token again and again, alternating between the two servers (each
	// allows a burst of three); retry-too-fast: the burst runs out and the 429 is retried at once.
	var tok string
	for i := range 6 {
		if i%2 == 1 {
			s.base, other = other, s.base
		}
		status, t := s.token(partner)
		s.want(200, status, nil, fmt.Sprintf("token %d", i))
		tok = t
	}
	status, _ := s.token(partner)
	s.want(429, status, nil, "token past the burst")
	status, _ = s.token(partner)
	s.want(429, status, nil, "token retried at once")

	// subscription-key-on-miami.
	basic := base64.StdEncoding.EncodeToString([]byte(mgmt.ClientID + ":" + mgmt.ClientSecret))
	status, b := s.do("POST", "/miami/v1/token", map[string]string{"Authorization": "Basic " + basic,
		"Ocp-Apim-Subscription-Key": partner.SubscriptionKey, "Content-Type": "application/x-www-form-urlencoded"}, "grant_type=client_credentials")
	s.want(401, status, b, "miami with a subscription key")

	// idempotency-key-reused: one key, two bodies.
	order := func(product, key string) (int, []byte) {
		return s.call(partner, tok, "POST", "/management/v1/product-orders", map[string]string{"Idempotency-Key": key},
			`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"`+product+`"}`)
	}
	status, b = order("CHECKOUT", "key-1")
	s.want(201, status, b, "prefill")
	var created struct{ PrefilledOrderID string }
	if err := json.Unmarshal(b, &created); err != nil || created.PrefilledOrderID == "" {
		s.t.Fatalf("prefill answer %s: %v", b, err)
	}
	status, b = order("LOGIN", "key-1")
	s.want(409, status, b, "prefill with a reused key")
	// idempotency-key-random-retry: the same body under a new key.
	status, b = order("CHECKOUT", "key-2")
	s.want(201, status, b, "prefill retried with a new key")

	// deprecated-endpoint and polling: the v1 details once, then the v2 details in a tight loop.
	status, b = s.call(partner, tok, "GET", "/management/v1/product-orders/"+created.PrefilledOrderID+"/details", nil, "")
	s.want(200, status, b, "v1 details")
	status, b = s.call(partner, tok, "GET", "/management/v1/product-orders", nil, "")
	s.want(200, status, b, "v1 list")
	for range 6 {
		status, b = s.call(partner, tok, "GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, "")
		s.want(200, status, b, "v2 details")
	}

	// client-errors: a sales unit that does not exist, over and over.
	for range vippsmgmt.ClientErrorMinRequests {
		status, b = s.call(partner, tok, "GET", "/management/v1/sales-units/999999", nil, "")
		s.want(404, status, b, "unknown sales unit")
	}

	// merchant-keys-on-partner-operation.
	status, mtok := s.token(merchant)
	s.want(200, status, nil, "merchant token")
	status, b = s.call(merchant, mtok, "GET", "/management/v1/partners/price-packages", nil, "")
	s.want(403, status, b, "price packages with merchant keys")
}

func findingsOf(r *report.Report, clientID string) (*report.Caller, map[string]vippsmgmt.Finding) {
	for i, c := range r.Callers {
		if c.ClientID == clientID {
			m := map[string]vippsmgmt.Finding{}
			for _, f := range c.Findings {
				m[f.Code] = f
			}
			return &r.Callers[i], m
		}
	}
	return nil, nil
}

func TestSloppyIntegration(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, backend, testserver.Options{TokenRate: 0.001, TokenBurst: 3})
			// A second process on the same database: the report must count across both.
			second := testserver.Start(t, backend, testserver.Options{DSN: srv.DSN, TokenRate: 0.001, TokenBurst: 3})
			s := &sloppy{t: t, base: srv.URL, ids: map[string]bool{}}
			s.run(second.URL)
			ctx := context.Background()
			if err := second.App.Report.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			rep, err := srv.App.Report.Report(ctx, "")
			if err != nil {
				t.Fatal(err)
			}

			partner, pf := findingsOf(rep, fixtures.DemoPartnerKeys.ClientID)
			_, mf := findingsOf(rep, fixtures.DemoMerchantKeys.ClientID)
			_, gf := findingsOf(rep, fixtures.DemoManagementKeys.ClientID)
			if partner == nil || partner.PartnerID != fixtures.DemoPartnerID || partner.Kind != vippsmgmt.KeyPartner {
				t.Fatalf("partner caller = %+v", partner)
			}
			if rep.Callers[0].ClientID != fixtures.DemoPartnerKeys.ClientID {
				t.Errorf("first caller is %s; the partner with the most findings comes first", rep.Callers[0].ClientID)
			}
			wantCounts := map[string]int64{
				vippsmgmt.FindingTokenNotReused: 5, vippsmgmt.FindingRetryTooFast: 1, vippsmgmt.FindingIdempotencyKeyReused: 1,
				vippsmgmt.FindingIdempotencyKeyRandomRetry: 1, vippsmgmt.FindingDeprecatedEndpoint: 1,
				vippsmgmt.FindingPolling: 7 - 1 - vippsmgmt.PollBurst, // the v1 read and six v2 reads of one order vippsmgmt.FindingClientErrors: vippsmgmt.ClientErrorMinRequests,
			}
			for code, n := range wantCounts {
				if f, ok := pf[code]; !ok || f.Count != n {
					t.Errorf("partner %s = %+v, want count %d", code, f, n)
				}
			}
			all := map[string]vippsmgmt.Finding{}
			for _, m := range []map[string]vippsmgmt.Finding{pf, mf, gf} {
				for code, f := range m {
					all[code] = f
				}
			}
			deprecated := map[string]int64{}
			for _, f := range partner.Findings {
				if f.Code == vippsmgmt.FindingDeprecatedEndpoint {
					deprecated[f.Route] = f.Count
				}
			}
			if want := map[string]int64{vippsmgmt.RouteOrderDetailsV1: 1, vippsmgmt.RouteOrderListV1: 1}; !maps.Equal(deprecated, want) {
				t.Errorf("deprecated-endpoint findings %v, want %v", deprecated, want)
			}
			if _, ok := mf[vippsmgmt.FindingMerchantKeysOnPartnerOperation]; !ok {
				t.Errorf("merchant findings %v lack %s", mf, vippsmgmt.FindingMerchantKeysOnPartnerOperation)
			}
			if _, ok := gf[vippsmgmt.FindingSubscriptionKeyOnMiami]; !ok {
				t.Errorf("management key findings %v lack %s", gf, vippsmgmt.FindingSubscriptionKeyOnMiami)
			}
			for _, code := range []string{vippsmgmt.FindingTokenNotReused, vippsmgmt.FindingNoSystemHeaders, vippsmgmt.FindingSubscriptionKeyOnMiami,
				vippsmgmt.FindingIdempotencyKeyReused, vippsmgmt.FindingIdempotencyKeyRandomRetry, vippsmgmt.FindingRetryTooFast,
				vippsmgmt.FindingDeprecatedEndpoint, vippsmgmt.FindingMerchantKeysOnPartnerOperation, vippsmgmt.FindingPolling, vippsmgmt.FindingClientErrors} {
				f, ok := all[code]
				switch {
				case !ok:
					t.Errorf("no %s finding", code)
				case !s.ids[f.ExampleRequestID]:
					t.Errorf("%s: example request %q was not one of the requests", code, f.ExampleRequestID)
				case f.Explanation == "" || f.FirstSeen.IsZero() || f.LastSeen.Before(f.FirstSeen) || f.Severity.Rank() < 2:
					t.Errorf("%s is incomplete: %+v", code, f)
				}
			}
			if f := pf[vippsmgmt.FindingClientErrors]; !strings.Contains(f.Explanation, "Not found") {
				t.Errorf("client-errors does not name the frequent problem: %s", f.Explanation)
			}
			for i := 1; i < len(partner.Findings); i++ {
				if partner.Findings[i].Severity.Rank() > partner.Findings[i-1].Severity.Rank() {
					t.Errorf("findings not worst first: %s after %s", partner.Findings[i].Code, partner.Findings[i-1].Code)
				}
			}

			// The operator API shows the same, in the documented shape.
			var raw struct {
				Callers []map[string]json.RawMessage `json:"callers"`
			}
			s.admin("GET", srv.URL+"/admin/v1/report?clientId="+fixtures.DemoPartnerKeys.ClientID, 200, &raw)
			if len(raw.Callers) != 1 {
				t.Fatalf("GET /admin/v1/report?clientId=: %d callers", len(raw.Callers))
			}
			for _, field := range []string{"clientId", "partnerId", "requests", "findings"} {
				if _, ok := raw.Callers[0][field]; !ok {
					t.Errorf("caller lacks %q", field)
				}
			}
			var findings []map[string]any
			_ = json.Unmarshal(raw.Callers[0]["findings"], &findings)
			if len(findings) != len(partner.Findings) {
				t.Errorf("the API shows %d findings, the report %d", len(findings), len(partner.Findings))
			}
			for _, field := range []string{"code", "severity", "count", "firstSeen", "lastSeen", "exampleRequestId", "explanation"} {
				if len(findings) > 0 && findings[0][field] == nil {
					t.Errorf("finding lacks %q: %v", field, findings[0])
				}
			}
			s.admin("GET", srv.URL+"/admin/v1/report?clientId=", 400, nil)

			// A new window forgets everything, in every process.
			s.admin("DELETE", second.URL+"/admin/v1/report", 200, nil)
			var after struct {
				WindowStart string            `json:"windowStart"`
				Callers     []json.RawMessage `json:"callers"`
			}
			s.admin("GET", srv.URL+"/admin/v1/report", 200, &after)
			if after.Callers == nil || len(after.Callers) != 0 || after.WindowStart == "" {
				t.Errorf("after reset: %+v", after)
			}
		})
	}
}

// admin calls the operator API and decodes the answer into v.
func (s *sloppy) admin(method, url string, status int, v any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+testserver.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
}

// quickStart runs steps 3 to 11 of the quick start with the SDK.
func quickStart(t *testing.T, c *client.Client) {
	ctx := context.Background()
	units, err := c.GetAllSalesUnits(ctx)
	if err != nil || len(units) == 0 {
		t.Fatalf("GetAllSalesUnits: %v, %d units", err, len(units))
	}
	su, err := c.GetMsn(ctx, units[0].Msn)
	if err != nil {
		t.Fatalf("GetMsn: %v", err)
	}
	if _, err := c.GetSalesUnitsByBusinessIdentifier(ctx, su.BusinessIdentifier); err != nil {
		t.Fatalf("GetSalesUnitsByBusinessIdentifier: %v", err)
	}
	if _, err := c.GetMerchantByBusinessIdentifier(ctx, su.BusinessIdentifier); err != nil {
		t.Fatalf("GetMerchantByBusinessIdentifier: %v", err)
	}
	if _, err := c.GetProductOrders(ctx); err != nil {
		t.Fatalf("GetProductOrders: %v", err)
	}
	order, err := c.OrderProduct(ctx, client.ProductOrderRequest{BusinessIdentifier: su.BusinessIdentifier, ProductType: client.ProductTypeCheckout})
	if err != nil {
		t.Fatalf("OrderProduct: %v", err)
	}
	if _, err := c.GetProductOrderDetails(ctx, order.PrefilledOrderId); err != nil {
		t.Fatalf("GetProductOrderDetails: %v", err)
	}
	if err := c.DeleteProductOrder(ctx, order.PrefilledOrderId); err != nil {
		t.Fatalf("DeleteProductOrder: %v", err)
	}
	if _, err := c.GetProductOrderDetails(ctx, order.PrefilledOrderId); err == nil {
		t.Fatal("the deleted order is still there")
	}
	if _, err := c.GetPartnerPricePackages(ctx); err != nil {
		t.Fatalf("GetPartnerPricePackages: %v", err)
	}
}

func TestClientQuickStartIsClean(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, backend, testserver.Options{})
			p, m := fixtures.DemoPartnerKeys, fixtures.DemoManagementKeys
			for _, keys := range []client.Option{
				client.WithPartnerKeys(p.ClientID, p.ClientSecret, p.SubscriptionKey),
				client.WithManagementKeys(m.ClientID, m.ClientSecret),
			} {
				c, err := client.New(srv.URL, keys, client.WithSystem("acme-pos", "1.0.0"))
				if err != nil {
					t.Fatal(err)
				}
				// Twice, as a CI job running its tests more than once would.
				quickStart(t, c)
				quickStart(t, c)
			}
			// Through the operator API, with the SDK's admin method.
			adm, err := client.New(srv.URL, client.WithAdminToken(testserver.AdminToken))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := adm.Admin().Report(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, c := range rep.Callers {
				ids = append(ids, c.ClientId)
				if c.Requests == 0 {
					t.Errorf("%s: no requests counted", c.ClientId)
				}
				for _, f := range c.Findings {
					if f.Severity == client.ReportSeverityWarning || f.Severity == client.ReportSeverityError {
						var buf bytes.Buffer
						_ = json.NewEncoder(&buf).Encode(f)
						t.Errorf("%s: %s", c.ClientId, buf.String())
					}
				}
			}
			slices.Sort(ids)
			if want := []string{m.ClientID, p.ClientID}; !slices.Equal(ids, want) {
				t.Errorf("callers %v, want %v", ids, want)
			}
		})
	}
}

func TestProblemOf(t *testing.T) {
	tests := []struct {
		body, problem, detail string
	}{
		{`{"type":"x","title":"Not found","status":404,"detail":"No sales unit 1."}`, "Not found", "No sales unit 1."},
		{`{"error":"invalid_client","error_description":"AADSTS7000215: wrong"}`, "invalid_client", "AADSTS7000215: wrong"},
		{`{"statusCode":401,"message":"Access denied due to missing subscription key."}`, "Access denied due to missing subscription key.", ""},
		{`{"title":"Bad","detail":"nul \u0000 and newline \n here"}`, "Bad", "nul   and newline   here"},
		{`{"title":"Cut", "detail":"` + strings.Repeat("é", 300) + `"}`, "Cut", strings.Repeat("é", 100) + "…"},
		{`{"title":"trunc`, "(no problem body)", ""},
		{`{"type":"x","title":"Invalid request","status":400,"detail":"cut sho`, "Invalid request", ""},
		{`[1,2]`, "(no problem body)", ""},
		{``, "(no problem body)", ""},
	}
	for _, tt := range tests {
		p, d := report.ProblemOf([]byte(tt.body))
		if p != tt.problem || d != tt.detail {
			t.Errorf("ProblemOf(%.40q) = %q, %q; want %q, %q", tt.body, p, d, tt.problem, tt.detail)
		}
	}
}

// TestInjectedFaults: faults the operator injects are not the caller's client errors, but a
// retry that ignores an injected 429's Retry-After is still too fast.
func TestInjectedFaults(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	s := &sloppy{t: t, base: srv.URL, ids: map[string]bool{}}
	partner := fixtures.DemoPartnerKeys
	rule := func(body string) {
		if status, b := testserver.AdminJSON(t, "POST", srv.URL+"/admin/v1/faults", body); status != 201 {
			t.Fatalf("fault rule %s: %d %s", body, status, b)
		}
	}
	status, tok := s.token(partner)
	s.want(200, status, nil, "token")
	n := vippsmgmt.ClientErrorMinRequests + 5
	rule(fmt.Sprintf(`{"match":{"operationId":"getAllSalesUnits"},"effect":{"status":401},"count":%d}`, n))
	for range n {
		status, b := s.call(partner, tok, "GET", "/management/v1/sales-units", nil, "")
		s.want(401, status, b, "injected 401")
	}
	rule(`{"match":{"operationId":"getMsn"},"effect":{"status":429,"retryAfterSeconds":30},"count":1}`)
	status, b := s.call(partner, tok, "GET", "/management/v1/sales-units/"+fixtures.DemoMSN, nil, "")
	s.want(429, status, b, "injected 429")
	status, b = s.call(partner, tok, "GET", "/management/v1/sales-units/"+fixtures.DemoMSN, nil, "")
	s.want(200, status, b, "retry at once")

	rep, err := srv.App.Report.Report(context.Background(), partner.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	_, f := findingsOf(rep, partner.ClientID)
	if c, ok := f[vippsmgmt.FindingClientErrors]; ok {
		t.Errorf("injected 401s counted as client errors: %+v", c)
	}
	if r, ok := f[vippsmgmt.FindingRetryTooFast]; !ok || r.Count != 1 || r.Route != "GET /management/v1/sales-units/{msn}" {
		t.Errorf("retry after an injected 429 = %+v, want one on GET /management/v1/sales-units/{msn}", r)
	}
}
