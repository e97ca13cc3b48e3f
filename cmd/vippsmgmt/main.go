// Command vippsmgmt runs the Vipps MobilePay Management API twin (serve) and talks to one as a
// client (quickstart, admin, import).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode is the exit status after err, which it prints: 2 for bad usage or an unusable
// configuration, 1 for any other failure.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode("vippsmgmt", err, stderr) }

const usage = `usage: vippsmgmt <command> [flags]

commands:
  serve              run the server (see vippsmgmt serve -h)
  quickstart         run the Management API quick start against a server
  admin              operator commands against a server's /admin/v1 API
  report             what integrations do wrong, per caller; --fail-on fails a CI job on it
  healthcheck        exit 0 when a running server is ready (for container HEALTHCHECKs)
  version            print the version, commit, Go version and contract version (also --version)
  import             write a fixture file that recreates a partner's account from its API
  rotate-secret-key  re-encrypt the database's secrets under a new --secret-key-file (server stopped)

Every command takes -h for its flags.
`

// run is the whole program, with its environment passed in so tests can call it. A command
// that printed its help returns flag.ErrHelp, which exitCode answers as success.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return cli.Usagef("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "quickstart":
		return runQuickstart(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], getenv, stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], getenv, stdout, stderr)
	case "version", "-version", "--version":
		return runVersion(ctx, args[1:], stdout, stderr)
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr)
	case "rotate-secret-key":
		return runRotateSecretKey(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return cli.Usagef("unknown command %q", args[0])
}
