package reliability

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// oversized is a body past the 2 MiB limit.
const oversized = 3 << 20

// chunked returns a body of n bytes of unknown length, so it is sent chunked and only reading it
// can tell it is too large.
func chunked(n int) io.Reader { return io.LimitReader(repeatReader('x'), int64(n)) }

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestBadInputProblems sends bodies over the limit (announced and chunked), wrong content types
// and malformed JSON to every operator operation with a body, to the prefill and to both token
// endpoints. The Management and operator APIs answer 413, 415 and 400 as problem+json; the token
// endpoints keep the Access Token API's own error shapes but the same statuses; nothing is a 5xx.
func TestBadInputProblems(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	adm := testserver.AdminHeaders(testserver.AdminToken)
	mgmt := a.Classic(fixtures.DemoPartnerKeys)

	type target struct {
		method, path string
		headers      []string
	}
	withCT := func(h []string, ct string) []string {
		out := []string{}
		for i := 0; i+1 < len(h); i += 2 {
			if h[i] != "Content-Type" {
				out = append(out, h[i], h[i+1])
			}
		}
		if ct != "" {
			out = append(out, "Content-Type", ct)
		}
		return out
	}
	targets := []target{
		{"POST", "/admin/v1/partners", adm},
		{"POST", "/admin/v1/partners/" + fixtures.DemoPartnerID + "/keys", adm},
		{"POST", "/admin/v1/partners/" + fixtures.DemoPartnerID + "/price-packages", adm},
		{"POST", "/admin/v1/sales-units/" + fixtures.DemoMSN + "/keys", adm},
		{"POST", "/admin/v1/merchants", adm},
		{"POST", "/admin/v1/sales-units", adm},
		{"PATCH", "/admin/v1/sales-units/" + fixtures.DemoMSN, adm},
		{"POST", "/admin/v1/clock", adm},
		{"POST", "/admin/v1/product-orders/" + fixtures.DemoReceivedOrderID + "/submit", adm},
		{"POST", "/admin/v1/product-orders/" + fixtures.DemoReceivedOrderID + "/approve", adm},
		{"POST", "/admin/v1/product-orders/" + fixtures.DemoReceivedOrderID + "/reject", adm},
		{"POST", "/management/v1/product-orders", append(mgmt, "Idempotency-Key", "bad-input")},
	}
	var tried int
	problemOf := func(name string, r testserver.Reply, status int) {
		t.Helper()
		tried++
		if r.Status != status || r.Header.Get("Content-Type") != problemJSON {
			t.Errorf("%s: %d %q, want %d problem+json: %.200s", name, r.Status, r.Header.Get("Content-Type"), status, r.Body)
			return
		}
		r.Problem(t)
	}
	for _, tg := range targets {
		name := tg.method + " " + tg.path
		problemOf(name+" oversized", a.Do(tg.method, tg.path, bytes.Repeat([]byte("x"), oversized), tg.headers...), 413)
		problemOf(name+" oversized chunked", a.Do(tg.method, tg.path, chunked(oversized), tg.headers...), 413)
		problemOf(name+" oversized JSON", a.Do(tg.method, tg.path, `{"name":"`+strings.Repeat("x", oversized)+`"}`, tg.headers...), 413)
		problemOf(name+" text/plain", a.Do(tg.method, tg.path, `{"name":"x"}`, withCT(tg.headers, "text/plain")...), 415)
		problemOf(name+" form", a.Do(tg.method, tg.path, `name=x`, withCT(tg.headers, "application/x-www-form-urlencoded")...), 415)
		problemOf(name+" no content type", a.Do(tg.method, tg.path, `{"name":"x"}`, withCT(tg.headers, "")...), 415)
		problemOf(name+" bad content type", a.Do(tg.method, tg.path, `{"name":"x"}`, withCT(tg.headers, "application/json; charset")...), 415)
		for _, bad := range []string{`{"name":`, `{"name":"x"`, `[`, `{"name":"x"}}`, `nul`, "{\"name\":\"\xff\"}x", `{"a":1,}`} {
			problemOf(name+" malformed "+bad, a.Do(tg.method, tg.path, bad, tg.headers...), 400)
		}
		for _, bad := range []string{`[]`, `"x"`, `42`, `true`} {
			problemOf(name+" wrong shape "+bad, a.Do(tg.method, tg.path, bad, tg.headers...), 400)
		}
	}

	// Token endpoints answer in the Access Token API's shapes (identity/OAuth JSON) and its one
	// content type, the generic body limit included.
	tokenErr := func(name string, r testserver.Reply, status int) {
		t.Helper()
		tried++
		if r.Status != status {
			t.Errorf("%s: %d, want %d: %.200s", name, r.Status, status, r.Body)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
			t.Errorf("%s: Content-Type %q, want the contract's application/json;charset=UTF-8", name, ct)
		}
		var e struct {
			Error string `json:"error"`
		}
		r.JSON(t, &e)
		if e.Error == "" {
			t.Errorf("%s: no error code in %s", name, r.Body)
		}
	}
	p := fixtures.DemoPartnerKeys
	std := []string{"client_id", p.ClientID, "client_secret", p.ClientSecret, "Ocp-Apim-Subscription-Key", p.SubscriptionKey}
	miami := []string{"Authorization", testserver.Basic(fixtures.DemoManagementKeys), "Content-Type", "application/x-www-form-urlencoded"}
	r := a.Do("POST", "/accesstoken/get", bytes.Repeat([]byte("x"), oversized), std...)
	tokenErr("accesstoken/get oversized", r, 413)
	// The standard flow ignores its body, so a chunked one is simply not read.
	if r := a.Do("POST", "/accesstoken/get", chunked(oversized), std...); r.Status != 200 {
		t.Errorf("accesstoken/get with an ignored chunked body: %d %s", r.Status, r.Body)
	}
	tokenErr("miami oversized", a.Do("POST", "/miami/v1/token", bytes.Repeat([]byte("x"), oversized), miami...), 413)
	tokenErr("miami over its form limit", a.Do("POST", "/miami/v1/token", "grant_type=client_credentials&pad="+strings.Repeat("x", 20<<10), miami...), 413)
	tokenErr("miami chunked over its form limit", a.Do("POST", "/miami/v1/token", chunked(1<<20), miami...), 413)
	tokenErr("miami JSON", a.Do("POST", "/miami/v1/token", `{"grant_type":"client_credentials"}`, withCT(miami, "application/json")...), 400)
	tokenErr("miami no content type", a.Do("POST", "/miami/v1/token", "grant_type=client_credentials", withCT(miami, "")...), 400)
	tokenErr("miami bad content type", a.Do("POST", "/miami/v1/token", "grant_type=client_credentials", withCT(miami, "application/x-www-form-urlencoded; charset")...), 400)
	tokenErr("miami malformed form", a.Do("POST", "/miami/v1/token", "grant_type=%zz", miami...), 400)
	tokenErr("miami empty", a.Do("POST", "/miami/v1/token", "", miami...), 400)
	t.Logf("%d bad requests, each answered with the expected 4xx", tried)
}
