// Package app assembles a complete vippsmgmt server from its configuration: store, clock, secret
// hasher, fixtures, token service, HTTP API and portal. `vippsmgmt serve` and end-to-end tests use
// the same assembly.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/time/rate"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/auth"
	"github.com/vippsmgmt/vippsmgmt/internal/autopilot"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/fault"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/logsink"
	"github.com/vippsmgmt/vippsmgmt/internal/metrics"
	"github.com/vippsmgmt/vippsmgmt/internal/notify"
	"github.com/vippsmgmt/vippsmgmt/internal/portal"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
	"github.com/vippsmgmt/vippsmgmt/internal/secretkey"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

// Config is the server's configuration (see `vippsmgmt serve -h`).
type Config struct {
	DB            string   // sqlite:PATH or postgres:// URL
	Fixtures      []string // fixture files loaded at start
	Demo          bool     // load the demo set into an empty database
	PublicURL     string   // base of prefill links, without a trailing slash
	AdminToken    string   // required
	Sandbox       bool
	TokenTTL      time.Duration
	TokenRate     float64
	TokenBurst    int
	SigningKeyPEM []byte
	// SecretKey encrypts the pepper and the signing key in the database; required outside the
	// sandbox.
	SecretKey  *secretkey.Key
	SMTPURL    string
	SMTPFrom   string
	SweepEvery time.Duration
	NoReport   bool // leave out the integration report (and its per-request cost)
	// MaxHeaderBytes bounds a request's line and headers (answered 431 as a problem past it);
	// zero means httpapi.DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	Logger         *slog.Logger
	// Lines, when set, takes the request log lines; Logger should write to it too.
	Lines *logsink.Sink
}

// ConfigError is a problem with the configuration or its inputs (database URL, fixture file,
// signing key): start-up stops with it. Setting names the configuration item ("db", "signing-key");
// fixture errors carry FILE:LINE themselves and leave it empty.
type ConfigError struct {
	Setting string
	Err     error
}

func (e *ConfigError) Error() string {
	if e.Setting == "" {
		return e.Err.Error()
	}
	return "--" + e.Setting + ": " + e.Err.Error()
}
func (e *ConfigError) Unwrap() error { return e.Err }

// App is an assembled server.
type App struct {
	cfg        Config
	Store      *sqlstore.DB
	Clock      *clock.Clock
	Server     *httpapi.Server
	Auth       *auth.Service
	Report     *report.Collector
	Faults     *fault.Injector   // the sandbox's fault rules; nil outside sandbox mode
	Autopilot  *autopilot.Engine // the sandbox's autopilot; nil outside sandbox mode
	DemoLoaded bool              // the demo set was loaded at this start
	DemoKeys   bool              // the demo partner keys exist and work, loaded now or before
	logger     *slog.Logger
}

// New assembles the server. The caller serves App.Handler() and runs App.Background.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AdminToken == "" {
		return nil, &ConfigError{"admin-token", errors.New("is required")}
	}
	// A token a header cannot carry would refuse every request, the operator's too. The token
	// itself stays out of the message.
	if strings.TrimSpace(cfg.AdminToken) != cfg.AdminToken {
		return nil, &ConfigError{"admin-token", errors.New("must not start or end with white space (a trailing newline of a file?): an Authorization header cannot carry it")}
	}
	if strings.ContainsFunc(cfg.AdminToken, unicode.IsControl) {
		return nil, &ConfigError{"admin-token", errors.New("must not hold control characters: an Authorization header cannot carry them")}
	}
	if !cfg.Sandbox && len(cfg.AdminToken) < auth.MinAdminTokenLength {
		// The correct token is never throttled, so outside the sandbox its length has to keep
		// guessing hopeless.
		return nil, &ConfigError{"admin-token", fmt.Errorf("must be at least %d characters with --sandbox=false", auth.MinAdminTokenLength)}
	}
	if !cfg.Sandbox && cfg.SecretKey == nil {
		return nil, &ConfigError{"secret-key-file", errors.New("is required with --sandbox=false: the signing key and pepper must not be stored in plain text")}
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = httpapi.DefaultMaxHeaderBytes
	}
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = 10 * time.Second
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.TokenRate == 0 {
		cfg.TokenRate, cfg.TokenBurst = 10, 60
	}
	a := &App{cfg: cfg, Clock: clock.New(), logger: cfg.Logger}
	store, err := sqlstore.Open(ctx, cfg.DB, a.Clock)
	if err != nil {
		return nil, &ConfigError{"db", err}
	}
	a.Store = store
	if err := a.assemble(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) assemble(ctx context.Context) error {
	cfg := a.cfg
	if err := a.refreshClock(ctx); err != nil {
		return fmt.Errorf("read clock offset: %w", err)
	}
	if !cfg.Sandbox {
		sandboxClock := clock.New()
		if err := sandboxClock.Refresh(ctx, a.Store); err == nil && sandboxClock.Offset() != 0 {
			a.logger.Warn("sandbox off: the clock runs at real time; the stored sandbox clock offset is ignored", "offset", sandboxClock.Offset().String())
		}
	}
	if cfg.SecretKey == nil {
		a.logger.Warn("no --secret-key-file: the token signing key and secret pepper are stored in plain text in the database")
	}
	n, err := secretkey.Prepare(ctx, a.Store, cfg.SecretKey, auth.SecretSettings)
	if err != nil {
		return &ConfigError{"secret-key-file", err}
	}
	if n > 0 {
		a.logger.Info("encrypted the secrets stored in plain text", "settings", n, "key_id", cfg.SecretKey.ID())
	}
	secrets := &secretkey.Store{Store: a.Store, Key: cfg.SecretKey, Secrets: auth.SecretSettings}
	hasher, err := auth.LoadHasher(ctx, secrets)
	if err != nil {
		return fmt.Errorf("load secret hasher: %w", err)
	}
	if cfg.Demo {
		n, err := a.Store.CountPartners(ctx)
		if err != nil {
			return fmt.Errorf("count partners: %w", err)
		}
		if n == 0 {
			if err := fixtures.Load(ctx, a.Store, hasher.Hash, "demo.yaml", fixtures.Demo); err != nil {
				return fmt.Errorf("load demo data: %w", err)
			}
			a.DemoLoaded = true
		}
	}
	// The banner repeats the demo credentials on every start while they work, not only the first.
	if k, err := a.Store.FindAPIKeyByClientID(ctx, fixtures.DemoPartnerKeys.ClientID); err == nil {
		a.DemoKeys = !k.Revoked && hasher.Equal(k.SecretHash, fixtures.DemoPartnerKeys.ClientSecret)
	}
	for _, f := range cfg.Fixtures {
		if !cfg.Sandbox {
			if err := fixtures.RefuseScenarios(f); err != nil {
				return &ConfigError{Err: err}
			}
		}
		if err := fixtures.LoadFile(ctx, a.Store, hasher.Hash, f); err != nil {
			return &ConfigError{Err: err}
		}
	}
	a.Auth, err = auth.New(ctx, secrets, a.Clock, hasher, auth.Config{
		ClassicTTL: cfg.TokenTTL, Rate: rate.Limit(cfg.TokenRate), Burst: cfg.TokenBurst, SigningKeyPEM: cfg.SigningKeyPEM,
	})
	if err != nil {
		return &ConfigError{"signing-key", err}
	}
	// One guard for the operator API and the console sign-in: wrong guesses count together.
	guard := auth.NewAdminGuard(cfg.AdminToken)
	reg := metrics.NewRegistry()
	reg.Collect(metrics.GoRuntime)
	reg.Collect(metrics.Process)
	reg.Collect(metrics.DBStats(a.Store.SQL(), a.Store.Dialect()))
	if a.Store.Dialect() == sqlstore.DialectSQLite {
		reg.CounterFunc("vippsmgmt_sqlite_prefill_transactions_total",
			"Transactions (each one fsync) that stored prefills; concurrent prefills share one.",
			func() float64 { n, _ := a.Store.PrefillGroups(); return float64(n) })
		reg.CounterFunc("vippsmgmt_sqlite_prefills_total", "Prefills answered by those transactions, refused ones included.",
			func() float64 { _, n := a.Store.PrefillGroups(); return float64(n) })
	}
	if cfg.Sandbox {
		catalog, err := fault.DefaultCatalog()
		if err != nil {
			return err
		}
		a.Faults = fault.NewInjector(a.Store, a.Clock, catalog, a.partnerOf, cfg.Logger)
		if err := a.Faults.Refresh(ctx); err != nil {
			return fmt.Errorf("read fault rules: %w", err)
		}
		a.Autopilot = autopilot.New(a.Store, a.Clock, cfg.Logger)
	}
	var reporter portal.Reporter
	if !cfg.NoReport {
		a.Report = report.New(report.Config{Store: a.Store, Logger: cfg.Logger, ClassicTTL: cfg.TokenTTL, ManagementTTL: auth.ManagementTTL})
		reporter = a.Report
		reg.CounterFunc("vippsmgmt_report_dropped_total",
			"Requests the integration report did not count because its buffer was full (the database kept it from flushing).",
			func() float64 { return float64(a.Report.Dropped()) })
	}
	// The portal shows the server's request log, so it is made after the server; the server asks
	// it for error pages only while serving, when it is set.
	var p *portal.Portal
	portalError := func(w http.ResponseWriter, r *http.Request, err error) { p.ErrorPage(w, r, err) }
	a.Server, err = httpapi.NewServer(
		httpapi.Config{PublicURL: cfg.PublicURL, AdminToken: cfg.AdminToken, Sandbox: cfg.Sandbox, MaxHeaderBytes: cfg.MaxHeaderBytes,
			PortalError: portalError},
		httpapi.Deps{Logger: cfg.Logger, Lines: cfg.Lines, Store: a.Store, Clock: a.Clock, Auth: a.Auth, Hasher: hasher,
			AdminAuth: guard.Middleware, Metrics: reg, Report: a.Report,
			Faults: a.Faults, Autopilot: a.Autopilot})
	if err != nil {
		return err
	}
	p, err = portal.New(portal.Deps{Store: a.Store, Clock: a.Clock, Hasher: hasher, AdminToken: cfg.AdminToken, AdminGuard: guard,
		PublicURL: cfg.PublicURL, Requests: a.Server.Requests().Page, ForgetKey: a.Auth.Forget, Report: reporter, Faults: a.Faults, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	p.Register(a.Server.Mux())
	return nil
}

// partnerOf names the partner of a client id, for fault rules on token requests by partnerId.
func (a *App) partnerOf(ctx context.Context, clientID string) string {
	k, err := a.Store.FindAPIKeyByClientID(ctx, clientID)
	if err != nil || k.PartnerID == nil {
		return ""
	}
	return *k.PartnerID
}

// Handler is the whole HTTP surface.
func (a *App) Handler() http.Handler { return a.Server }

// HTTPServer returns the http.Server that serves Handler with the connection limits of a
// deployment. Headers over MaxHeaderBytes are answered 431 as a problem by the handler; the
// connection itself reads at most headerHardLimit times that, past which net/http answers a
// plain 431 and closes, so a client cannot make the server buffer more.
func (a *App) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// A client that stops sending its body must not hold a connection (or a shutdown) forever;
		// 30 s is ample for the 2 MiB maximum on a slow line. No WriteTimeout: the sales-unit list
		// of a large partner streams for as long as it takes.
		ReadTimeout:    30 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: headerHardLimit * a.cfg.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
}

// headerHardLimit is how many times MaxHeaderBytes a connection may send as headers before the
// HTTP layer stops reading them.
const headerHardLimit = 4

// Background runs the periodic work until ctx ends: adopting clock moves of other processes,
// recording expiries and forgetting old idempotency keys; with an SMTP URL it also sends the outbox.
func (a *App) Background(ctx context.Context) {
	// Generating a signing key (fresh database) is left until the server serves, so it does not
	// compete with start-up for the CPU.
	a.Auth.PrepareSigningKey()
	var wg sync.WaitGroup
	defer wg.Wait() // the outbox sender must be done before the caller closes the store
	// The report's last flush happens when ctx ends, before the caller closes the store.
	if a.Report != nil {
		wg.Go(func() { a.Report.Run(ctx) })
	}
	if a.cfg.SMTPURL != "" {
		wg.Go(func() { notify.Run(ctx, a.Store, a.cfg.SMTPURL, a.cfg.SMTPFrom, a.logger, 5*time.Second) })
	}
	// Another process may move the sandbox clock; adopting its move is one small read, so it
	// happens every second rather than at the next sweep.
	clockTick := time.NewTicker(time.Second)
	defer clockTick.Stop()
	sweepTick := time.NewTicker(a.cfg.SweepEvery)
	defer sweepTick.Stop()
	a.Sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-clockTick.C:
			if err := a.refreshClock(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("clock refresh failed", "error", err)
			}
			a.scenarios(ctx)
		case <-sweepTick.C:
			a.Sweep(ctx)
		}
	}
}

// scenarios adopts fault rules other processes changed and takes the autopilot steps that came
// due in real time (a clock move applies its own at once).
func (a *App) scenarios(ctx context.Context) {
	if a.Faults == nil {
		return
	}
	if err := a.Faults.Refresh(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("fault rules refresh failed", "error", err)
	}
	if _, _, err := a.Autopilot.RunDue(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("autopilot run failed", "error", err)
	}
}

// refreshClock adopts the clock offset stored by sandbox clock moves. Outside sandbox mode the
// clock is real time, whatever a sandbox run stored in the same database.
func (a *App) refreshClock(ctx context.Context) error {
	if !a.cfg.Sandbox {
		return nil
	}
	return a.Clock.Refresh(ctx, a.Store)
}

// Sweep runs the periodic work once.
func (a *App) Sweep(ctx context.Context) {
	if err := a.refreshClock(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("clock refresh failed", "error", err)
	}
	if n, err := a.Store.ExpireProductOrders(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("expiry sweep failed", "error", err)
	} else if n > 0 {
		a.logger.Info("expired product orders", "count", n)
	}
	if _, err := a.Store.PurgeIdempotencyKeys(ctx, a.Clock.Now().Add(-2*vippsmgmt.IdempotencyRetention)); err != nil && ctx.Err() == nil {
		a.logger.Warn("idempotency purge failed", "error", err)
	}
}

// Close closes the database.
func (a *App) Close() error { return a.Store.Close() }
