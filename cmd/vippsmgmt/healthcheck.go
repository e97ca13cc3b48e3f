package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

// runHealthcheck asks a running server whether it is ready: `vippsmgmt healthcheck [--url U]`.
// It exists for container HEALTHCHECKs, as the image has no curl: exit status 0 when the server
// answers 2xx, 1 otherwise.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := usageFlags("healthcheck", `usage: vippsmgmt healthcheck [--url URL] [--timeout D] [--quiet]

Exits 0 when a running server answers its readiness check, 1 otherwise (the container image's
HEALTHCHECK; in CI, a loop on it waits until the server is ready).

flags:
`, stderr)
	target := fs.String("url", "", "URL to check; default /readyz on the address of VIPPSMGMT_ADDR (else localhost:8080)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	quiet := fs.Bool("quiet", false, "print nothing when the server is ready")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return cli.Usagef("--timeout %s: must be positive", *timeout)
	}
	if *target == "" {
		*target = "http://" + dialAddr(getenv("VIPPSMGMT_ADDR")) + "/readyz"
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cli.Usagef("--url %q: must be an http or https URL", *target)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return cli.Usagef("--url %q: %v", *target, err)
	}
	// A health check must not follow a redirect to somewhere else and call that healthy.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: %s", u.Redacted(), resp.Status)
	}
	if !*quiet {
		fmt.Fprintf(stdout, "%s: %s\n", u.Redacted(), resp.Status)
	}
	return nil
}

// dialAddr turns a listen address (VIPPSMGMT_ADDR) into one to connect to on this machine: a
// wildcard host becomes loopback, an empty one the default localhost:8080.
func dialAddr(listen string) string {
	if listen == "" {
		return "localhost:8080"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch ip := net.ParseIP(host); {
	case host == "":
		host = "localhost"
	case ip != nil && ip.IsUnspecified() && ip.To4() == nil:
		host = "::1"
	case ip != nil && ip.IsUnspecified():
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
