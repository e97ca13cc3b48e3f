package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
)

// TestSandboxClockSurvivesRestartsVisibly: a moved clock is kept in the database, the start-up
// banner says so, and `admin clock reset` puts it back so the next start says nothing.
func TestSandboxClockSurvivesRestartsVisibly(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "db")
	const token = "clock-test-admin-token"
	listening := regexp.MustCompile(`vippsmgmt is listening on (http://\S+)`)

	// serve starts the server, runs fn against it, stops it and returns the banner.
	serve := func(fn func(base string)) string {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr syncbuf.Buffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--admin-token", token}, envOf(nil), &stdout, &stderr)
		}()
		deadline := time.Now().Add(15 * time.Second)
		var m []string
		for m = listening.FindStringSubmatch(stdout.String()); m == nil && time.Now().Before(deadline); m = listening.FindStringSubmatch(stdout.String()) {
			time.Sleep(20 * time.Millisecond)
		}
		if m == nil {
			cancel()
			<-done
			t.Fatalf("server did not start: %s", stderr.String())
		}
		fn(m[1])
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v", err)
		}
		return stdout.String()
	}
	admin := func(base string, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, nil, append([]string{"admin", "--base-url", base, "--admin-token", token, "clock"}, args...)...)
		if code != 0 {
			t.Fatalf("admin clock %v: exit %d: %s", args, code, errOut)
		}
		return out
	}

	banner := serve(func(base string) {
		if out := admin(base, "advance", "337h"); !strings.Contains(out, "ahead of real time by 337h0m0s") {
			t.Errorf("advance printed %q", out)
		}
	})
	if strings.Contains(banner, "sandbox clock") {
		t.Errorf("first start mentions a clock offset:\n%s", banner)
	}
	banner = serve(func(base string) {
		if out := admin(base); !strings.Contains(out, "by 337h0m0s") {
			t.Errorf("the offset did not survive the restart: %q", out)
		}
		if out := admin(base, "reset"); !strings.Contains(out, "ahead of real time by 0s") {
			t.Errorf("reset printed %q", out)
		}
	})
	if !strings.Contains(banner, "sandbox clock: 337h0m0s ahead of real time") {
		t.Errorf("restart with a moved clock does not say so:\n%s", banner)
	}
	banner = serve(func(string) {})
	if strings.Contains(banner, "sandbox clock") {
		t.Errorf("start after a reset mentions a clock offset:\n%s", banner)
	}
}
