package app_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
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
