package vippsmgmt

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
)

// The integration report turns what a caller's requests looked like into findings a partner can
// act on: habits the real API answers without comment but that hurt in production. Detection is
// the pure CallerState.Observe below; the store keeps its aggregates per caller and finding, never
// single requests.

// Finding codes of the integration report.
const (
	FindingTokenNotReused                 = "token-not-reused"
	FindingNoSystemHeaders                = "no-system-headers"
	FindingSubscriptionKeyOnMiami         = "subscription-key-on-miami"
	FindingIdempotencyKeyReused           = "idempotency-key-reused"
	FindingIdempotencyKeyRandomRetry      = "idempotency-key-random-retry"
	FindingRetryTooFast                   = "retry-too-fast"
	FindingDeprecatedEndpoint             = "deprecated-endpoint"
	FindingMerchantKeysOnPartnerOperation = "merchant-keys-on-partner-operation"
	FindingPolling                        = "polling"
	FindingClientErrors                   = "client-errors"
)

// Severity ranks a finding: an error fails or breaks in production, a warning is a bad habit.
type Severity string

// Severities, from least to most severe.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Rank orders severities: higher is worse; unknown severities rank 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityError:
		return 3
	}
	return 0
}

// ParseSeverity accepts "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	if v := Severity(s); v.Rank() > 0 {
		return v, nil
	}
	return "", Errorf(EINVALID, "Unknown severity %q; use info, warning or error.", s)
}

// Thresholds of the report's rules. They are documented in the README and in each finding's
// explanation; changing one changes what partners are told.
const (
	// TokenReuseMargin: a new token fetched while the previous one had more than this left counts.
	TokenReuseMargin = time.Minute
	// TokenReuseAllowed new tokens a window may hold before token-not-reused is reported: a
	// restart or a few parallel workers fetching their own is normal.
	TokenReuseAllowed = 3
	// RandomRetryWindow: the same prefill body under another Idempotency-Key within this time is a
	// retry that made a new key.
	RandomRetryWindow = 10 * time.Minute
	// RetryFloor is the least wait after a 5xx (or a 429 without Retry-After) before the same
	// request is repeated.
	RetryFloor = 100 * time.Millisecond
	// PollInterval is the least time between two reads of one product order (or of the list)
	// that counts as calm; PollBurst quicker reads in a row are allowed (a read after a change).
	PollInterval = 10 * time.Second
	PollBurst    = 3
	// ClientErrorMinRequests and ClientErrorShare: a route with at least this many requests of
	// which at least this share got a 4xx (429 and injected faults aside) is reported.
	ClientErrorMinRequests = 20
	ClientErrorShare       = 0.25
)

// Bounds of the per-caller state the rules keep between requests.
const (
	maxPrefillMemos = 32
	maxFailureMemos = 16
	maxPollMemos    = 32
)

// Routes the rules know by name (the patterns of the route table).
const (
	RoutePrefill        = "POST /management/v1/product-orders"
	RouteOrderDetails   = "GET /management/v2/product-orders/{productOrderId}/details"
	RouteOrderDetailsV1 = "GET /management/v1/product-orders/{productOrderId}/details"
	RouteOrderList      = "GET /management/v2/product-orders"
	RouteOrderListV1    = "GET /management/v1/product-orders"
	RouteDeleteOrder    = "DELETE /management/v1/product-orders/{productOrderId}"
	RouteMiamiToken     = "POST /miami/v1/token"
)

// deprecatedRoutes are the operations the guide marks deprecated, with what replaces them.
var deprecatedRoutes = map[string]string{
	RouteOrderDetailsV1: RouteOrderDetails,
	RouteOrderListV1:    RouteOrderList,
}

// RequestFacts is what the report learns from one answered request. It never holds secrets,
// tokens or bodies: an idempotency key and a prefill body are kept only as hashes.
type RequestFacts struct {
	Time time.Time // when the request arrived (real time)
	// ClockTime is the server's clock then: real time in production, moved in a sandbox. Token
	// lifetimes run on it; everything else on real time, which a clock reset never turns back.
	ClockTime time.Time
	RequestID string
	ClientID  string // the caller's client id; requests of unknown callers are not reported
	Kind      string // KeyPartner, KeyManagement, KeyMerchant; empty on token requests
	Method    string
	Route     string // the matched pattern, e.g. "GET /management/v1/sales-units/{msn}"
	Path      string
	Status    int
	// Injected is set when the answer was a fault the operator injected, not the caller's doing.
	Injected   bool
	NoAnswer   bool          // the connection was closed without an answer
	RetryAfter time.Duration // of a 429 answer

	SystemName, SystemVersion, PluginName, PluginVersion bool // which Vipps-System-* headers came
	SubscriptionKey                                      bool // Ocp-Apim-Subscription-Key came

	IdempotencyKey uint64 // hash of the prefill's Idempotency-Key
	BodyHash       uint64 // hash of the decoded prefill body; 0 when it was not decoded
	OrderID        string // productOrderId read, deleted, or created by a prefill
	TokenExpires   time.Time
	// Problem is the title (or error code) of a 4xx answer, Detail its detail, both clipped.
	Problem, Detail string
}

// Hash64 is the report's 64-bit hash of strings (FNV-1a), stable across processes.
func Hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// CallerState is what the rules remember about one caller between requests, bounded in size.
type CallerState struct {
	TokenIssuedAt time.Time     `json:"tokenIssuedAt,omitzero"` // real time
	TokenIssued   time.Time     `json:"tokenIssued,omitzero"`   // server clock
	TokenExpires  time.Time     `json:"tokenExpires,omitzero"`
	Prefills      []PrefillMemo `json:"prefills,omitempty"`
	Failures      []FailureMemo `json:"failures,omitempty"`
	Polls         []PollMemo    `json:"polls,omitempty"`
}

// PrefillMemo is one recent prefill: its body, key and order hashes.
type PrefillMemo struct {
	Body  uint64    `json:"b"`
	Key   uint64    `json:"k"`
	Order uint64    `json:"o,omitempty"`
	Time  time.Time `json:"t"`
}

// FailureMemo is a 429, a 5xx or a dropped connection the next identical request must wait out.
type FailureMemo struct {
	Request uint64        `json:"r"` // hash of method and path
	Time    time.Time     `json:"t"`
	Wait    time.Duration `json:"w"`
}

// PollMemo is the last read of one product order (or of the list).
type PollMemo struct {
	Target uint64    `json:"o"`
	Time   time.Time `json:"t"`
	Streak int       `json:"s"`
}

// Signal is one occurrence of a finding.
type Signal struct {
	Code  string
	Route string // for findings about one operation; empty otherwise
}

// Observe applies the report's rules to one request of the caller and returns the findings it
// shows. Requests must come in time order per caller.
func (st *CallerState) Observe(o RequestFacts) []Signal { return st.AppendObserved(nil, &o) }

// AppendObserved is Observe appending the findings to out: a flush reuses one slice for all its
// requests instead of allocating for each request that shows a finding.
func (st *CallerState) AppendObserved(out []Signal, o *RequestFacts) []Signal {
	add := func(code, route string) { out = append(out, Signal{code, route}) }

	isToken := o.Route == RouteMiamiToken || strings.HasPrefix(o.Route, "POST /accesstoken/get") ||
		strings.HasPrefix(o.Route, "POST /accessToken/get")
	if isToken && o.Status == 200 && !o.Injected {
		now := o.ClockTime
		if now.IsZero() {
			now = o.Time
		}
		// Real time moving on while the server clock went back is a sandbox clock reset: the
		// previous token is not valid yet, so a new one is needed.
		clockReset := o.Time.After(st.TokenIssuedAt) && now.Before(st.TokenIssued)
		if !st.TokenExpires.IsZero() && !clockReset && st.TokenExpires.Sub(now) > TokenReuseMargin {
			add(FindingTokenNotReused, "")
		}
		if !o.Time.Before(st.TokenIssuedAt) { // another process's earlier token does not replace it
			st.TokenIssuedAt, st.TokenIssued, st.TokenExpires = o.Time, now, o.TokenExpires
		}
	}
	if !o.SystemName || !o.SystemVersion || o.PluginName != o.PluginVersion {
		add(FindingNoSystemHeaders, "")
	}
	if o.Route == RouteMiamiToken && o.SubscriptionKey {
		add(FindingSubscriptionKeyOnMiami, "")
	}
	if _, ok := deprecatedRoutes[o.Route]; ok {
		add(FindingDeprecatedEndpoint, o.Route)
	}
	if !o.Injected {
		if o.Route == RoutePrefill && o.Status == 409 {
			add(FindingIdempotencyKeyReused, "")
		}
		if o.Status == 403 && o.Kind == KeyMerchant && strings.Contains(o.Route, " /management/") {
			add(FindingMerchantKeysOnPartnerOperation, o.Route)
		}
	}
	if o.Route == RoutePrefill && o.BodyHash != 0 && (o.Status < 400 || o.Status >= 500) {
		if st.notePrefill(o) {
			add(FindingIdempotencyKeyRandomRetry, "")
		}
	}
	if o.Route == RouteDeleteOrder && o.Status < 300 && o.OrderID != "" {
		// The order is gone: prefilling the same again makes no duplicate.
		order := Hash64(o.OrderID)
		st.Prefills = slices.DeleteFunc(st.Prefills, func(m PrefillMemo) bool { return m.Order == order })
	}
	if st.noteRetry(o) {
		add(FindingRetryTooFast, o.Route)
	}
	if st.notePoll(o) {
		add(FindingPolling, o.Route)
	}
	return out
}

// notePrefill remembers the prefill and reports whether the same body came under another key
// within RandomRetryWindow.
func (st *CallerState) notePrefill(o *RequestFacts) bool {
	st.Prefills = slices.DeleteFunc(st.Prefills, func(m PrefillMemo) bool { return o.Time.Sub(m.Time) > RandomRetryWindow })
	retry := false
	for i, m := range st.Prefills {
		if m.Body != o.BodyHash {
			continue
		}
		if m.Key != o.IdempotencyKey {
			retry = true
		} else {
			st.Prefills[i].Time = o.Time
			return retry
		}
	}
	memo := PrefillMemo{Body: o.BodyHash, Key: o.IdempotencyKey, Time: o.Time}
	if o.OrderID != "" {
		memo.Order = Hash64(o.OrderID)
	}
	st.Prefills = append(st.Prefills, memo)
	if len(st.Prefills) > maxPrefillMemos {
		st.Prefills = st.Prefills[len(st.Prefills)-maxPrefillMemos:]
	}
	return retry
}

// noteRetry reports whether the request repeats one that got a 429 or 5xx sooner than that
// answer allowed, and remembers this answer if it is one.
func (st *CallerState) noteRetry(o *RequestFacts) bool {
	failed := o.Status == 429 || o.Status >= 500 || o.NoAnswer
	if len(st.Failures) == 0 && !failed {
		return false // nothing to compare with or remember: no hash needed
	}
	req := Hash64(o.Method, o.Path)
	tooFast := false
	// Another process's batch may bring earlier requests after later ones: a request from before
	// the failure is not its retry.
	if i := slices.IndexFunc(st.Failures, func(m FailureMemo) bool { return m.Request == req }); i >= 0 && !o.Time.Before(st.Failures[i].Time) {
		m := st.Failures[i]
		tooFast = o.Time.Sub(m.Time) < m.Wait
		st.Failures = slices.Delete(st.Failures, i, i+1)
	}
	if failed {
		wait := RetryFloor
		if o.Status == 429 && o.RetryAfter > 0 {
			wait = o.RetryAfter
		}
		st.Failures = append(st.Failures, FailureMemo{Request: req, Time: o.Time, Wait: wait})
		if len(st.Failures) > maxFailureMemos {
			st.Failures = st.Failures[len(st.Failures)-maxFailureMemos:]
		}
	}
	return tooFast
}

// notePoll reports whether the request reads a product order (or the list) more than PollBurst
// times in a row with less than PollInterval between reads.
func (st *CallerState) notePoll(o *RequestFacts) bool {
	var target uint64
	switch o.Route {
	case RouteOrderDetails, RouteOrderDetailsV1:
		target = Hash64("order", o.OrderID)
	case RouteOrderList, RouteOrderListV1:
		target = Hash64("list")
	default:
		return false
	}
	i := slices.IndexFunc(st.Polls, func(m PollMemo) bool { return m.Target == target })
	if i < 0 {
		st.Polls = append(st.Polls, PollMemo{Target: target, Time: o.Time})
		if len(st.Polls) > maxPollMemos {
			st.Polls = st.Polls[len(st.Polls)-maxPollMemos:]
		}
		return false
	}
	m := st.Polls[i]
	if o.Time.Before(m.Time) { // an earlier read from another process's batch
		return false
	}
	if o.Time.Sub(m.Time) < PollInterval {
		m.Streak++
	} else {
		m.Streak = 0
	}
	m.Time = o.Time
	// The most recently read target moves to the end, so eviction drops the longest unread.
	st.Polls = append(slices.Delete(st.Polls, i, i+1), m)
	return m.Streak > PollBurst
}

// ReportCaller is everything the store holds about one caller in the current window.
type ReportCaller struct {
	ClientID  string
	PartnerID string
	Kind      string
	Requests  int64
	FirstSeen time.Time
	LastSeen  time.Time
	Signals   []SignalCount
	Routes    []RouteCount
}

// SignalCount aggregates one finding (of one route, where the finding is about one).
type SignalCount struct {
	Code, Route      string
	Count            int64
	FirstSeen        time.Time
	LastSeen         time.Time
	ExampleRequestID string // the latest occurrence, the likeliest still in the request log
}

// RouteCount aggregates one route's requests and client errors.
type RouteCount struct {
	Route            string
	Requests         int64
	ClientErrors     int64
	FirstError       time.Time
	LastError        time.Time
	ExampleRequestID string
	Problems         []ProblemCount // most frequent first
}

// ProblemCount counts one kind of 4xx answer (by title or error code) on a route.
type ProblemCount struct {
	Problem string
	Detail  string // the latest detail seen
	Count   int64
}

// Finding is one entry of the report.
type Finding struct {
	Code             string    `json:"code"`
	Severity         Severity  `json:"severity"`
	Route            string    `json:"route,omitempty"`
	Count            int64     `json:"count"`
	FirstSeen        time.Time `json:"firstSeen"`
	LastSeen         time.Time `json:"lastSeen"`
	ExampleRequestID string    `json:"exampleRequestId"`
	Explanation      string    `json:"explanation"`
}

// Severities of the findings.
var findingSeverity = map[string]Severity{
	FindingTokenNotReused:                 SeverityWarning,
	FindingNoSystemHeaders:                SeverityWarning,
	FindingSubscriptionKeyOnMiami:         SeverityError,
	FindingIdempotencyKeyReused:           SeverityError,
	FindingIdempotencyKeyRandomRetry:      SeverityError,
	FindingRetryTooFast:                   SeverityWarning,
	FindingDeprecatedEndpoint:             SeverityWarning,
	FindingMerchantKeysOnPartnerOperation: SeverityError,
	FindingPolling:                        SeverityWarning,
	FindingClientErrors:                   SeverityWarning,
}

// FindingSeverity returns the severity of a finding code.
func FindingSeverity(code string) Severity { return findingSeverity[code] }

// Findings applies the report's thresholds to a caller's aggregates and explains each finding,
// worst first.
func (c *ReportCaller) Findings() []Finding {
	var out []Finding
	for _, s := range c.Signals {
		if s.Code == FindingTokenNotReused && s.Count <= TokenReuseAllowed {
			continue
		}
		out = append(out, Finding{
			Code: s.Code, Severity: FindingSeverity(s.Code), Route: s.Route, Count: s.Count,
			FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, ExampleRequestID: s.ExampleRequestID,
			Explanation: explain(s),
		})
	}
	for _, r := range c.Routes {
		if r.Requests < ClientErrorMinRequests || float64(r.ClientErrors) < ClientErrorShare*float64(r.Requests) {
			continue
		}
		out = append(out, Finding{
			Code: FindingClientErrors, Severity: FindingSeverity(FindingClientErrors), Route: r.Route, Count: r.ClientErrors,
			FirstSeen: r.FirstError, LastSeen: r.LastError, ExampleRequestID: r.ExampleRequestID,
			Explanation: explainClientErrors(r),
		})
	}
	SortFindings(out)
	return out
}

// SortFindings orders findings worst first: severity, then count, then code.
func SortFindings(f []Finding) {
	slices.SortStableFunc(f, func(a, b Finding) int {
		if d := b.Severity.Rank() - a.Severity.Rank(); d != 0 {
			return d
		}
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		return strings.Compare(a.Route, b.Route)
	})
}

func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func explain(s SignalCount) string {
	n := times(s.Count)
	switch s.Code {
	case FindingTokenNotReused:
		return fmt.Sprintf("A new access token was fetched %s while the previous one was still valid for more than %s. "+
			"Tokens from /accesstoken/get last 24 hours in production and tokens from /miami/v1/token 15 minutes, and one token "+
			"may be used for its whole life; the token endpoints are rate limited. Cache the token per key set and fetch a new one "+
			"shortly before it expires (Access Token API guide; quick start). Reported past %d new tokens in a window.",
			n, TokenReuseMargin, TokenReuseAllowed)
	case FindingNoSystemHeaders:
		return fmt.Sprintf("%s without Vipps-System-Name and Vipps-System-Version, or with only one of "+
			"Vipps-System-Plugin-Name and Vipps-System-Plugin-Version. Vipps MobilePay requires these headers from partners and "+
			"plugins so it can tell integrations apart when helping with a problem (HTTP headers guide; API contract).", requestsWere(s.Count, "sent"))
	case FindingSubscriptionKeyOnMiami:
		return fmt.Sprintf("Ocp-Apim-Subscription-Key was sent to POST /miami/v1/token %s. That endpoint takes none and "+
			"answers invalid_client when it comes; send only Authorization: Basic and grant_type=client_credentials "+
			"(quick start, management keys; specialized authentication guide).", n)
	case FindingIdempotencyKeyReused:
		return fmt.Sprintf("An Idempotency-Key was sent again with a different prefill body %s (answered 409 Conflict). "+
			"A key names one request: make a new key for a new order and reuse a key only to repeat the very same request "+
			"(API contract: Idempotency-Key; HTTP headers guide).", n)
	case FindingIdempotencyKeyRandomRetry:
		return fmt.Sprintf("The same prefill body came under a new Idempotency-Key within %s of an earlier attempt, %s. "+
			"A retry with a new key is a new order: in production it would have created a duplicate product order for the "+
			"merchant. Make the key once per order and send the same key on every retry (API contract: Idempotency-Key).",
			RandomRetryWindow, n)
	case FindingRetryTooFast:
		return fmt.Sprintf("%s to %s after a 429 before its Retry-After had passed, or less than %s after a 5xx. "+
			"Wait out Retry-After and back off exponentially with jitter after server errors; retrying at "+
			"once keeps an overloaded service overloaded (HTTP status codes guide; best practices).", requestsWere(s.Count, "repeated"), s.Route, RetryFloor)
	case FindingDeprecatedEndpoint:
		return fmt.Sprintf("The deprecated %s was called %s. It is replaced by %s and may be removed without "+
			"further notice (Management API guide, endpoint table).", s.Route, n, deprecatedRoutes[s.Route])
	case FindingMerchantKeysOnPartnerOperation:
		return fmt.Sprintf("A sales unit's own (merchant) keys called the partner-only %s and got 403 Forbidden, %s. "+
			"Prefills, product orders and price packages need partner keys or management keys (quick start; Management API "+
			"guide, which keys may call what).", s.Route, n)
	case FindingPolling:
		return fmt.Sprintf("%s to %s read one product order (or the list) again less than %s after the previous read, "+
			"beyond %d such reads in a row. A merchant takes minutes or days to open and submit an order; poll each order at "+
			"most every %s and back off while it waits for the merchant (Management API guide: poll for the status).",
			capitalize(requestsOf(s.Count)), s.Route, PollInterval, PollBurst, PollInterval)
	}
	return ""
}

func explainClientErrors(r RouteCount) string {
	share := 100 * float64(r.ClientErrors) / float64(r.Requests)
	s := fmt.Sprintf("%d of %d requests to %s (%.0f %%) were answered with a 4xx client error.", r.ClientErrors, r.Requests, r.Route, share)
	if len(r.Problems) > 0 {
		p := r.Problems[0]
		s += fmt.Sprintf(" Most frequent (%s): %q", times(p.Count), p.Problem)
		if p.Detail != "" {
			s += fmt.Sprintf(", e.g. %q", p.Detail)
		}
		s += "."
	}
	return s + fmt.Sprintf(" An integration that keeps sending requests the API refuses has a bug or skips validation; "+
		"read the problem's detail and fix the request rather than retrying it (Management API guide: errors). "+
		"Reported from %d requests with %.0f %% errors.", ClientErrorMinRequests, 100*ClientErrorShare)
}

// requestsWere says "1 request was sent" or "3 requests were sent".
func requestsWere(n int64, verb string) string {
	if n == 1 {
		return "1 request was " + verb
	}
	return fmt.Sprintf("%d requests were %s", n, verb)
}

func requestsOf(n int64) string {
	if n == 1 {
		return "1 request"
	}
	return fmt.Sprintf("%d requests", n)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ReportStore keeps the report's aggregates. Implementations keep per caller only aggregates and
// the bounded CallerState, so storage does not grow with the number of requests.
type ReportStore interface {
	// RecordRequests applies the rules to a batch of requests (any order, several callers) in one
	// transaction, continuing each caller's stored state. Requests from before the window's start
	// are dropped.
	RecordRequests(ctx context.Context, batch []RequestFacts) error
	// ReportCallers returns the callers of the current window (one, given clientID) and when the
	// window started.
	ReportCallers(ctx context.Context, clientID string) ([]ReportCaller, time.Time, error)
	// ResetReport forgets everything and starts a new window at the real time at.
	ResetReport(ctx context.Context, at time.Time) (time.Time, error)
}
