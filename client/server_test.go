package client_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
)

const testAdminToken = "test-admin-token"

// startServer runs a complete vippsmgmt server with the demo data on loopback, the same assembly
// as `vippsmgmt serve`, and returns its base URL. It stops when the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{
		DB: "sqlite:" + filepath.Join(t.TempDir(), "vippsmgmt.db"), Demo: true, AdminToken: testAdminToken,
		PublicURL: base, Sandbox: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("start server: %v", err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Background(ctx)
	}()
	go srv.Serve(ln)
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		cancel()
		<-done
		a.Close()
	})
	return base
}
