package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client/internal/openapi"
)

// Token is an access token from the Access Token API.
type Token struct {
	AccessToken string
	TokenType   string        // always "Bearer"
	ExpiresIn   time.Duration // lifetime left when it was issued
	// ExpiresAt is when the token expires by this machine's clock: the time of the request plus
	// ExpiresIn, so it errs early and does not depend on the server's clock agreeing with ours.
	ExpiresAt time.Time
}

// Token returns the client's current access token, fetching one if there is none or it is about
// to expire. The Management API methods call it themselves; it is exported for callers that want
// to see or share the token.
func (c *Client) Token(ctx context.Context) (Token, error) {
	if c.keys == nil {
		return Token{}, errors.New("client: no API keys configured (use WithPartnerKeys, WithMerchantKeys or WithManagementKeys)")
	}
	return c.tokens.get(ctx)
}

// KeyKind returns which kind of keys the client authenticates with ("partner", "merchant" or
// "management"), or "" without keys.
func (c *Client) KeyKind() string {
	if c.keys == nil {
		return ""
	}
	return c.keys.kind
}

// seconds reads a JSON number or a string holding one: /accesstoken/get sends every value as a
// string, /miami/v1/token sends expires_in as a number, and the official documents disagree with
// both in places.
type seconds int64

const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

func (s *seconds) UnmarshalJSON(b []byte) error {
	v := strings.Trim(string(b), `"`)
	if v == "" || v == "null" {
		*s = 0
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(n) {
		return fmt.Errorf("expires_in %s: not a number", b)
	}
	// The lifetime becomes a time.Duration: more seconds than it holds (infinite ones included)
	// are as many as it holds, not a count that wraps round.
	*s = seconds(max(min(n, maxSeconds), -maxSeconds))
	return nil
}

type tokenBody struct {
	AccessToken string  `json:"access_token"`
	TokenType   string  `json:"token_type"`
	ExpiresIn   seconds `json:"expires_in"`
}

// fetchToken gets a new token with the client's keys, from the endpoint of their flow.
func (c *Client) fetchToken(ctx context.Context) (Token, error) {
	k := c.keys
	var cl call
	switch k.flow {
	case flowClassic:
		cl = call{method: http.MethodPost, build: func(base string) (*http.Request, error) {
			return openapi.NewFetchAuthorizationTokenUsingPostRequest(base, &openapi.FetchAuthorizationTokenUsingPostParams{
				ClientId: k.clientID, ClientSecret: k.clientSecret, OcpApimSubscriptionKey: k.subscriptionKey,
			})
		}}
	case flowManagement:
		form := url.Values{"grant_type": {"client_credentials"}}.Encode()
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(k.clientID+":"+k.clientSecret))
		cl = call{method: http.MethodPost, build: func(base string) (*http.Request, error) {
			return openapi.NewFetchTokenRequestWithBody(base, &openapi.FetchTokenParams{Authorization: basic},
				"application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form))
		}}
	}
	// Asking for a token changes nothing on the server, so every failure may be retried.
	cl.retryable = true
	var b tokenBody
	requested := time.Now()
	if err := c.do(ctx, cl, &b); err != nil {
		return Token{}, err
	}
	if b.AccessToken == "" || b.ExpiresIn <= 0 {
		return Token{}, errors.New("client: token response without access_token or expires_in")
	}
	if b.TokenType == "" {
		b.TokenType = "Bearer"
	}
	lifetime := time.Duration(b.ExpiresIn) * time.Second
	return Token{AccessToken: b.AccessToken, TokenType: b.TokenType, ExpiresIn: lifetime, ExpiresAt: requested.Add(lifetime)}, nil
}

// tokenCache keeps one token and fetches a new one ahead of expiry. Concurrent callers share a
// single fetch, so a cold cache under load costs one token request, not one per caller.
type tokenCache struct {
	fetch func(context.Context) (Token, error)
	now   func() time.Time

	mu     sync.Mutex
	tok    Token // zero when there is none
	flight *tokenFlight
}

type tokenFlight struct {
	done chan struct{}
	tok  Token
	err  error
}

// Token fetches run detached from the caller that started them (others may be waiting for the
// result), bounded by this.
const tokenFetchTimeout = time.Minute

// minUsable is the validity a token must have left to be sent at all; less and it could expire
// on the way.
const minUsable = 10 * time.Second

func newTokenCache(fetch func(context.Context) (Token, error), now func() time.Time) *tokenCache {
	return &tokenCache{fetch: fetch, now: now}
}

// refreshMargin is how long before expiry a token is renewed: 10 % of its lifetime, at least a
// minute, but never more than half the lifetime.
func refreshMargin(lifetime time.Duration) time.Duration {
	m := max(lifetime/10, time.Minute)
	return min(m, lifetime/2)
}

func (tc *tokenCache) get(ctx context.Context) (Token, error) {
	tc.mu.Lock()
	if tc.tok.AccessToken != "" {
		left := tc.tok.ExpiresAt.Sub(tc.now())
		if left > refreshMargin(tc.tok.ExpiresIn) {
			tok := tc.tok
			tc.mu.Unlock()
			return tok, nil
		}
		if left > minUsable {
			// Still good: renew in the background and carry on with this one.
			tc.startLocked(ctx)
			tok := tc.tok
			tc.mu.Unlock()
			return tok, nil
		}
	}
	f := tc.startLocked(ctx)
	tc.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// startLocked starts a fetch unless one is running, and returns the running one.
func (tc *tokenCache) startLocked(ctx context.Context) *tokenFlight {
	if tc.flight != nil {
		return tc.flight
	}
	f := &tokenFlight{done: make(chan struct{})}
	tc.flight = f
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenFetchTimeout)
		tok, err := tc.fetch(fctx)
		cancel()
		tc.mu.Lock()
		if err == nil {
			tc.tok = tok
		}
		tc.flight = nil
		f.tok, f.err = tok, err
		tc.mu.Unlock()
		close(f.done)
	}()
	return f
}

// drop forgets the token if it is still the given one, after the API refused it. A newer token
// fetched meanwhile by another caller is kept.
func (tc *tokenCache) drop(accessToken string) {
	tc.mu.Lock()
	if tc.tok.AccessToken == accessToken {
		tc.tok = Token{}
	}
	tc.mu.Unlock()
}

var _ json.Unmarshaler = (*seconds)(nil)
