package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestHugeHeadersAreBounded sends the Vipps-System-* headers at sizes up to far past the header
// limit. Oversized requests are answered 431 (as a problem while the HTTP layer still reads them),
// and what fits is cut to MaxClientString bytes in every log line and request-log record.
func TestHugeHeadersAreBounded(t *testing.T) {
	logs := &syncbuf.Buffer{}
	srv := testserver.Start(t, "sqlite", testserver.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	a := srv.Client(t)
	token := a.ClassicToken(fixtures.DemoPartnerKeys)
	mgmt := func(extra ...string) []string {
		return append([]string{"Authorization", "Bearer " + token, "Ocp-Apim-Subscription-Key", fixtures.DemoPartnerKeys.SubscriptionKey}, extra...)
	}

	over := strings.Repeat("x", httpapi.DefaultMaxHeaderBytes+1)
	r := a.Do("GET", "/management/v1/sales-units", nil, mgmt("Vipps-System-Name", over)...)
	r.Expect(t, http.StatusRequestHeaderFieldsTooLarge, problemJSON)
	r.Problem(t)

	// Far past the limit the HTTP layer stops reading: still 431, and the server is unharmed.
	r = a.Do("GET", "/management/v1/sales-units", nil, mgmt("Vipps-System-Name", strings.Repeat("x", 900<<10))...)
	if r.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("900 KB header: status %d, want 431", r.Status)
	}

	// Under the limit, but long: refused by the contract's 30-character rule, and clipped wherever
	// the request is kept.
	long := strings.Repeat("é", 7<<10) // 14 KB each, 56 KB of the four together would not fit
	headers := mgmt("Vipps-System-Name", long, "Vipps-System-Version", long[:4<<10], "Vipps-System-Plugin-Name", "p\t"+long[:2<<10],
		"Vipps-System-Plugin-Version", long[:2<<10])
	for range 20 {
		a.Do("GET", "/management/v1/sales-units", nil, headers...).Expect(t, 400, problemJSON)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if len(line) > 2048 {
			t.Fatalf("log line of %d bytes: %.200s…", len(line), line)
		}
	}
	var recs []httpapi.RequestRecord
	a.Admin("GET", "/admin/v1/requests?limit=1000", nil, 200).JSON(t, &recs)
	if len(recs) < 20 {
		t.Fatalf("request log has %d records", len(recs))
	}
	for _, rec := range recs[:20] {
		for name, v := range map[string]string{"systemName": rec.SystemName, "systemVersion": rec.SystemVersion,
			"pluginName": rec.PluginName, "pluginVersion": rec.PluginVersion} {
			if len(v) > httpapi.MaxClientString || v == "" || strings.ContainsRune(v, '\t') {
				t.Fatalf("record %s is %d bytes (max %d): %q", name, len(v), httpapi.MaxClientString, v)
			}
		}
	}
}

// TestRandomMethodsDoNotGrowMetrics sends requests with random long methods: /metrics counts
// them under one label value and does not grow with them.
func TestRandomMethodsDoNotGrowMetrics(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	metricsSize := func() int { return len(a.Do("GET", "/metrics", nil).Body) }
	send := func(n int) {
		for range n {
			m := make([]byte, 2000)
			for i := range m {
				m[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rand.IntN(26)]
			}
			r := a.Do(string(m), "/management/v1/sales-units", nil)
			if r.Status < 400 {
				t.Fatalf("method %.20s…: status %d", m, r.Status)
			}
		}
	}
	send(5) // the series of odd methods exist from here on
	before := metricsSize()
	send(100)
	after := metricsSize()
	if after-before > 2000 {
		t.Fatalf("/metrics grew from %d to %d bytes over 100 random methods", before, after)
	}
	body := string(a.Do("GET", "/metrics", nil).Body)
	if !strings.Contains(body, `method="OTHER"`) {
		t.Fatalf("no method=\"OTHER\" series in /metrics")
	}
	for _, m := range regexp.MustCompile(`method="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if len(m[1]) > 10 {
			t.Fatalf("method label %.40q… in /metrics", m[1])
		}
	}
}

// TestRequestIDIsEchoedOnlyWhenSafe: a client's X-Request-Id is kept only when it matches
// [A-Za-z0-9._:-]{1,64}; anything else is replaced by a generated one.
func TestRequestIDIsEchoedOnlyWhenSafe(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{NoDemo: true})
	a := srv.Client(t)
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, id := range []string{"<script>alert(1)</script>", `a"b`, "a b", "x;y", "ab&cd", strings.Repeat("a", 65), "å"} {
		r := a.Do("GET", "/healthz", nil, "X-Request-Id", id)
		if got := r.Header.Get("X-Request-Id"); !uuidRE.MatchString(got) {
			t.Errorf("X-Request-Id %q came back as %q, want a generated UUID", id, got)
		}
	}
	for _, id := range []string{"ci-run.42:step_7", "0f8fad5b-d9cb-469f-a165-70867728950e", strings.Repeat("a", 64)} {
		if got := a.Do("GET", "/healthz", nil, "X-Request-Id", id).Header.Get("X-Request-Id"); got != id {
			t.Errorf("X-Request-Id %q came back as %q", id, got)
		}
	}
}

// TestEmptyPathSegmentIsAProblem: a path with an empty segment (an unset shell variable) or dot
// segments gets a problem, never the mux's HTML redirect.
func TestEmptyPathSegmentIsAProblem(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	a := testserver.Client{T: t, URL: srv.URL, HTTP: noRedirect}
	mgmt := a.Classic(fixtures.DemoPartnerKeys)
	for _, p := range []string{"/management/v2/product-orders//details", "/management/v1/sales-units//", "/management/v1//sales-units"} {
		r := a.Do("GET", p, nil, mgmt...)
		r.Expect(t, http.StatusBadRequest, problemJSON)
		r.Problem(t)
	}
	r := a.Do("GET", "/admin/v1//partners", nil, testserver.AdminHeaders(testserver.AdminToken)...)
	r.Expect(t, http.StatusBadRequest, problemJSON)
	// Sent raw, so no client cleans the dots away first.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /management/v1/sales-units/../sales-units HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"+
		"Ocp-Apim-Subscription-Key: %s\r\nConnection: close\r\n\r\n", mgmt[3], fixtures.DemoPartnerKeys.SubscriptionKey)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != problemJSON {
		t.Fatalf("dot segments: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestClientDisconnectIsNotAnError: a request whose client has gone (its context cancelled) while
// the store works is logged as 499, not as an internal error.
func TestClientDisconnectIsNotAnError(t *testing.T) {
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	prev := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(prev) })
	srv := testserver.Start(t, "sqlite", testserver.Options{Logger: logger})
	a := srv.Client(t)
	mgmt := a.Classic(fixtures.DemoPartnerKeys)

	for _, c := range []struct{ path, auth string }{
		{"/admin/v1/product-orders", "Bearer " + testserver.AdminToken},
		{"/management/v2/product-orders", mgmt[3]},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequestWithContext(ctx, "GET", c.path, nil)
		req.Header.Set("Authorization", c.auth)
		req.Header.Set("Ocp-Apim-Subscription-Key", fixtures.DemoPartnerKeys.SubscriptionKey)
		rec := httptest.NewRecorder()
		srv.App.Handler().ServeHTTP(rec, req)
		if rec.Code != 499 {
			t.Errorf("%s after the client left: status %d, want 499: %s", c.path, rec.Code, rec.Body)
		}
	}
	var lines int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Level == "ERROR" || rec.Status >= 500 {
			t.Errorf("client disconnect logged as a failure: %s", line)
		}
		if rec.Msg == "request" && rec.Status == 499 {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("%d request lines with status 499, want 2:\n%s", lines, logs)
	}
}
