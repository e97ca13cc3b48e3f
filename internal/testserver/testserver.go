// Package testserver starts complete vippsmgmt servers on loopback for end-to-end tests: the same
// assembly as `vippsmgmt serve` (internal/app), real HTTP, a real SQLite file or PostgreSQL
// database, stopped when the test ends.
package testserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/logsink"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/secretkey"
)

// AdminToken is the operator token of every test server.
const AdminToken = "test-admin-token-for-the-suite"

// Server is a running server.
type Server struct {
	URL string // http://127.0.0.1:PORT
	DSN string
	App *app.App
}

// Options change how a server starts.
type Options struct {
	DSN        string // reuse a database (e.g. a second process on one PostgreSQL); default: a fresh one
	NoDemo     bool
	NoSandbox  bool // serve as in production: no clock control, fault rules or autopilot
	Fixtures   []string
	TokenRate  float64
	TokenBurst int
	NoReport   bool
	Logger     *slog.Logger  // default: discard
	Lines      *logsink.Sink // request log lines, as `vippsmgmt serve` writes them; default: through Logger
}

// Backends are the databases end-to-end tests run on.
var Backends = []string{"sqlite", "postgres"}

// OnEachBackend runs f as a subtest for each of Backends, with a server started on it.
func OnEachBackend(t *testing.T, f func(t *testing.T, backend string, srv *Server)) {
	for _, backend := range Backends {
		t.Run(backend, func(t *testing.T) { f(t, backend, Start(t, backend, Options{})) })
	}
}

// NewDSN returns a fresh database of the backend: a SQLite file in the test's temp dir, or a new
// PostgreSQL database (pgtest: fails in CI, skips elsewhere, when PostgreSQL is missing).
func NewDSN(t testing.TB, backend string) string {
	t.Helper()
	if backend == "postgres" {
		return pgtest.DSN(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "vippsmgmt.db")
}

// Start starts a server on backend ("sqlite" or "postgres") with the demo data.
func Start(t testing.TB, backend string, opts Options) *Server {
	t.Helper()
	dsn := opts.DSN
	if dsn == "" {
		dsn = NewDSN(t, backend)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{
		DB: dsn, Demo: !opts.NoDemo, Fixtures: opts.Fixtures, PublicURL: base, AdminToken: AdminToken,
		Sandbox: !opts.NoSandbox, SecretKey: secretKey(opts.NoSandbox), TokenRate: opts.TokenRate, TokenBurst: opts.TokenBurst, NoReport: opts.NoReport, Logger: logger, Lines: opts.Lines,
	})
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("start server on %s: %v", backend, err)
	}
	srv := a.HTTPServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	bgDone := make(chan struct{})
	go func() { defer close(bgDone); a.Background(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		<-done
		<-bgDone
		a.Close()
	})
	return &Server{URL: base, DSN: dsn, App: a}
}

// secretKey is the secret key of servers outside the sandbox, where one is required: the same for
// every server of a test run, so servers sharing a database agree.
func secretKey(noSandbox bool) *secretkey.Key {
	if !noSandbox {
		return nil
	}
	k, err := secretkey.Parse([]byte("vippsmgmt-test-secret-key-32byte"))
	if err != nil {
		panic(err)
	}
	return k
}
