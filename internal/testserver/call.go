package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// Body turns a test's request body into a reader: nil is no body, a string or []byte is sent as
// it is, an io.Reader as it comes (of unknown length: sent chunked), anything else as JSON.
func Body(body any) (io.Reader, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.NewReader(b), nil
	case []byte:
		return bytes.NewReader(b), nil
	case io.Reader:
		return b, nil
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		return bytes.NewReader(j), nil
	}
}

// Reply is a whole answer of a server under test.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// boundedClient gives up on a request after 30 s: a hung server fails the test instead of the
// suite's timeout.
var boundedClient = &http.Client{Timeout: 30 * time.Second}

// Call sends one request as curl would: exactly the headers given (name, value pairs), the body
// as Body takes it, with c (boundedClient when nil). It reads the whole answer.
func Call(ctx context.Context, c *http.Client, method, url string, body any, headers ...string) (Reply, error) {
	rd, err := Body(body)
	if err != nil {
		return Reply{}, err
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Reply{}, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c == nil {
		c = boundedClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return Reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return Reply{resp.StatusCode, resp.Header, b}, nil
}

// RequestToken asks the server at base for an access token with the key set k, as step 2 of the
// quick start does, and answers whatever the server said.
func RequestToken(t testing.TB, base string, k fixtures.Keys) TokenAnswer {
	t.Helper()
	return Client{T: t, URL: base}.RequestToken(k)
}

// ClassicToken is an access token for the key set k from the server at base; the test fails if
// the server does not give one.
func ClassicToken(t testing.TB, base string, k fixtures.Keys) string {
	t.Helper()
	return Client{T: t, URL: base}.ClassicToken(k)
}

// AdminJSON sends a JSON body to the operator API at url with the test servers' admin token,
// bypassing the SDK's own checks, and answers the status and body.
func AdminJSON(t testing.TB, method, url, body string) (int, string) {
	t.Helper()
	r, err := Call(context.Background(), nil, method, url, body, AdminHeaders(AdminToken)...)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status, string(r.Body)
}
