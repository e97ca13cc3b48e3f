// Package vippsmgmttest starts a complete vippsmgmt server inside a Go test, as net/http/httptest
// does for a handler: the Management API, the Access Token API, the operator API and the portal on
// a loopback port, backed by a temporary SQLite database that disappears with the test.
//
// Each NewServer is a separate sandbox, so tests that each start their own can run in parallel.
// Start one with the demo data (the keys the README prints) or with fixture files of your own, then
// point the client package, or any HTTP client, at Server.URL. Server.KeySets lists the keys that
// were loaded, and Server.AdvanceClock moves the sandbox clock, for token lifetimes and the
// expiry of prefilled orders.
package vippsmgmttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// Server is a running vippsmgmt server.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234, without a trailing slash.
	URL string
	// AdminToken is the bearer token of the operator API (/admin/v1) and the console.
	AdminToken string

	app      *app.App
	http     *http.Server
	keySets  []KeySet
	tb       testing.TB // nil for Start
	tempDir  string     // removed by Close when Start made it
	stopBG   context.CancelFunc
	bgDone   chan struct{}
	closeErr error
	close    sync.Once
}

// KeySet is a set of API keys loaded from the demo data or a fixture, in plain text.
type KeySet struct {
	Kind            string // "partner", "management" or "merchant"
	ClientID        string
	ClientSecret    string
	SubscriptionKey string // empty for management keys
	PartnerID       string // owner of partner and management keys
	MSN             string // sales unit of merchant keys
}

// Option configures a server.
type Option func(*config)

type config struct {
	demo     bool
	fixtures []fixture // in the order given
	logger   *slog.Logger
	adminTok string
}

// fixture is a fixture file's path, or fixture text when isText.
type fixture struct {
	path, text string
	isText     bool
}

// WithDemo loads the built-in demo data set: two partners, three merchants, six sales units and
// the keys the README lists.
func WithDemo() Option { return func(c *config) { c.demo = true } }

// WithFixtureFile loads a fixture file (see the README's Fixtures section) at start. A file that
// does not load fails the test, naming FILE:LINE.
func WithFixtureFile(path string) Option {
	return func(c *config) { c.fixtures = append(c.fixtures, fixture{path: path}) }
}

// WithFixtures loads fixtures given as YAML (or JSON) text, as WithFixtureFile loads a file.
func WithFixtures(yamlText string) Option {
	return func(c *config) { c.fixtures = append(c.fixtures, fixture{text: yamlText, isText: true}) }
}

// WithAdminToken sets the admin token instead of a random one.
func WithAdminToken(token string) Option { return func(c *config) { c.adminTok = token } }

// WithLogger sends the server's log (one line per request, warnings, errors) to logger. By
// default NewServer logs warnings and errors to the test's output and Start discards the log.
func WithLogger(logger *slog.Logger) Option { return func(c *config) { c.logger = logger } }

// NewServer starts a server for the test and stops it, removing its database, when the test and
// its subtests are done. A configuration that does not start (a fixture error) fails the test.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	c := newConfig(opts)
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := start(c, tb.TempDir(), false)
	if err != nil {
		tb.Fatalf("vippsmgmttest: %v", err)
	}
	s.tb = tb
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("vippsmgmttest: stop: %v", err)
		}
	})
	return s
}

// Start starts a server outside a test's lifetime, for TestMain or a program. Close stops it and
// removes its database.
func Start(opts ...Option) (*Server, error) {
	c := newConfig(opts)
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := os.MkdirTemp("", "vippsmgmttest-")
	if err != nil {
		return nil, err
	}
	s, err := start(c, dir, true)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	return c
}

func start(c *config, dir string, ownDir bool) (*Server, error) {
	ctx := context.Background()
	// Fixture texts go through files too, so their errors name a FILE:LINE like any fixture.
	var files []string
	for i, f := range c.fixtures {
		if !f.isText {
			files = append(files, f.path)
			continue
		}
		name := filepath.Join(dir, fmt.Sprintf("fixtures-%d.yaml", i+1))
		if err := os.WriteFile(name, []byte(f.text), 0o600); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	keySets, err := loadedKeySets(c.demo, files)
	if err != nil {
		return nil, err
	}
	token := c.adminTok
	if token == "" {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		token = hex.EncodeToString(b)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	a, err := app.New(ctx, app.Config{
		DB: "sqlite:" + filepath.Join(dir, "vippsmgmt.db"), Fixtures: files, Demo: c.demo, PublicURL: base,
		AdminToken: token, Sandbox: true, Logger: c.logger,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{URL: base, AdminToken: token, app: a, keySets: keySets, bgDone: make(chan struct{})}
	if ownDir {
		s.tempDir = dir
	}
	s.http = &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(c.logger.Handler(), slog.LevelWarn)}
	var bg context.Context
	bg, s.stopBG = context.WithCancel(ctx)
	go func() {
		defer close(s.bgDone)
		a.Background(bg)
	}()
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// loadedKeySets lists the key sets of the demo data and the fixture files in loading order; a
// later set with the same client id replaces an earlier one, as loading does.
func loadedKeySets(demo bool, files []string) ([]KeySet, error) {
	var sets []*fixtures.Set
	if demo {
		set, err := fixtures.Parse("demo.yaml", fixtures.Demo)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read fixtures: %w", err)
		}
		set, err := fixtures.Parse(f, data)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	var out []KeySet
	index := map[string]int{}
	add := func(k *fixtures.Key, partnerID, msn string) {
		ks := KeySet{Kind: k.Kind, ClientID: k.ClientID, ClientSecret: k.ClientSecret, SubscriptionKey: k.SubscriptionKey,
			PartnerID: partnerID, MSN: msn}
		if i, ok := index[k.ClientID]; ok {
			out[i] = ks
			return
		}
		index[k.ClientID] = len(out)
		out = append(out, ks)
	}
	for _, set := range sets {
		for _, p := range set.Partners {
			for _, k := range p.Keys {
				add(k, p.ID, "")
			}
		}
		for _, m := range set.Merchants {
			for _, su := range m.SalesUnits {
				for _, k := range su.Keys {
					add(k, "", su.MSN)
				}
			}
		}
	}
	return out, nil
}

// KeySets returns the key sets loaded at start from the demo data and the fixtures, in loading
// order. Keys created later through the operator API are not listed.
func (s *Server) KeySets() []KeySet { return append([]KeySet(nil), s.keySets...) }

// Now is the sandbox clock's current time.
func (s *Server) Now() time.Time { return s.app.Clock.Now() }

// AdvanceClock moves the sandbox clock forward by d, as POST /admin/v1/clock does, and returns
// its new time. Tokens and prefilled orders age accordingly, and autopilot steps due on the way
// happen at their time. d must be positive.
func (s *Server) AdvanceClock(d time.Duration) time.Time {
	if s.tb != nil {
		s.tb.Helper()
	}
	if _, err := s.app.Autopilot.Advance(context.Background(), d); err != nil {
		err = fmt.Errorf("vippsmgmttest: advance the clock by %s: %w", d, err)
		if s.tb == nil {
			panic(err)
		}
		s.tb.Fatal(err)
	}
	// Expiry is recorded by a periodic sweep; run it now so the next request sees the new state.
	s.app.Sweep(context.Background())
	return s.app.Clock.Now()
}

// Close stops the server: in-flight requests get up to five seconds to finish, then the database
// is closed (and removed when Start made it). NewServer's servers close themselves.
func (s *Server) Close() error {
	s.close.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.http.Shutdown(ctx)
		if err != nil {
			s.http.Close()
		}
		s.stopBG()
		<-s.bgDone
		err = errors.Join(err, s.app.Close())
		if s.tempDir != "" {
			err = errors.Join(err, os.RemoveAll(s.tempDir))
		}
		s.closeErr = err
	})
	return s.closeErr
}
