package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/logsink"
	"github.com/vippsmgmt/vippsmgmt/internal/notify"
	"github.com/vippsmgmt/vippsmgmt/internal/secretkey"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

// serveConfig is everything `vippsmgmt serve` is told, from flags or the environment.
type serveConfig struct {
	addr         string
	db           string
	fixtures     []string
	demo         bool
	publicURL    string
	adminToken   string
	sandbox      bool
	logFormat    string
	tokenTTL     time.Duration
	tokenRate    float64
	tokenBurst   int
	signingKey   string
	secretKey    string
	smtpURL      string
	smtpFrom     string
	sweepEvery   time.Duration
	shutdownWait time.Duration
	maxHeader    int
	report       bool
}

// listFlag is a flag that may repeat.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseServe reads the environment first and lets flags override it.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	c := serveConfig{
		addr: "localhost:8080", db: "sqlite:vippsmgmt.db", demo: true, sandbox: true, logFormat: "text",
		tokenTTL: 24 * time.Hour, tokenRate: 10, tokenBurst: 60, sweepEvery: 10 * time.Second,
		shutdownWait: 10 * time.Second, smtpFrom: "vippsmgmt@localhost", maxHeader: httpapi.DefaultMaxHeaderBytes,
		report: true,
	}
	var envErr error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	parse := func(name string, set func(string) error) {
		if v := getenv(name); v != "" && envErr == nil {
			if err := set(v); err != nil {
				envErr = cli.Usagef("%s=%q: %v", name, v, err)
			}
		}
	}
	str("VIPPSMGMT_ADDR", &c.addr)
	str("VIPPSMGMT_DB", &c.db)
	if v := getenv("VIPPSMGMT_FIXTURES"); v != "" {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.fixtures = append(c.fixtures, f)
			}
		}
	}
	parse("VIPPSMGMT_DEMO", func(v string) (err error) { c.demo, err = strconv.ParseBool(v); return })
	str("VIPPSMGMT_PUBLIC_URL", &c.publicURL)
	str("VIPPSMGMT_ADMIN_TOKEN", &c.adminToken)
	parse("VIPPSMGMT_SANDBOX", func(v string) (err error) { c.sandbox, err = strconv.ParseBool(v); return })
	str("VIPPSMGMT_LOG_FORMAT", &c.logFormat)
	parse("VIPPSMGMT_TOKEN_TTL", func(v string) (err error) { c.tokenTTL, err = time.ParseDuration(v); return })
	parse("VIPPSMGMT_TOKEN_RATE", func(v string) (err error) { c.tokenRate, err = strconv.ParseFloat(v, 64); return })
	parse("VIPPSMGMT_TOKEN_BURST", func(v string) (err error) { c.tokenBurst, err = strconv.Atoi(v); return })
	str("VIPPSMGMT_SIGNING_KEY", &c.signingKey)
	str("VIPPSMGMT_SECRET_KEY_FILE", &c.secretKey)
	str("VIPPSMGMT_SMTP_URL", &c.smtpURL)
	str("VIPPSMGMT_SMTP_FROM", &c.smtpFrom)
	parse("VIPPSMGMT_REPORT", func(v string) (err error) { c.report, err = strconv.ParseBool(v); return })
	parse("VIPPSMGMT_MAX_HEADER_BYTES", func(v string) (err error) { c.maxHeader, err = strconv.Atoi(v); return })
	if envErr != nil {
		return c, envErr
	}

	fs := usageFlags("serve", `usage: vippsmgmt serve [flags]

Runs the Management API, the Access Token API, the merchant portal and the operator console.
Most flags have an environment variable of the same meaning, named beside them; flags win.

flags:
`, stderr)
	fs.StringVar(&c.addr, "addr", c.addr, "listen address (VIPPSMGMT_ADDR)")
	fs.StringVar(&c.db, "db", c.db, "sqlite:PATH or a postgres:// URL (VIPPSMGMT_DB)")
	var files listFlag
	fs.Var(&files, "fixtures", "fixture file loaded at start; may repeat (VIPPSMGMT_FIXTURES, comma-separated)")
	fs.BoolVar(&c.demo, "demo", c.demo, "load the demo data set when the database holds no partner (VIPPSMGMT_DEMO)")
	fs.StringVar(&c.publicURL, "public-url", c.publicURL, "base of links the server hands out; default http://ADDR (VIPPSMGMT_PUBLIC_URL)")
	fs.StringVar(&c.adminToken, "admin-token", c.adminToken, "bearer token of the operator API and console; generated when empty (VIPPSMGMT_ADMIN_TOKEN)")
	fs.BoolVar(&c.sandbox, "sandbox", c.sandbox, "test conveniences: the clock control, fault rules, the autopilot; false for real operation (VIPPSMGMT_SANDBOX)")
	fs.StringVar(&c.logFormat, "log-format", c.logFormat, "text or json (VIPPSMGMT_LOG_FORMAT)")
	fs.DurationVar(&c.tokenTTL, "token-ttl", c.tokenTTL, "lifetime of /accesstoken/get tokens; 1h mimics the test environment (VIPPSMGMT_TOKEN_TTL)")
	fs.Float64Var(&c.tokenRate, "token-rate", c.tokenRate, "token requests per second allowed per client id, and refused ones per address (VIPPSMGMT_TOKEN_RATE)")
	fs.IntVar(&c.tokenBurst, "token-burst", c.tokenBurst, "token requests a client id (or refused ones an address) may make at once (VIPPSMGMT_TOKEN_BURST)")
	fs.StringVar(&c.signingKey, "signing-key", c.signingKey, "PEM file with the RSA key that signs tokens; default: one kept in the database (VIPPSMGMT_SIGNING_KEY)")
	fs.StringVar(&c.secretKey, "secret-key-file", c.secretKey, "file with 32 random bytes (raw or base64) encrypting the signing key and pepper in the database; required with --sandbox=false (VIPPSMGMT_SECRET_KEY_FILE)")
	fs.StringVar(&c.smtpURL, "smtp-url", c.smtpURL, "smtp://[user:pass@]host:port to send notifications by e-mail (VIPPSMGMT_SMTP_URL)")
	fs.DurationVar(&c.shutdownWait, "shutdown-timeout", c.shutdownWait, "how long SIGTERM waits for in-flight requests before closing their connections")
	fs.StringVar(&c.smtpFrom, "smtp-from", c.smtpFrom, "sender address of notification e-mails (VIPPSMGMT_SMTP_FROM)")
	fs.IntVar(&c.maxHeader, "max-header-bytes", c.maxHeader, "largest request line and headers accepted, in bytes; larger ones get 431 (VIPPSMGMT_MAX_HEADER_BYTES)")
	fs.BoolVar(&c.report, "report", c.report, "keep the integration report of callers' habits (VIPPSMGMT_REPORT)")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return c, err
	}
	if len(files) > 0 {
		c.fixtures = files
	}
	switch {
	case c.logFormat != "text" && c.logFormat != "json":
		return c, cli.Usagef("--log-format %q: must be text or json", c.logFormat)
	case c.tokenTTL < time.Minute:
		return c, cli.Usagef("--token-ttl %s: must be at least 1m", c.tokenTTL)
	case c.shutdownWait <= 0:
		return c, cli.Usagef("--shutdown-timeout %s: must be positive", c.shutdownWait)
	case !(c.tokenRate > 0) || c.tokenBurst < 1: // NaN too, which the limiter would take as no limit
		return c, cli.Usagef("--token-rate and --token-burst must be positive")
	case c.maxHeader < 4<<10 || c.maxHeader > 1<<20:
		return c, cli.Usagef("--max-header-bytes %d: must be between 4096 and 1048576", c.maxHeader)
	}
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		switch {
		case err == nil && u.User != nil:
			// Not quoted: the user part may hold a password.
			return c, cli.Usagef("--public-url: must not hold a user or password: merchants' links would carry it")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return c, cli.Usagef("--public-url %q: must be an http or https URL", c.publicURL)
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(c.publicURL, "#"):
			// Links are made by appending paths such as /register/prefilled/ID to it.
			return c, cli.Usagef("--public-url %q: must have no query or fragment: links are made by appending a path to it", c.publicURL)
		}
		c.publicURL = strings.TrimRight(c.publicURL, "/")
	}
	if c.smtpURL != "" {
		// notify's own check, whose words never quote the URL: it may hold the SMTP password.
		if _, err := notify.ParseConfig(c.smtpURL, c.smtpFrom); err != nil {
			return c, cli.Usagef("--smtp-url or --smtp-from: %s", strings.TrimPrefix(err.Error(), "notify: "))
		}
	}
	return c, nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Every log line goes through one buffer, written a few times a second and on the way out.
	sink, err := logsink.New(stderr, cfg.logFormat)
	if err != nil {
		return cli.Usagef("--log-format: %v", err)
	}
	defer sink.Close()
	logger := sink.Logger()
	// Packages that log without a logger of their own (internal errors) use the same format.
	previous := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(previous)

	var signingKey []byte
	if cfg.signingKey != "" {
		if signingKey, err = readSigningKey(cfg.signingKey); err != nil {
			return cli.Usagef("--signing-key: %v", err)
		}
	}
	var secretKey *secretkey.Key
	if cfg.secretKey != "" {
		if secretKey, err = secretkey.Load(cfg.secretKey); err != nil {
			return cli.Usagef("--secret-key-file: %v", err)
		}
	}
	adminToken, generated := cfg.adminToken, false
	if adminToken == "" {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		adminToken, generated = hex.EncodeToString(b), true
	}
	// Listen first: the public URL defaults to the address actually bound (also for port 0).
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return cli.Usagef("--addr: %v", err)
	}
	defer ln.Close()
	base := "http://" + displayAddr(ln.Addr().String())
	if cfg.publicURL == "" {
		cfg.publicURL = base
	}
	release, err := sqlstore.ClaimSQLite(cfg.db)
	if err != nil {
		return cli.Usagef("--db: %v", err)
	}
	defer release()
	a, err := app.New(ctx, app.Config{
		DB: cfg.db, Fixtures: cfg.fixtures, Demo: cfg.demo, PublicURL: cfg.publicURL, AdminToken: adminToken,
		Sandbox: cfg.sandbox, TokenTTL: cfg.tokenTTL, TokenRate: cfg.tokenRate, TokenBurst: cfg.tokenBurst,
		SigningKeyPEM: signingKey, SecretKey: secretKey, SMTPURL: cfg.smtpURL, SMTPFrom: cfg.smtpFrom, SweepEvery: cfg.sweepEvery, MaxHeaderBytes: cfg.maxHeader,
		NoReport: !cfg.report, Logger: logger, Lines: sink,
	})
	var ce *app.ConfigError
	if errors.As(err, &ce) {
		return cli.UsageError{Err: err}
	} else if err != nil {
		return err
	}
	defer a.Close()
	// Parsing the contract and applying migrations leave megabytes of garbage; hand them back now
	// rather than at the first GC cycles, so an idle server stays small.
	debug.FreeOSMemory()

	printBanner(stdout, base, cfg, adminToken, generated, a.DemoLoaded, a.DemoKeys, a.Clock.Offset())
	httpSrv := a.HTTPServer()
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Background(bg)
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String(), "db", redactDSN(cfg.db), "public_url", cfg.publicURL, "sandbox", cfg.sandbox)

	select {
	case err := <-serveErr:
		stopBackground()
		<-done
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let in-flight requests (also ones still sending their body) finish.
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownWait)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		// Past the drain time, cut what is left (clients stalled mid-request) and stop anyway.
		logger.Warn("shutdown drain time over; closing remaining connections", "wait", cfg.shutdownWait, "error", err)
		httpSrv.Close()
	}
	stopBackground()
	<-done
	logger.Info("stopped")
	return nil
}

// maxSigningKeyFile bounds what readSigningKey reads: an RSA key of 16384 bits is some 12 KiB of
// PEM.
const maxSigningKeyFile = 64 << 10

// readSigningKey reads the PEM file of --signing-key. A file larger than maxSigningKeyFile, or a
// device such as /dev/zero, is refused after reading that much rather than read whole into memory.
func readSigningKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSigningKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSigningKeyFile {
		return nil, fmt.Errorf("%s holds more than %d bytes, more than an RSA key in PEM", path, maxSigningKeyFile)
	}
	return data, nil
}

// displayAddr turns a listener address into one a browser or curl can use.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// redactDSN hides a password in a database URL before it is logged: the user part's, and the
// password and sslpassword parameters, which PostgreSQL URLs take as well.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	redacted := u.User != nil
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, name := range []string{"password", "sslpassword"} {
			if q.Has(name) {
				q.Set(name, "xxxxx")
			}
		}
		u.RawQuery, redacted = q.Encode(), true
	}
	if !redacted {
		return dsn
	}
	return u.Redacted()
}

func printBanner(w io.Writer, base string, cfg serveConfig, adminToken string, generated, demoLoaded, demoKeys bool, clockOffset time.Duration) {
	fmt.Fprintf(w, "vippsmgmt is listening on %s (database %s)\n", base, redactDSN(cfg.db))
	fmt.Fprintf(w, "  merchant portal links: %s/register/prefilled/{id}   operator console: %s/console\n", cfg.publicURL, base)
	if generated {
		fmt.Fprintf(w, "  admin token (shown once): %s\n", adminToken)
	}
	if clockOffset != 0 {
		// The offset survives restarts in the database: say so, or expiry and token times puzzle.
		fmt.Fprintf(w, "  sandbox clock: %s ahead of real time, kept in the database (reset: vippsmgmt admin clock reset)\n", clockOffset)
	}
	if !demoKeys {
		return
	}
	heading := "Demo data present"
	if demoLoaded {
		heading = "Demo data loaded"
	}
	p, m, mk := fixtures.DemoPartnerKeys, fixtures.DemoManagementKeys, fixtures.DemoMerchantKeys
	fmt.Fprintf(w, `
%s. Credentials:
  partner keys:    client_id %s  client_secret %s  Ocp-Apim-Subscription-Key %s
  management keys: client_id %s  client_secret %s
  merchant keys:   client_id %s  client_secret %s  Ocp-Apim-Subscription-Key %s

Quick start, step 2 (get an access token):
curl -X POST '%s/accesstoken/get' \
-H "Content-Type: application/json" \
-H 'client_id: %s' \
-H 'client_secret: %s' \
-H 'Ocp-Apim-Subscription-Key: %s' \
--data ''
`, heading, p.ClientID, p.ClientSecret, p.SubscriptionKey, m.ClientID, m.ClientSecret,
		mk.ClientID, mk.ClientSecret, mk.SubscriptionKey, base, p.ClientID, p.ClientSecret, p.SubscriptionKey)
}
