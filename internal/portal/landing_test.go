package portal

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/buildinfo"
)

// TestLandingPage: a browser asking for / gets a page naming the build and linking the console,
// the contract, the JWKS and the quick start; API clients get the 404 problem they got before.
func TestLandingPage(t *testing.T) {
	e := newEnv(t)
	browser := http.Header{"Accept": {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}}
	w := e.do(req{method: "GET", path: "/", header: browser})
	wantStatus(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	doc := parseHTML(t, w.Body.String())
	checkPage(t, doc)
	if got, want := doc.One(t, "#version").Text(), buildinfo.Get().Version; got != want {
		t.Errorf("version %q, want %q", got, want)
	}
	links := map[string]bool{}
	for _, a := range doc.Find("a") {
		links[a.Attr["href"]] = true
	}
	for _, want := range []string{"/console", "/openapi.yaml", "/.well-known/jwks.json", QuickStartURL} {
		if !links[want] {
			t.Errorf("no link to %s", want)
		}
	}

	for _, accept := range []string{"", "*/*", "application/json", "application/problem+json",
		"application/json, text/html;q=0.5", "text/html;q=0"} {
		t.Run("Accept "+accept, func(t *testing.T) {
			w := e.do(req{method: "GET", path: "/", header: http.Header{"Accept": {accept}}})
			wantStatus(t, w, http.StatusNotFound)
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != 404 {
				t.Errorf("body %s (%v)", w.Body, err)
			}
		})
	}
}

func TestPrefersHTML(t *testing.T) {
	for _, c := range []struct {
		accept string
		want   bool
	}{
		{"text/html", true},
		{"application/xhtml+xml", true},
		{"text/html;q=0.5, application/json", false},
		{"text/html, application/json", true},
		{"text/*", false},
		{"text/html;q=bogus", true},
		{";;;", false},
	} {
		if got := prefersHTML([]string{c.accept}); got != c.want {
			t.Errorf("prefersHTML(%q) = %v, want %v", c.accept, got, c.want)
		}
	}
}
