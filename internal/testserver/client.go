package testserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptrace"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// JSONUTF8 is the content type of the token endpoints' answers and the Management API's.
const JSONUTF8 = "application/json;charset=UTF-8"

// Client sends a test's requests to a running server as curl would: exactly the headers given.
type Client struct {
	T    testing.TB
	URL  string       // the server's base URL
	HTTP *http.Client // as Call takes it: nil is a client that gives up after 30 s
	// Seen, when set, receives every exchange, for the leak checks.
	Seen func(method, path string, r Reply)
	// Trace, when set, follows each request's connection.
	Trace *httptrace.ClientTrace
}

// Client is a client of s for the test t.
func (s *Server) Client(t testing.TB) Client { return Client{T: t, URL: s.URL} }

// Send performs one request to the path under c.URL; it is safe from any goroutine.
func (c Client) Send(method, path string, body any, headers ...string) (Reply, error) {
	ctx := context.Background()
	if c.Trace != nil {
		ctx = httptrace.WithClientTrace(ctx, c.Trace)
	}
	r, err := Call(ctx, c.HTTP, method, c.URL+path, body, headers...)
	if err != nil {
		return Reply{}, err
	}
	if c.Seen != nil {
		c.Seen(method, path, r)
	}
	return r, nil
}

// Do is Send that fails the test when no answer comes.
func (c Client) Do(method, path string, body any, headers ...string) Reply {
	c.T.Helper()
	r, err := c.Send(method, path, body, headers...)
	if err != nil {
		c.T.Fatal(err)
	}
	return r
}

// JSON decodes the body into v.
func (r Reply) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Expect fails the test unless the answer has the status and, unless it is "", the content type.
func (r Reply) Expect(t testing.TB, status int, contentType string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if contentType != "" && r.Header.Get("Content-Type") != contentType {
		t.Fatalf("Content-Type %q, want %q: %s", r.Header.Get("Content-Type"), contentType, r.Body)
	}
}

// Problem is a problem body (application/problem+json) with the contract's extension fields.
type Problem struct {
	Type         string `json:"type"`
	Title        string `json:"title"`
	Status       int    `json:"status"`
	Detail       string `json:"detail"`
	Instance     string `json:"instance"`
	ExtraDetails []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"extraDetails"`
}

// Problem decodes a problem body and checks that it has every field the contract requires of one
// and the answer's own status.
func (r Reply) Problem(t testing.TB) Problem {
	t.Helper()
	var fields map[string]any
	r.JSON(t, &fields)
	for _, f := range []string{"type", "title", "status", "detail", "instance"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("problem lacks %q: %s", f, r.Body)
		}
	}
	var p Problem
	r.JSON(t, &p)
	if p.Status != r.Status {
		t.Errorf("problem status %d, HTTP status %d", p.Status, r.Status)
	}
	return p
}

// TokenAnswer is the answer to POST /accesstoken/get.
type TokenAnswer struct {
	Status      int
	Header      http.Header
	AccessToken string // empty unless the answer is a token
}

// tokenRequest asks for an access token with the key set k, as step 2 of the quick start does.
func (c Client) tokenRequest(k fixtures.Keys) Reply {
	c.T.Helper()
	return c.Do(http.MethodPost, "/accesstoken/get", "", "Content-Type", "application/json",
		"client_id", k.ClientID, "client_secret", k.ClientSecret, "Ocp-Apim-Subscription-Key", k.SubscriptionKey)
}

// RequestToken asks for an access token with the key set k and answers whatever the server said.
func (c Client) RequestToken(k fixtures.Keys) TokenAnswer {
	c.T.Helper()
	r := c.tokenRequest(k)
	a := TokenAnswer{Status: r.Status, Header: r.Header}
	if r.Status == http.StatusOK {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r.JSON(c.T, &tok)
		a.AccessToken = tok.AccessToken
	}
	return a
}

// ClassicToken is an access token for the key set k; the test fails unless the server gives one
// in the contract's shape, every field a string as the real API sends them.
func (c Client) ClassicToken(k fixtures.Keys) string {
	c.T.Helper()
	r := c.tokenRequest(k)
	r.Expect(c.T, http.StatusOK, JSONUTF8)
	var tok map[string]any
	r.JSON(c.T, &tok)
	for _, f := range []string{"expires_in", "ext_expires_in", "expires_on", "not_before", "resource", "access_token"} {
		if _, ok := tok[f].(string); !ok {
			c.T.Fatalf("token for %s: %s is not a string: %s", k.ClientID, f, r.Body)
		}
	}
	if tok["access_token"] == "" {
		c.T.Fatalf("token for %s: empty access_token: %s", k.ClientID, r.Body)
	}
	return tok["access_token"].(string)
}

// Classic returns the headers of a Management API call with a classic token for k.
func (c Client) Classic(k fixtures.Keys) []string {
	c.T.Helper()
	return []string{"Content-Type", "application/json", "Authorization", "Bearer " + c.ClassicToken(k),
		"Ocp-Apim-Subscription-Key", k.SubscriptionKey}
}

// Basic is the Authorization header of the management token flow for k.
func Basic(k fixtures.Keys) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(k.ClientID+":"+k.ClientSecret))
}

// ManagementToken is a /miami/v1/token token for the management keys k, asked for as the quick
// start's curl does; the test fails unless the server gives one for 900 seconds.
func (c Client) ManagementToken(k fixtures.Keys) string {
	c.T.Helper()
	r := c.Do(http.MethodPost, "/miami/v1/token", "grant_type=client_credentials", "Authorization", Basic(k),
		"Content-Type", "application/x-www-form-urlencoded; charset=utf-8", "Vipps-System-Name", "acme")
	r.Expect(c.T, http.StatusOK, JSONUTF8)
	var tok struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	r.JSON(c.T, &tok)
	if tok.AccessToken == "" || tok.ExpiresIn != 900 {
		c.T.Fatalf("management token for %s: want an access_token with expires_in 900: %s", k.ClientID, r.Body)
	}
	return tok.AccessToken
}

// Management returns the headers of a Management API call with a management token for k.
func (c Client) Management(k fixtures.Keys) []string {
	c.T.Helper()
	return []string{"Content-Type", "application/json", "Authorization", "Bearer " + c.ManagementToken(k)}
}

// AdminHeaders returns the headers of an operator API call with the admin token (AdminToken for
// the servers Start starts).
func AdminHeaders(token string) []string {
	return []string{"Authorization", "Bearer " + token, "Content-Type", "application/json"}
}

// Admin calls the operator API with AdminToken and requires the given status.
func (c Client) Admin(method, path string, body any, status int) Reply {
	c.T.Helper()
	r := c.Do(method, path, body, AdminHeaders(AdminToken)...)
	if r.Status != status {
		c.T.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	return r
}
