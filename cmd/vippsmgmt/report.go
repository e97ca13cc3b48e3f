package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

const reportUsage = `usage: vippsmgmt report [--base-url URL] [--admin-token T] [--client-id C] [--fail-on info|warning|error] [--json]

Prints the integration report of a vippsmgmt server: per caller (key set), what its integration
does that the real API answers without comment but that hurts in production, worst first. With
--fail-on it exits 1 when a finding at or above that severity exists, so a CI job can run its
integration tests against vippsmgmt and then fail on a bad habit; with --client-id it also exits 1
when that caller made no request in the window (the tests talked to another server).

flags:
`

type reportConfig struct {
	operatorFlags
	clientID, failOn string
	json             bool
}

// severityRank orders the report's severities; 0 is unknown.
func severityRank(s client.ReportSeverity) int {
	switch s {
	case client.ReportSeverityInfo:
		return 1
	case client.ReportSeverityWarning:
		return 2
	case client.ReportSeverityError:
		return 3
	}
	return 0
}

func runReport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg reportConfig
	fs := usageFlags("report", reportUsage, stderr)
	cfg.register(fs, getenv)
	fs.StringVar(&cfg.clientID, "client-id", "", "only this caller (key set); exit 1 when it made no request in the window")
	fs.StringVar(&cfg.failOn, "fail-on", "", "exit 1 when a finding of this severity or worse exists: info, warning or error")
	fs.BoolVar(&cfg.json, "json", false, "print the API's answer as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return cli.FlagError(err)
	}
	if len(pos) > 0 {
		return cli.Usagef("report takes no arguments, got %q", pos[0])
	}
	failRank := 0
	if cfg.failOn != "" {
		if failRank = severityRank(client.ReportSeverity(cfg.failOn)); failRank == 0 {
			return cli.Usagef("--fail-on %q: use info, warning or error", cfg.failOn)
		}
	}
	adm, err := cfg.admin(getenv, "report")
	if err != nil {
		return err
	}
	rep, err := adm.Report(ctx, cfg.clientID)
	if err != nil {
		return err
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if cfg.clientID != "" && len(rep.Callers) == 0 {
		return fmt.Errorf("no requests from client id %s in this report window; check the client id and that the tests ran against %s", cfg.clientID, cfg.baseURL)
	}
	if failRank > 0 {
		n := 0
		for _, cl := range rep.Callers {
			for _, f := range cl.Findings {
				if severityRank(f.Severity) >= failRank {
					n++
				}
			}
		}
		if n > 0 {
			return fmt.Errorf("%s at or above %s", plural(n, "finding"), cfg.failOn)
		}
	}
	return nil
}

// printReport writes the report for people: one block per caller, findings worst first, each
// with its explanation.
func printReport(w io.Writer, rep *client.AdminReport) {
	since := "the first request"
	if rep.WindowStart.Unix() > 0 {
		since = rep.WindowStart.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "Integration report since %s\n", since)
	if len(rep.Callers) == 0 {
		fmt.Fprintln(w, "No requests from a known caller.")
		return
	}
	for _, cl := range rep.Callers {
		who := cl.Kind + " keys"
		if cl.PartnerId != "" {
			who += " of " + cl.PartnerId
		}
		fmt.Fprintf(w, "\n%s (%s): %s, ", cl.ClientId, strings.TrimSpace(who), plural(int(cl.Requests), "request"))
		if len(cl.Findings) == 0 {
			fmt.Fprintln(w, "no findings")
			continue
		}
		fmt.Fprintln(w, plural(len(cl.Findings), "finding"))
		for _, f := range cl.Findings {
			fmt.Fprintf(w, "  %-7s  %s", strings.ToUpper(string(f.Severity)), f.Code)
			if f.Route != nil {
				fmt.Fprintf(w, " (%s)", *f.Route)
			}
			fmt.Fprintf(w, ": %d, %s to %s, e.g. request %s\n", f.Count,
				f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339), f.ExampleRequestId)
			fmt.Fprintf(w, "           %s\n", f.Explanation)
		}
	}
}
