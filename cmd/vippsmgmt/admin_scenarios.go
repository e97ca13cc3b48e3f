package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

// fault runs `admin fault add|list|delete`.
func (a *adminCmd) fault(ctx context.Context, args []string) error {
	return a.group(ctx, "fault", args, []subcommand{
		{"add", a.faultAdd},
		{"list", a.withoutArgs("fault list", a.faultList)},
		{"delete", a.faultDelete},
	})
}

// subcommand is one command of a group such as `admin fault`.
type subcommand struct {
	name string
	run  func(ctx context.Context, args []string) error
}

// group runs the subcommand of `admin name` that args name; -h prints the help of each.
func (a *adminCmd) group(ctx context.Context, name string, args []string, subs []subcommand) error {
	names := make([]string, len(subs))
	for i, sub := range subs {
		names[i] = sub.name
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		return cli.Usagef("admin %s: want %s", name, want)
	}
	for _, sub := range subs {
		if sub.name == args[0] {
			return sub.run(ctx, args[1:])
		}
	}
	if isHelp(args[0]) {
		// Each subcommand prints its help and stops while parsing its flags.
		for _, sub := range subs {
			_ = sub.run(ctx, []string{"-h"})
		}
		return nil
	}
	return cli.Usagef("admin %s: unknown subcommand %q (want %s)", name, args[0], want)
}

// withoutArgs is a subcommand that takes no arguments and no flags of its own.
func (a *adminCmd) withoutArgs(name string, run func(context.Context) error) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if _, err := a.parse(a.flags(name, ""), args, 0); err != nil {
			return err
		}
		return run(ctx)
	}
}

func (a *adminCmd) faultDelete(ctx context.Context, args []string) error {
	pos, err := a.parse(a.flags("fault delete", "RULE_ID"), args, 1)
	if err != nil {
		return err
	}
	if err := a.adm.DeleteFault(ctx, pos[0]); err != nil {
		return err
	}
	return a.print(map[string]string{"deleted": pos[0]}, "deleted fault rule %s", pos[0])
}

func (a *adminCmd) faultAdd(ctx context.Context, args []string) error {
	fs := a.flags("fault add", "(--operation OP | [--method M] --path P) [--client-id C] [--partner P]\n"+
		"       (--status N [--retry-after S] | --delay D | --drop) [--count N | --probability P | --until TIME]")
	var r client.FaultRule
	fs.StringVar(&r.ID, "id", "", "name of the rule (default: generated)")
	fs.StringVar(&r.OperationID, "operation", "", `operationId to fail, such as orderProduct or fetchAuthorizationTokenUsingPost; "*" for all`)
	fs.StringVar(&r.Method, "method", "", "HTTP method, with --path (default: every method of the path)")
	fs.StringVar(&r.Path, "path", "", "path template of the contract, such as /management/v1/sales-units/{msn}")
	fs.StringVar(&r.ClientID, "client-id", "", "only requests of this client id")
	fs.StringVar(&r.PartnerID, "partner", "", "only requests of this partner's keys")
	fs.IntVar(&r.Status, "status", 0, "answer with this status: 401, 429, 500, 502, 503 or 504")
	retryAfter := fs.Int("retry-after", 0, "Retry-After seconds of a 429 or 503")
	fs.DurationVar(&r.Delay, "delay", 0, "wait this long first (at most 30s)")
	fs.BoolVar(&r.Drop, "drop", false, "close the connection without an answer")
	fs.IntVar(&r.Count, "count", 0, "fire on the next N matching requests")
	prob := fs.String("probability", "", "fire on each matching request with this probability (0 to 1)")
	until := fs.String("until", "", "fire until this RFC 3339 time of the server's clock")
	if _, err := a.parse(fs, args, 0); err != nil {
		return err
	}
	// Checked here, as the server's range, so a count of seconds too large for a Duration is not
	// sent wrapped round into one the server takes.
	if *retryAfter < 0 || *retryAfter > vippsmgmt.MaxFaultRetryAfter {
		return cli.Usagef("admin fault add: --retry-after %d: must be 0 to %d", *retryAfter, vippsmgmt.MaxFaultRetryAfter)
	}
	r.RetryAfter = time.Duration(*retryAfter) * time.Second
	if *prob != "" {
		p, err := strconv.ParseFloat(*prob, 64)
		if err != nil || math.IsNaN(p) {
			return cli.Usagef("admin fault add: --probability %q is not a number", *prob)
		}
		r.Probability = &p
	}
	if *until != "" {
		t, err := time.Parse(time.RFC3339, *until)
		if err != nil {
			return cli.Usagef("admin fault add: --until %q is not an RFC 3339 time such as 2026-12-03T10:00:00Z", *until)
		}
		r.Until = t
	}
	rule, err := a.adm.AddFault(ctx, r)
	if err != nil {
		return err
	}
	return a.print(rule, "added fault rule %s: %s", rule.Id, describeFault(*rule))
}

func (a *adminCmd) faultList(ctx context.Context) error {
	return printList(ctx, a, a.adm.ListFaults, a.printFaults)
}

// printList runs a list command: it prints the items fetch answers as JSON with --json, or else
// as text prints them.
func printList[T any](ctx context.Context, a *adminCmd, fetch func(context.Context) ([]T, error), text func([]T) error) error {
	items, err := fetch(ctx)
	if err != nil {
		return err
	}
	if a.cfg.json {
		return a.print(items, "")
	}
	return text(items)
}

func (a *adminCmd) printFaults(rules []client.AdminFaultRule) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROUTE\tCALLER\tEFFECT\tBUDGET\tFIRED\tACTIVE")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%v\n", r.Id, faultRoute(r.Match), faultCaller(r.Match), faultEffect(r.Effect), faultBudget(r), r.Fired, r.Active)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d fault rule(s)\n", len(rules))
	return nil
}

func describeFault(r client.AdminFaultRule) string {
	s := faultRoute(r.Match)
	if c := faultCaller(r.Match); c != "-" {
		s += " of " + c
	}
	return s + ": " + faultEffect(r.Effect) + ", " + faultBudget(r)
}

func faultRoute(m client.AdminFaultMatch) string {
	switch {
	case m.OperationId != nil:
		return *m.OperationId
	case m.Method != nil:
		return string(*m.Method) + " " + optional(m.Path)
	}
	return "* " + optional(m.Path)
}

func faultCaller(m client.AdminFaultMatch) string {
	var parts []string
	if m.ClientId != nil {
		parts = append(parts, "client "+*m.ClientId)
	}
	if m.PartnerId != nil {
		parts = append(parts, "partner "+*m.PartnerId)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func faultEffect(e client.AdminFaultEffect) string {
	var parts []string
	if e.Delay != nil {
		parts = append(parts, "delay "+*e.Delay)
	}
	if e.Status != nil {
		s := strconv.Itoa(int(*e.Status))
		if e.RetryAfterSeconds != nil {
			s += fmt.Sprintf(" (Retry-After %d)", *e.RetryAfterSeconds)
		}
		parts = append(parts, s)
	}
	if e.Drop != nil && *e.Drop {
		parts = append(parts, "drop")
	}
	return strings.Join(parts, " then ")
}

func faultBudget(r client.AdminFaultRule) string {
	switch {
	case r.Count != nil:
		left := 0
		if r.Remaining != nil {
			left = *r.Remaining
		}
		return fmt.Sprintf("%d of %d left", left, *r.Count)
	case r.Probability != nil:
		return "probability " + strconv.FormatFloat(*r.Probability, 'g', -1, 64)
	case r.Until != nil:
		return "until " + r.Until.UTC().Format(time.RFC3339)
	}
	return "until deleted"
}

// autopilot runs `admin autopilot set|list|delete`.
func (a *adminCmd) autopilot(ctx context.Context, args []string) error {
	return a.group(ctx, "autopilot", args, []subcommand{
		{"set", a.autopilotSet},
		{"list", a.withoutArgs("autopilot list", a.autopilotList)},
		{"delete", a.autopilotDelete},
	})
}

func (a *adminCmd) autopilotDelete(ctx context.Context, args []string) error {
	fs := a.flags("autopilot delete", "[--partner P]")
	partner := fs.String("partner", "", "the partner whose policy goes (default: the policy for every partner)")
	if _, err := a.parse(fs, args, 0); err != nil {
		return err
	}
	if err := a.adm.DeleteAutopilot(ctx, *partner); err != nil {
		return err
	}
	return a.print(map[string]string{"deleted": policyScope(*partner)}, "deleted the autopilot policy of %s", policyScope(*partner))
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

func policyScope(partner string) string {
	if partner == "" {
		return "every partner"
	}
	return "partner " + partner
}

// durationFlag is an optional duration flag: unset leaves the step to a person.
type durationFlag struct{ d *time.Duration }

func (f *durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	f.d = &d
	return nil
}

func (a *adminCmd) autopilotSet(ctx context.Context, args []string) error {
	fs := a.flags("autopilot set", "[--partner P] [--view D] [--submit D] [--decide D] [--decision approve|reject] [--reject-reason R]")
	var p client.Autopilot
	var view, submit, decide durationFlag
	fs.StringVar(&p.PartnerID, "partner", "", "the partner whose prefills this drives (default: every partner without a policy)")
	fs.Var(&view, "view", "the merchant opens the link this long after the prefill")
	fs.Var(&submit, "submit", "the merchant submits this long after opening it")
	fs.Var(&decide, "decide", "the operator decides this long after the submit")
	fs.StringVar(&p.Decision, "decision", "approve", "approve or reject (orders named [reject] are rejected either way)")
	fs.StringVar(&p.RejectReason, "reject-reason", "", "reason of a rejection, at most 500 characters; required with --decision reject")
	if _, err := a.parse(fs, args, 0); err != nil {
		return err
	}
	p.View, p.Submit, p.Decide = view.d, submit.d, decide.d
	out, err := a.adm.SetAutopilot(ctx, p)
	if err != nil {
		return err
	}
	return a.print(out, "autopilot for %s: %s", policyScope(optional(out.PartnerId)), describePolicy(*out))
}

func describePolicy(p client.AdminAutopilotPolicy) string {
	step := func(name string, d *string) string {
		if d == nil {
			return name + " by a person"
		}
		return name + " after " + *d
	}
	s := step("view", p.View) + ", " + step("submit", p.Submit) + ", " + step(string(p.Decision), p.Decide)
	if p.RejectReason != nil {
		s += fmt.Sprintf(" (reason %q)", *p.RejectReason)
	}
	return s
}

func (a *adminCmd) autopilotList(ctx context.Context) error {
	return printList(ctx, a, a.adm.ListAutopilot, a.printPolicies)
}

func (a *adminCmd) printPolicies(ps []client.AdminAutopilotPolicy) error {
	for _, p := range ps {
		fmt.Fprintf(a.stdout, "%s: %s\n", policyScope(optional(p.PartnerId)), describePolicy(p))
	}
	fmt.Fprintf(a.stdout, "%d autopilot polic%s\n", len(ps), map[bool]string{true: "y", false: "ies"}[len(ps) == 1])
	return nil
}

// optional is the value of an optional string, "" when absent.
func optional(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
