package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"iter"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

const adminUsage = `usage: vippsmgmt admin [--base-url URL] [--admin-token T] [--json] <command> [flags]

Operator commands against a vippsmgmt server's /admin/v1 API.

commands:
  orders [--status S] [--partner P]              list product orders, newest first
  order ORDER                                    show one product order
  view ORDER                                     record that the merchant opened the prefill link
  submit ORDER                                   submit the order on the merchant's behalf
  approve ORDER [--msn M] [--merchant-name N]    approve the order, creating its sales unit
  reject ORDER --reason R                        reject the order
  create-keys --partner P --kind partner|management
  create-keys --msn M                            issue a key set (secrets are shown once)
  revoke-keys CLIENT_ID                          revoke a key set
  clock [advance DURATION | reset]               show, move (e.g. advance 337h) or reset the sandbox clock
  fault add (--operation OP | [--method M] --path P) [--client-id C] [--partner P]
            (--status N [--retry-after S] | --delay D | --drop) [--count N | --probability P | --until T]
  fault list | fault delete RULE_ID              make sandbox requests fail on purpose
  autopilot set [--partner P] [--view D] [--submit D] [--decide D] [--decision approve|reject] [--reject-reason R]
  autopilot list | autopilot delete [--partner P]
                                                 move prefills without a person (sandbox)

global flags (before the command; "vippsmgmt admin COMMAND -h" shows its own):
`

type adminConfig struct {
	operatorFlags
	json bool
}

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg adminConfig
	fs := usageFlags("admin", adminUsage, stderr)
	cfg.register(fs, getenv)
	fs.BoolVar(&cfg.json, "json", false, "print the API's answer as JSON")
	if err := fs.Parse(args); err != nil {
		return cli.FlagError(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return cli.Usagef("admin: no command given")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd := &adminCmd{cfg: cfg, stdout: stdout, stderr: stderr}
	run, ok := map[string]func(context.Context, []string) error{
		"orders": cmd.orders, "order": cmd.order, "view": cmd.view, "submit": cmd.submit,
		"approve": cmd.approve, "reject": cmd.reject, "create-keys": cmd.createKeys,
		"revoke-keys": cmd.revokeKeys, "clock": cmd.clock, "fault": cmd.fault, "autopilot": cmd.autopilot,
	}[name]
	if !ok {
		fs.Usage()
		return cli.Usagef("admin: unknown command %q", name)
	}
	// Help needs no server and no credentials: the subcommand prints its usage while parsing its
	// flags, before it would call the server.
	if !askedForHelp(rest) {
		adm, err := cfg.admin(getenv, "admin")
		if err != nil {
			return err
		}
		cmd.adm = adm
	}
	return run(ctx, rest)
}

// askedForHelp reports whether args ask for help before any "--".
func askedForHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

type adminCmd struct {
	adm            *client.Admin
	cfg            adminConfig
	stdout, stderr io.Writer
}

// flags returns the flag set of a subcommand; usage is what follows its name, "" for nothing.
func (a *adminCmd) flags(name, usage string) *flag.FlagSet {
	return usageFlags("admin "+name, strings.TrimSuffix("usage: vippsmgmt admin "+name+" "+usage, " ")+"\n", a.stderr)
}

// parse parses a subcommand's flags and checks it got exactly n positional arguments.
func (a *adminCmd) parse(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, cli.FlagError(err)
	}
	if len(pos) != n {
		fs.Usage()
		return nil, cli.Usagef("%s: want %d argument(s), got %d", fs.Name(), n, len(pos))
	}
	return pos, nil
}

// parseOrder parses args into fs; they must name one product order, whose id it returns.
func (a *adminCmd) parseOrder(fs *flag.FlagSet, args []string) (client.UUID, error) {
	pos, err := a.parse(fs, args, 1)
	if err != nil {
		return client.UUID{}, err
	}
	id, err := client.ParseUUID(pos[0])
	if err != nil {
		return id, cli.Usagef("%q is not a product order id (a UUID)", pos[0])
	}
	return id, nil
}

// print writes v as JSON with --json, or the text line otherwise.
func (a *adminCmd) print(v any, format string, args ...any) error {
	if a.cfg.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintf(a.stdout, format+"\n", args...)
	return err
}

func (a *adminCmd) orders(ctx context.Context, args []string) error {
	fs := a.flags("orders", "[--status S] [--partner P]")
	var f client.ProductOrderFilter
	status := fs.String("status", "", "only orders in this status (RECEIVED, MERCHANT_VIEWED, ORDER_SUBMITTED, EXPIRED, COMPLETED, REJECTED)")
	fs.StringVar(&f.PartnerID, "partner", "", "only orders naming this partner")
	if _, err := a.parse(fs, args, 0); err != nil {
		return err
	}
	f.Status = client.ProductOrderStatus(strings.ToUpper(*status))
	// The orders arrive a page at a time and are written as they come, so the command holds one
	// page however many orders there are.
	orders := client.All(ctx, func(ctx context.Context, p client.PageRequest) (*client.Page[client.AdminProductOrder], error) {
		return a.adm.ListProductOrdersPage(ctx, f, p)
	})
	if a.cfg.json {
		return printStream(a.stdout, orders)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tPRODUCT\tSTATUS\tBUSINESS ID\tPARTNER\tCREATED")
	n := 0
	for o, err := range orders {
		if err != nil {
			return err
		}
		partner := "-"
		if o.PartnerId != nil {
			partner = *o.PartnerId
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t%s\t%s\n", o.ProductOrderId, o.ProductOrderType, o.ProductType, o.Status,
			o.BusinessIdentifier.Scheme, o.BusinessIdentifier.Id, partner, o.CreatedAt.UTC().Format(time.RFC3339))
		if n++; n%pageRows == 0 {
			// The columns are aligned within each block of rows, whose width tabwriter must hold.
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d product order(s)\n", n)
	return nil
}

// pageRows is how many rows of a long listing are aligned, and held, at a time.
const pageRows = 100

// printStream writes the items of seq as one indented JSON array, one item at a time.
func printStream[T any](w io.Writer, seq iter.Seq2[T, error]) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	first := true
	for item, err := range seq {
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(item, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if first {
			sep, first = "\n  ", false
		}
		if _, err := fmt.Fprintf(w, "%s%s", sep, b); err != nil {
			return err
		}
	}
	end := "\n]\n"
	if first {
		end = "]\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

func describeOrder(o *client.AdminProductOrder) string {
	s := fmt.Sprintf("%s: %s %s for %s %s, status %s", o.ProductOrderId, o.ProductOrderType, o.ProductType,
		o.BusinessIdentifier.Scheme, o.BusinessIdentifier.Id, o.Status)
	if o.SalesUnit != nil {
		s += fmt.Sprintf(", sales unit %s %q", o.SalesUnit.Msn, o.SalesUnit.Name)
	}
	if o.RejectionReason != nil {
		s += fmt.Sprintf(", reason %q", *o.RejectionReason)
	}
	return s
}

func (a *adminCmd) order(ctx context.Context, args []string) error {
	return a.step(ctx, "order", args, a.adm.GetProductOrder)
}

func (a *adminCmd) view(ctx context.Context, args []string) error {
	return a.step(ctx, "view", args, a.adm.ViewProductOrder)
}

func (a *adminCmd) submit(ctx context.Context, args []string) error {
	return a.step(ctx, "submit", args, func(ctx context.Context, id client.UUID) (*client.AdminProductOrder, error) {
		return a.adm.SubmitProductOrder(ctx, id, nil)
	})
}

// step runs a command that takes only the order id and answers the order: showing it or a
// lifecycle step.
func (a *adminCmd) step(ctx context.Context, name string, args []string, do func(context.Context, client.UUID) (*client.AdminProductOrder, error)) error {
	return onOrder(ctx, a, a.flags(name, "ORDER"), args, do, func(_ client.UUID, o *client.AdminProductOrder) string {
		return describeOrder(o)
	})
}

// onOrder runs a command on one product order: it parses args into fs, calls do with the order's
// id and prints what do answers, as JSON with --json or else as describe's line.
func onOrder[T any](ctx context.Context, a *adminCmd, fs *flag.FlagSet, args []string, do func(context.Context, client.UUID) (T, error), describe func(client.UUID, T) string) error {
	id, err := a.parseOrder(fs, args)
	if err != nil {
		return err
	}
	v, err := do(ctx, id)
	if err != nil {
		return err
	}
	return a.print(v, "%s", describe(id, v))
}

func (a *adminCmd) approve(ctx context.Context, args []string) error {
	fs := a.flags("approve", "ORDER [--msn M] [--merchant-name N]")
	msn := fs.String("msn", "", "MSN of the new sales unit (default: the next free one)")
	name := fs.String("merchant-name", "", "name of the merchant if it does not exist yet (default: the sales unit's name)")
	approve := func(ctx context.Context, id client.UUID) (*client.AdminSalesUnit, error) {
		var ap client.AdminApproval
		if *msn != "" {
			ap.Msn = msn
		}
		if *name != "" {
			ap.MerchantName = name
		}
		return a.adm.ApproveProductOrder(ctx, id, ap)
	}
	return onOrder(ctx, a, fs, args, approve, func(id client.UUID, su *client.AdminSalesUnit) string {
		partner := "no partner"
		if su.PartnerId != nil {
			partner = "partner " + *su.PartnerId
		}
		return fmt.Sprintf("approved %s: sales unit %s %q of %s %s, connected to %s", id, su.Msn, su.Name,
			su.BusinessIdentifier.Scheme, su.BusinessIdentifier.Id, partner)
	})
}

func (a *adminCmd) reject(ctx context.Context, args []string) error {
	fs := a.flags("reject", "ORDER --reason R")
	reason := fs.String("reason", "", "why, at most 500 characters; shown to operators and the merchant, never to the partner")
	reject := func(ctx context.Context, id client.UUID) (*client.AdminProductOrder, error) {
		if *reason == "" {
			fs.Usage()
			return nil, cli.Usagef("admin reject: --reason is required")
		}
		return a.adm.RejectProductOrder(ctx, id, *reason)
	}
	return onOrder(ctx, a, fs, args, reject, func(_ client.UUID, o *client.AdminProductOrder) string {
		return "rejected " + describeOrder(o)
	})
}

func (a *adminCmd) createKeys(ctx context.Context, args []string) error {
	fs := a.flags("create-keys", "--partner P --kind partner|management | --msn M")
	partner := fs.String("partner", "", "partner to issue partner or management keys for")
	kind := fs.String("kind", "partner", "partner (standard flow) or management (specialized flow)")
	msn := fs.String("msn", "", "sales unit to issue merchant keys for")
	if _, err := a.parse(fs, args, 0); err != nil {
		return err
	}
	var k *client.AdminKeyCreated
	var err error
	switch {
	case (*partner == "") == (*msn == ""):
		fs.Usage()
		return cli.Usagef("admin create-keys: give either --partner or --msn")
	case *msn != "":
		k, err = a.adm.CreateMerchantKeys(ctx, *msn)
	case *kind != string(client.KeyKindPartner) && *kind != string(client.KeyKindManagement):
		return cli.Usagef("admin create-keys: --kind must be partner or management, not %q", *kind)
	default:
		k, err = a.adm.CreatePartnerKeys(ctx, *partner, client.KeyKind(*kind))
	}
	if err != nil {
		return err
	}
	if a.cfg.json {
		return a.print(k, "")
	}
	owner := "sales unit " + deref(k.Msn)
	if k.PartnerId != nil {
		owner = "partner " + *k.PartnerId
	}
	fmt.Fprintf(a.stdout, "created %s keys for %s (the secrets are shown only now):\n", k.Kind, owner)
	fmt.Fprintf(a.stdout, "  client_id                  %s\n", k.ClientId)
	fmt.Fprintf(a.stdout, "  client_secret              %s\n", k.ClientSecret)
	if k.SubscriptionKey != nil {
		fmt.Fprintf(a.stdout, "  Ocp-Apim-Subscription-Key  %s\n", *k.SubscriptionKey)
	}
	return nil
}

func (a *adminCmd) revokeKeys(ctx context.Context, args []string) error {
	pos, err := a.parse(a.flags("revoke-keys", "CLIENT_ID"), args, 1)
	if err != nil {
		return err
	}
	k, err := a.adm.RevokeKey(ctx, pos[0])
	if err != nil {
		return err
	}
	return a.print(k, "revoked %s keys %s", k.Kind, k.ClientId)
}

func (a *adminCmd) clock(ctx context.Context, args []string) error {
	fs := a.flags("clock", "[advance DURATION | reset]")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return cli.FlagError(err)
	}
	var clk *client.AdminClock
	switch {
	case len(pos) == 0:
		clk, err = a.adm.GetClock(ctx)
	case len(pos) == 2 && pos[0] == "advance":
		d, perr := time.ParseDuration(pos[1])
		if perr != nil || d <= 0 {
			return cli.Usagef("admin clock advance: %q is not a positive duration such as 337h", pos[1])
		}
		clk, err = a.adm.AdvanceClock(ctx, d)
	case len(pos) == 1 && pos[0] == "reset":
		clk, err = a.adm.ResetClock(ctx)
	default:
		fs.Usage()
		return cli.Usagef("admin clock: want no arguments, advance DURATION or reset")
	}
	if err != nil {
		return err
	}
	return a.print(clk, "server clock %s (ahead of real time by %s)", clk.Now.UTC().Format(time.RFC3339), clk.Offset)
}
