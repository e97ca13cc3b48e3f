package app_test

import (
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/metrics"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestClockMoveReachesOtherServers: a clock move made through one server reaches a second server
// on the same database by itself, within a couple of seconds, so its tokens expire by it too.
func TestClockMoveReachesOtherServers(t *testing.T) {
	a := testserver.Start(t, "sqlite", testserver.Options{})
	b := testserver.Start(t, "sqlite", testserver.Options{DSN: a.DSN})
	k := fixtures.DemoPartnerKeys

	tok := testserver.ClassicToken(t, b.URL, k)
	list := func() int {
		req, _ := http.NewRequest("GET", b.URL+"/management/v1/sales-units", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := list(); got != 200 {
		t.Fatalf("fresh token on b: %d", got)
	}

	if status, body := testserver.AdminJSON(t, "POST", a.URL+"/admin/v1/clock", `{"advance":"25h"}`); status != 200 {
		t.Fatalf("advance on a: %d %s", status, body)
	}

	deadline := time.Now().Add(3 * time.Second)
	for list() != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("b still accepts a token that expired by the moved clock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if off := b.App.Clock.Offset(); off != 25*time.Hour {
		t.Fatalf("b's clock offset %v", off)
	}
}

// TestShortAdminTokenOutsideTheSandbox: outside sandbox mode a short admin token stops start-up,
// since the right token is never throttled.
func TestShortAdminTokenOutsideTheSandbox(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	_, err := app.New(t.Context(), app.Config{DB: dsn, AdminToken: "short-token", Sandbox: false})
	var ce *app.ConfigError
	if !errors.As(err, &ce) || ce.Setting != "admin-token" {
		t.Fatalf("short admin token with --sandbox=false: %v", err)
	}
	a, err := app.New(t.Context(), app.Config{DB: dsn, AdminToken: strings.Repeat("k", 24), Sandbox: false, SecretKey: testKey(t, 1)})
	if err != nil {
		t.Fatalf("24-character admin token: %v", err)
	}
	a.Close()
	a, err = app.New(t.Context(), app.Config{DB: dsn, AdminToken: "short-token", Sandbox: true, SecretKey: testKey(t, 1)})
	if err != nil {
		t.Fatalf("short admin token in the sandbox: %v", err)
	}
	a.Close()
}

// TestAdminTokenAHeaderCanCarry: an admin token no Authorization header can carry (white space
// at an end, as a secret file's trailing newline leaves, or a control character) stops start-up,
// since every request with it would be refused and the operator locked out.
func TestAdminTokenAHeaderCanCarry(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	for _, tok := range []string{"admin-token\n", " admin-token", "admin-token\t", " ", "admin\x00token", "admin\x7ftoken"} {
		a, err := app.New(t.Context(), app.Config{DB: dsn, AdminToken: tok, Sandbox: true})
		if err == nil {
			a.Close()
		}
		var ce *app.ConfigError
		if !errors.As(err, &ce) || ce.Setting != "admin-token" {
			t.Errorf("admin token %q: %v, want a problem with --admin-token", tok, err)
		} else if strings.Contains(err.Error(), "admin-token\n") || strings.Contains(err.Error(), "admin\x00") {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
	a, err := app.New(t.Context(), app.Config{DB: dsn, AdminToken: "admin token with spaces inside", Sandbox: true})
	if err != nil {
		t.Fatalf("a token with inner spaces, which a header carries: %v", err)
	}
	a.Close()
}

// TestSandboxClockIgnoredOutsideTheSandbox: a database a sandbox moved the clock on runs at real
// time once served with --sandbox=false.
func TestSandboxClockIgnoredOutsideTheSandbox(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	key := testKey(t, 1)
	a, err := app.New(t.Context(), app.Config{DB: dsn, AdminToken: prodToken, Sandbox: true, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Clock.Advance(t.Context(), a.Store, 400*time.Hour); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a, err = app.New(t.Context(), app.Config{DB: dsn, AdminToken: prodToken, Sandbox: false, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	a.Sweep(t.Context())
	if off := a.Clock.Offset(); off != 0 {
		t.Errorf("outside the sandbox the clock runs %v ahead", off)
	}
	a.Close()
	a, err = app.New(t.Context(), app.Config{DB: dsn, AdminToken: prodToken, Sandbox: true, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if off := a.Clock.Offset(); off != 400*time.Hour {
		t.Errorf("back in the sandbox the clock is %v ahead, want the stored 400h", off)
	}
}

// TestMetricsText: GET /metrics of a running server is valid text exposition with the server's
// own families, the runtime's and the process's, and counts the requests it served.
func TestMetricsText(t *testing.T) {
	s := testserver.Start(t, "sqlite", testserver.Options{})
	for range 3 {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != metrics.ContentType {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := metrics.Lint(body); err != nil {
		t.Fatalf("Lint: %v\n%s", err, body)
	}
	for _, want := range []string{
		`vippsmgmt_http_requests_total{method="GET",route="GET /healthz",status="200"} 3`,
		`vippsmgmt_http_request_duration_seconds_count{method="GET",route="GET /healthz"} 3`,
		`vippsmgmt_http_request_duration_seconds_bucket{method="GET",route="GET /healthz",le="+Inf"} 3`,
		`vippsmgmt_sqlite_prefills_total 0`,
		`vippsmgmt_report_dropped_total 0`,
		`go_sql_max_open_connections{db_name="sqlite"} 8`,
		"# TYPE go_goroutines gauge",
		"# TYPE process_resident_memory_bytes gauge",
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("no line %s", want)
		}
	}
}
