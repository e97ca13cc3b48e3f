package vippsmgmt

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// req is a well-behaved request at t0+at.
func req(at time.Duration, route string, status int) RequestFacts {
	method, path, _ := strings.Cut(route, " ")
	return RequestFacts{Time: t0.Add(at), Method: method, Route: route, Path: path, Status: status, SystemName: true, SystemVersion: true}
}

func TestObserve(t *testing.T) {
	const salesUnits = "GET /management/v1/sales-units"
	token := func(at time.Duration) RequestFacts {
		r := req(at, "POST /accesstoken/get", 200)
		r.TokenExpires = r.Time.Add(time.Hour)
		return r
	}
	prefill := func(at time.Duration, body, key uint64, status int) RequestFacts {
		r := req(at, RoutePrefill, status)
		r.BodyHash, r.IdempotencyKey = body, key
		return r
	}
	details := func(at time.Duration, order string) RequestFacts {
		r := req(at, RouteOrderDetails, 200)
		r.OrderID = order
		return r
	}
	with := func(r RequestFacts, f func(*RequestFacts)) RequestFacts { f(&r); return r }
	tests := []struct {
		name     string
		requests []RequestFacts
		want     []Signal // of the last request
	}{
		{"calm request", []RequestFacts{req(0, salesUnits, 200)}, nil},
		{"token reused", []RequestFacts{token(0), req(time.Minute, salesUnits, 200)}, nil},
		{"token refreshed in its last minute", []RequestFacts{token(0), token(time.Hour - 30*time.Second)}, nil},
		{"new token while the old one is valid", []RequestFacts{token(0), token(time.Minute)}, []Signal{{FindingTokenNotReused, ""}}},
		{"new token after the sandbox clock went back", []RequestFacts{
			with(token(0), func(r *RequestFacts) {
				r.ClockTime = t0.Add(25 * time.Hour)
				r.TokenExpires = r.ClockTime.Add(time.Hour)
			}),
			with(token(time.Minute), func(r *RequestFacts) { r.ClockTime = r.Time })}, nil},
		{"failed token request", []RequestFacts{token(0), with(token(time.Minute), func(r *RequestFacts) { r.Status = 401 })}, nil},
		{"no system name", []RequestFacts{with(req(0, salesUnits, 200), func(r *RequestFacts) { r.SystemName = false })}, []Signal{{FindingNoSystemHeaders, ""}}},
		{"plugin name without version", []RequestFacts{with(req(0, salesUnits, 200), func(r *RequestFacts) { r.PluginName = true })}, []Signal{{FindingNoSystemHeaders, ""}}},
		{"plugin headers", []RequestFacts{with(req(0, salesUnits, 200), func(r *RequestFacts) { r.PluginName, r.PluginVersion = true, true })}, nil},
		{"subscription key on miami", []RequestFacts{with(req(0, RouteMiamiToken, 401), func(r *RequestFacts) { r.SubscriptionKey = true })}, []Signal{{FindingSubscriptionKeyOnMiami, ""}}},
		{"subscription key on accesstoken", []RequestFacts{with(req(0, "POST /accesstoken/get", 200), func(r *RequestFacts) { r.SubscriptionKey = true })}, nil},
		{"idempotency conflict", []RequestFacts{prefill(0, 1, 1, 201), prefill(time.Second, 2, 1, 409)}, []Signal{{FindingIdempotencyKeyReused, ""}}},
		{"injected conflict", []RequestFacts{with(prefill(0, 2, 1, 409), func(r *RequestFacts) { r.Injected = true })}, nil},
		{"retry with the same key", []RequestFacts{prefill(0, 1, 1, 500), prefill(time.Second, 1, 1, 201)}, nil},
		{"retry with a new key", []RequestFacts{prefill(0, 1, 1, 500), prefill(time.Second, 1, 2, 201)}, []Signal{{FindingIdempotencyKeyRandomRetry, ""}}},
		{"same body after the order was deleted", []RequestFacts{
			with(prefill(0, 1, 1, 201), func(r *RequestFacts) { r.OrderID = "o1" }),
			with(req(time.Second, RouteDeleteOrder, 200), func(r *RequestFacts) { r.OrderID = "o1" }),
			prefill(2*time.Second, 1, 2, 201)}, nil},
		{"same body after another order was deleted", []RequestFacts{
			with(prefill(0, 1, 1, 201), func(r *RequestFacts) { r.OrderID = "o1" }),
			with(req(time.Second, RouteDeleteOrder, 200), func(r *RequestFacts) { r.OrderID = "o2" }),
			prefill(2*time.Second, 1, 2, 201)}, []Signal{{FindingIdempotencyKeyRandomRetry, ""}}},
		{"same body much later", []RequestFacts{prefill(0, 1, 1, 201), prefill(RandomRetryWindow+time.Second, 1, 2, 201)}, nil},
		{"rejected body repeated", []RequestFacts{prefill(0, 1, 1, 400), prefill(time.Second, 1, 2, 400)}, nil},
		{"retry before Retry-After", []RequestFacts{with(req(0, salesUnits, 429), func(r *RequestFacts) { r.RetryAfter = 2 * time.Second }), req(time.Second, salesUnits, 200)},
			[]Signal{{FindingRetryTooFast, salesUnits}}},
		{"retry after Retry-After", []RequestFacts{with(req(0, salesUnits, 429), func(r *RequestFacts) { r.RetryAfter = 2 * time.Second }), req(2*time.Second, salesUnits, 200)}, nil},
		{"retry after an injected 429", []RequestFacts{with(req(0, salesUnits, 429), func(r *RequestFacts) { r.RetryAfter, r.Injected = time.Second, true }), req(10*time.Millisecond, salesUnits, 200)},
			[]Signal{{FindingRetryTooFast, salesUnits}}},
		{"retry at once after a 5xx", []RequestFacts{req(0, salesUnits, 503), req(RetryFloor/2, salesUnits, 200)}, []Signal{{FindingRetryTooFast, salesUnits}}},
		{"earlier request arriving late", []RequestFacts{req(time.Second, salesUnits, 503), req(0, salesUnits, 200)}, nil},
		{"retry at once after a dropped connection", []RequestFacts{with(req(0, salesUnits, 444), func(r *RequestFacts) { r.NoAnswer, r.Injected = true, true }), req(time.Millisecond, salesUnits, 200)},
			[]Signal{{FindingRetryTooFast, salesUnits}}},
		{"retry with backoff after a 5xx", []RequestFacts{req(0, salesUnits, 503), req(RetryFloor, salesUnits, 200)}, nil},
		{"other request after a 5xx", []RequestFacts{req(0, salesUnits, 503), req(time.Millisecond, "GET /management/v1/partners/price-packages", 200)}, nil},
		{"deprecated details", []RequestFacts{req(0, RouteOrderDetailsV1, 200)}, []Signal{{FindingDeprecatedEndpoint, RouteOrderDetailsV1}}},
		{"deprecated list", []RequestFacts{req(0, RouteOrderListV1, 200)}, []Signal{{FindingDeprecatedEndpoint, RouteOrderListV1}}},
		{"merchant keys on prefill", []RequestFacts{with(req(0, RoutePrefill, 403), func(r *RequestFacts) { r.Kind = KeyMerchant })},
			[]Signal{{FindingMerchantKeysOnPartnerOperation, RoutePrefill}}},
		{"partner forbidden", []RequestFacts{with(req(0, RoutePrefill, 403), func(r *RequestFacts) { r.Kind = KeyPartner })}, nil},
		{"reads after a change", []RequestFacts{details(0, "a"), details(time.Second, "a"), details(2*time.Second, "a"), details(3*time.Second, "a")}, nil},
		{"polling one order", []RequestFacts{details(0, "a"), details(time.Second, "a"), details(2*time.Second, "a"), details(3*time.Second, "a"), details(4*time.Second, "a")},
			[]Signal{{FindingPolling, RouteOrderDetails}}},
		{"reading many orders", []RequestFacts{details(0, "a"), details(time.Second, "b"), details(2*time.Second, "c"), details(3*time.Second, "d"), details(4*time.Second, "e")}, nil},
		{"calm polling", []RequestFacts{details(0, "a"), details(PollInterval, "a"), details(2*PollInterval, "a"), details(3*PollInterval, "a"), details(4*PollInterval, "a")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st CallerState
			var got []Signal
			for _, r := range tt.requests {
				got = st.Observe(r)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("signals of the last request (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCallerStateBounded sends many distinct requests and checks that the remembered state stays
// small.
func TestCallerStateBounded(t *testing.T) {
	var st CallerState
	for i := range 10000 {
		at := time.Duration(i) * time.Millisecond
		r := req(at, RoutePrefill, 503)
		r.BodyHash, r.IdempotencyKey, r.Path = uint64(i+1), uint64(i), "/x/"+string(rune('a'+i%500))
		st.Observe(r)
		d := req(at, RouteOrderDetails, 200)
		d.OrderID = string(rune(i))
		st.Observe(d)
	}
	b, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Prefills) > maxPrefillMemos || len(st.Failures) > maxFailureMemos || len(st.Polls) > maxPollMemos || len(b) > 8<<10 {
		t.Errorf("state holds %d prefills, %d failures, %d polls, %d bytes of JSON", len(st.Prefills), len(st.Failures), len(st.Polls), len(b))
	}
}

func TestFindingsThresholds(t *testing.T) {
	c := ReportCaller{
		Signals: []SignalCount{
			{Code: FindingTokenNotReused, Count: TokenReuseAllowed},
			{Code: FindingPolling, Route: RouteOrderDetails, Count: 7},
			{Code: FindingIdempotencyKeyRandomRetry, Count: 1},
		},
		Routes: []RouteCount{
			{Route: "GET /a", Requests: ClientErrorMinRequests - 1, ClientErrors: ClientErrorMinRequests - 1},
			{Route: "GET /b", Requests: 100, ClientErrors: 24},
			{Route: "GET /c", Requests: 100, ClientErrors: 25, Problems: []ProblemCount{{Problem: "Not found", Detail: "No sales unit 1.", Count: 20}}},
		},
	}
	var got []string
	for _, f := range c.Findings() {
		got = append(got, string(f.Severity)+" "+f.Code+" "+f.Route)
		if f.Explanation == "" {
			t.Errorf("%s has no explanation", f.Code)
		}
		if f.Code == FindingClientErrors && !strings.Contains(f.Explanation, `"Not found"`) {
			t.Errorf("client-errors explanation lacks the frequent problem: %s", f.Explanation)
		}
	}
	// Worst first: severity, then count (25 client errors before 7 polls).
	want := []string{"error idempotency-key-random-retry ", "warning client-errors GET /c", "warning polling " + RouteOrderDetails}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	c.Signals[0].Count++
	if f := c.Findings(); len(f) != 4 {
		t.Errorf("token-not-reused past %d: %d findings, want 4", TokenReuseAllowed, len(f))
	}
}

func TestEveryFindingExplained(t *testing.T) {
	for code := range findingSeverity {
		if code == FindingClientErrors {
			continue
		}
		route := ""
		if code == FindingDeprecatedEndpoint {
			route = RouteOrderDetailsV1
		}
		if explain(SignalCount{Code: code, Route: route, Count: 2}) == "" {
			t.Errorf("%s has no explanation", code)
		}
	}
}
