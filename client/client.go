package client

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ProductionURL is the base URL of the real Management API.
const ProductionURL = "https://api.vipps.no"

// userAgent identifies the SDK; Vipps-System-* headers identify the application using it.
const userAgent = "vippsmgmt-go-client/1"

// DefaultMaxResponseBytes is the largest successful answer a Client reads unless
// WithMaxResponseBytes says otherwise: the lists are answered whole, and a partner with 100,000
// product orders gets about 31 MB of JSON.
const DefaultMaxResponseBytes = 256 << 20

// maxProblemBytes bounds how much of an error answer is read: a problem is a few hundred bytes, a
// proxy's error page a few kilobytes.
const maxProblemBytes = 1 << 20

// Client calls the Management API (and, with WithAdminToken, the operator API) of one server.
// It is safe for concurrent use; create one per key set and reuse it, so its access token is
// shared.
type Client struct {
	base    *url.URL
	baseStr string // with a trailing slash, as the generated request builders expect
	http    *http.Client
	retry   RetryPolicy
	system  systemHeaders

	keys       *credentials // nil: no Management API access
	tokens     *tokenCache
	adminToken string
	maxAnswer  int64 // the largest 2xx body read
}

type systemHeaders struct{ name, version, pluginName, pluginVersion string }

func (h systemHeaders) set(hd http.Header) {
	for k, v := range map[string]string{
		"Vipps-System-Name": h.name, "Vipps-System-Version": h.version,
		"Vipps-System-Plugin-Name": h.pluginName, "Vipps-System-Plugin-Version": h.pluginVersion,
	} {
		if v != "" {
			hd.Set(k, v)
		}
	}
}

// credFlow is the token flow a key set uses.
type credFlow int

const (
	flowClassic    credFlow = iota // POST /accesstoken/get, token used with the subscription key
	flowManagement                 // POST /miami/v1/token, token used alone
)

type credentials struct {
	kind                                    string // "partner", "merchant" or "management"
	flow                                    credFlow
	clientID, clientSecret, subscriptionKey string
}

// Option configures a Client.
type Option func(*Client) error

// WithPartnerKeys authenticates with partner keys through the standard token flow
// (POST /accesstoken/get); calls send the token and the subscription key.
func WithPartnerKeys(clientID, clientSecret, subscriptionKey string) Option {
	return withKeys(&credentials{kind: "partner", flow: flowClassic, clientID: clientID, clientSecret: clientSecret, subscriptionKey: subscriptionKey})
}

// WithMerchantKeys authenticates with a sales unit's own API keys; the flow is the same as for
// partner keys.
func WithMerchantKeys(clientID, clientSecret, subscriptionKey string) Option {
	return withKeys(&credentials{kind: "merchant", flow: flowClassic, clientID: clientID, clientSecret: clientSecret, subscriptionKey: subscriptionKey})
}

// WithManagementKeys authenticates with management keys through the specialized flow
// (POST /miami/v1/token with Basic authentication); calls send no subscription key.
func WithManagementKeys(clientID, clientSecret string) Option {
	return withKeys(&credentials{kind: "management", flow: flowManagement, clientID: clientID, clientSecret: clientSecret})
}

func withKeys(k *credentials) Option {
	return func(c *Client) error {
		if c.keys != nil {
			return errors.New("client: more than one key set given")
		}
		if k.clientID == "" || k.clientSecret == "" {
			return fmt.Errorf("client: %s keys need a client id and a client secret", k.kind)
		}
		if k.flow == flowClassic && k.subscriptionKey == "" {
			return fmt.Errorf("client: %s keys need a subscription key", k.kind)
		}
		c.keys = k
		return nil
	}
}

// WithSystem sets the Vipps-System-Name and Vipps-System-Version headers sent on every call;
// Vipps MobilePay asks partners to send them. At most 30 characters each.
func WithSystem(name, version string) Option {
	return func(c *Client) error {
		c.system.name, c.system.version = name, version
		return checkHeaderLen(name, version)
	}
}

// WithPlugin sets the Vipps-System-Plugin-Name and Vipps-System-Plugin-Version headers.
func WithPlugin(name, version string) Option {
	return func(c *Client) error {
		c.system.pluginName, c.system.pluginVersion = name, version
		return checkHeaderLen(name, version)
	}
}

func checkHeaderLen(vs ...string) error {
	for _, v := range vs {
		if len(v) > 30 {
			return fmt.Errorf("client: Vipps-System header %q is longer than 30 characters", v)
		}
	}
	return nil
}

// WithHTTPClient sets the HTTP client; its Timeout, if any, bounds each attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("client: nil http.Client")
		}
		c.http = hc
		return nil
	}
}

// WithAdminToken sets the operator token of a vippsmgmt server, for the calls of Admin.
func WithAdminToken(token string) Option {
	return func(c *Client) error { c.adminToken = token; return nil }
}

// WithMaxResponseBytes sets the largest successful answer the client reads (default
// DefaultMaxResponseBytes). A larger one is an error that says so, never a truncated answer.
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) error {
		if n < 1 {
			return errors.New("client: WithMaxResponseBytes needs a positive size")
		}
		// One byte past the limit is read to tell a larger answer, so the limit must leave room
		// for it: math.MaxInt64 ("no limit") would otherwise wrap and read nothing.
		c.maxAnswer = min(n, math.MaxInt64-1)
		return nil
	}
}

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 1 {
			return errors.New("client: RetryPolicy.MaxAttempts must be at least 1")
		}
		c.retry = p
		return nil
	}
}

// New returns a client of the server at baseURL: ProductionURL for Vipps MobilePay, or the
// address of a vippsmgmt server. Give one key set (WithPartnerKeys, WithMerchantKeys or
// WithManagementKeys) for the Management API, WithAdminToken for the operator API, or both.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: must be an http or https URL", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/"
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, baseStr: u.String(), http: http.DefaultClient, retry: DefaultRetryPolicy, maxAnswer: DefaultMaxResponseBytes}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.keys != nil {
		c.tokens = newTokenCache(c.fetchToken, time.Now)
	}
	return c, nil
}

// RetryPolicy bounds the SDK's own retries. Only safe cases are retried: a request that got no
// response (for GET and the idempotency-keyed prefill; other methods only when the connection
// could not be made), 429 (every method, honouring Retry-After), and 5xx for GET and the prefill.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, including the first; 1 turns retries off
	BaseDelay   time.Duration // first backoff; doubles each time, with jitter
	MaxDelay    time.Duration // cap of one backoff
	MaxElapsed  time.Duration // no retry starts after this much time since the first attempt
}

// DefaultRetryPolicy is used unless WithRetryPolicy says otherwise.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second, MaxElapsed: 30 * time.Second}

// backoff returns the wait before attempt n+1 (n ≥ 1): exponential with "equal jitter", so it
// never collapses to zero and concurrent clients spread out.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay << (n - 1)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// authMode says how a request is authenticated.
type authMode int

const (
	authNone  authMode = iota
	authKeys           // access token (+ subscription key for the classic flow)
	authAdmin          // operator token
)

// call describes one API operation for do.
type call struct {
	method string
	// build makes a fresh request for each attempt (the body is re-created from the same bytes).
	build func(base string) (*http.Request, error)
	auth  authMode
	// retryable: repeating the request cannot do harm (GET, or a POST with an idempotency key).
	retryable bool
	header    http.Header // extra headers, such as Idempotency-Key
}

// do runs a call with authentication, retries and error mapping, and decodes a 2xx JSON body
// into out (unless out is nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	resp, body, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	return decodeBody(resp, body, out)
}

// decodeBody decodes the body of a 2xx answer into out; an empty body is an error unless out is
// nil.
func decodeBody(resp *http.Response, body []byte, out any) error {
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		if out != nil {
			return fmt.Errorf("%s %s: empty response body", resp.Request.Method, resp.Request.URL.Redacted())
		}
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", resp.Request.Method, resp.Request.URL.Redacted(), err)
	}
	return nil
}

// decoded runs a call and returns its answer decoded into a new T; nil with any error.
func decoded[T any](ctx context.Context, c *Client, cl call) (*T, error) {
	var out T
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// send runs the attempts of a call and returns a 2xx response with its body read, or an error
// (a *Problem for any other status).
func (c *Client) send(ctx context.Context, cl call) (*http.Response, []byte, error) {
	start := time.Now()
	reauthed := false
	for attempt := 1; ; attempt++ {
		req, err := cl.build(c.baseStr)
		if err != nil {
			return nil, nil, fmt.Errorf("client: build request: %w", err)
		}
		req = req.WithContext(ctx)
		req.Header.Set("User-Agent", userAgent)
		req.Header.Set("Accept", "application/json")
		c.system.set(req.Header)
		for k, vs := range cl.header {
			req.Header[k] = vs
		}
		var usedToken string
		switch cl.auth {
		case authKeys:
			if c.keys == nil {
				return nil, nil, errors.New("client: no API keys configured (use WithPartnerKeys, WithMerchantKeys or WithManagementKeys)")
			}
			tok, err := c.tokens.get(ctx)
			if err != nil {
				return nil, nil, err
			}
			usedToken = tok.AccessToken
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			if c.keys.flow == flowClassic {
				req.Header.Set("Ocp-Apim-Subscription-Key", c.keys.subscriptionKey)
			}
		case authAdmin:
			if c.adminToken == "" {
				return nil, nil, errors.New("client: no admin token configured (use WithAdminToken)")
			}
			req.Header.Set("Authorization", "Bearer "+c.adminToken)
		}

		resp, err := c.http.Do(req)
		var retryAfter time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			// No response: the server may or may not have acted. Repeat only what is safe to
			// repeat, or what certainly never reached it.
			if !(cl.retryable || isDialError(err)) {
				return nil, nil, err
			}
			if !c.sleepBeforeRetry(ctx, start, attempt, 0) {
				return nil, nil, err
			}
			continue
		}
		success := resp.StatusCode >= 200 && resp.StatusCode < 300
		limit := int64(maxProblemBytes)
		if success {
			limit = c.maxAnswer
		}
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		resp.Body.Close()
		if int64(len(body)) > limit {
			if success {
				// The server acted and would answer the same again: a repeat cannot help.
				return nil, nil, fmt.Errorf("%s %s: response larger than %d bytes (see WithMaxResponseBytes)", req.Method, req.URL.Redacted(), limit)
			}
			body = body[:limit] // enough of an error page to describe it
		}
		if success {
			if readErr != nil {
				// The server acted; only a retryable call may be repeated to get its answer.
				if cl.retryable && c.sleepBeforeRetry(ctx, start, attempt, 0) {
					continue
				}
				return nil, nil, fmt.Errorf("%s %s: read response: %w", req.Method, req.URL.Redacted(), readErr)
			}
			return resp, body, nil
		}
		p := newProblem(resp, body)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && cl.auth == authKeys && !reauthed:
			// The token may have expired early or been revoked: fetch a new one and try once more.
			reauthed = true
			c.tokens.drop(usedToken)
			attempt-- // the repeat is not a retry in the sense of the policy
			continue
		case resp.StatusCode == http.StatusTooManyRequests:
			retryAfter = p.RetryAfter
		case resp.StatusCode >= 500 && cl.retryable:
		default:
			return nil, nil, p
		}
		if !c.sleepBeforeRetry(ctx, start, attempt, retryAfter) {
			return nil, nil, p
		}
	}
}

// sleepBeforeRetry waits before the next attempt and reports whether there should be one.
func (c *Client) sleepBeforeRetry(ctx context.Context, start time.Time, attempt int, retryAfter time.Duration) bool {
	if attempt >= c.retry.MaxAttempts {
		return false
	}
	wait := c.retry.backoff(attempt)
	if retryAfter > 0 {
		wait = retryAfter
	}
	// Compared as what is left of the budget: a far-off Retry-After added to the time spent
	// would overflow into a wait the budget lets through.
	if c.retry.MaxElapsed > 0 && wait > c.retry.MaxElapsed-time.Since(start) {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// isDialError reports whether the connection could not be made, so the request never left.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// newIdempotencyKey returns a random key matching ^[a-zA-Z0-9-]{1,50}$.
func newIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
