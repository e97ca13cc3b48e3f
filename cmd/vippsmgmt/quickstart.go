package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

// cliVersion is sent as Vipps-System-Version, so a server's request log tells CLI builds apart.
func cliVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v := bi.Main.Version
		if len(v) > 30 {
			v = v[:30]
		}
		return v
	}
	return "dev"
}

// secretFromEnv fills each empty field from its environment variable. Commands call it after
// parsing their flags, so that -h never prints a key or token from the environment as a default.
func secretFromEnv(getenv func(string) string, fields map[*string]string) {
	for field, name := range fields {
		if *field == "" {
			*field = getenv(name)
		}
	}
}

// envOr returns the environment value of name, or def.
func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// keyFlags is the key set a client command calls the Management API with: from its flags, or
// else from the environment.
type keyFlags struct {
	clientID, clientSecret, subscriptionKey string
	management                              bool
}

// register adds the key flags to fs, each with its help and the environment variable it falls
// back to, and --management.
func (k *keyFlags) register(fs *flag.FlagSet, idHelp, secretHelp, subscriptionHelp string) {
	fs.StringVar(&k.clientID, "client-id", "", idHelp+" (VIPPSMGMT_CLIENT_ID)")
	fs.StringVar(&k.clientSecret, "client-secret", "", secretHelp+" (VIPPSMGMT_CLIENT_SECRET)")
	fs.StringVar(&k.subscriptionKey, "subscription-key", "", subscriptionHelp+" (VIPPSMGMT_SUBSCRIPTION_KEY)")
	fs.BoolVar(&k.management, "management", false, "the keys are management keys: token from /miami/v1/token, no subscription key")
}

// fromEnv fills the keys the flags left empty from the environment.
func (k *keyFlags) fromEnv(getenv func(string) string) {
	secretFromEnv(getenv, map[*string]string{&k.clientID: "VIPPSMGMT_CLIENT_ID", &k.clientSecret: "VIPPSMGMT_CLIENT_SECRET", &k.subscriptionKey: "VIPPSMGMT_SUBSCRIPTION_KEY"})
}

// check says what command lacks: a client id and secret always, a subscription key unless the
// keys are management keys.
func (k *keyFlags) check(command string) error {
	switch {
	case k.clientID == "" || k.clientSecret == "":
		return cli.Usagef("%s needs --client-id and --client-secret (or VIPPSMGMT_CLIENT_ID and VIPPSMGMT_CLIENT_SECRET)", command)
	case !k.management && k.subscriptionKey == "":
		return cli.Usagef("%s needs --subscription-key (or VIPPSMGMT_SUBSCRIPTION_KEY), or --management for management keys", command)
	}
	return nil
}

// option is the client option of the keys, partner or management keys, and their kind.
func (k *keyFlags) option() (kind string, opt client.Option) {
	if k.management {
		return "management", client.WithManagementKeys(k.clientID, k.clientSecret)
	}
	return "partner", client.WithPartnerKeys(k.clientID, k.clientSecret, k.subscriptionKey)
}

// usageFlags is the flag set of a command whose help is usage followed by the flags' defaults;
// errors and help go to stderr.
func usageFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := cli.NewFlags(name, stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may come before, between or after positional arguments
// (the flag package alone stops at the first positional one) and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

type quickstartConfig struct {
	keyFlags
	baseURL, msn, productType string
	merchant, json            bool
	timeout                   time.Duration
}

func parseQuickstart(args []string, getenv func(string) string, stderr io.Writer) (quickstartConfig, error) {
	c := quickstartConfig{
		baseURL:     envOr(getenv, "VIPPSMGMT_BASE_URL", "http://localhost:8080"),
		productType: string(client.ProductTypeCheckout),
		timeout:     2 * time.Minute,
	}
	fs := usageFlags("quickstart", `usage: vippsmgmt quickstart [flags]

Runs steps 2 to 11 of the Management API quick start against a server: access token, sales
units, one sales unit, its merchant and the merchant's sales units, product orders, a prefill
that is read and deleted again, and price packages.

flags:
`, stderr)
	fs.StringVar(&c.baseURL, "base-url", c.baseURL, "server to talk to, e.g. https://api.vipps.no (VIPPSMGMT_BASE_URL)")
	c.register(fs, "client_id of the key set", "client_secret of the key set", "Ocp-Apim-Subscription-Key of partner or merchant keys")
	fs.BoolVar(&c.merchant, "merchant", false, "the keys are a sales unit's merchant keys (price packages are then not available)")
	fs.StringVar(&c.msn, "msn", "", "sales unit to use in step 4 and after (default: the first one listed)")
	fs.StringVar(&c.productType, "product-type", c.productType, "product to prefill in step 8")
	fs.BoolVar(&c.json, "json", false, "print one JSON document instead of a line per step")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "give up after this long")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return c, err
	}
	c.fromEnv(getenv)
	if err := c.check("quickstart"); err != nil {
		return c, err
	}
	switch {
	case c.management && c.merchant:
		return c, cli.Usagef("--management and --merchant exclude each other")
	case c.timeout <= 0:
		return c, cli.Usagef("--timeout must be positive")
	}
	return c, nil
}

// quickstartResult is the --json document: the answer of every step.
type quickstartResult struct {
	BaseURL            string                       `json:"baseUrl"`
	Keys               string                       `json:"keys"`
	Token              quickstartToken              `json:"token"`
	SalesUnits         []client.MsnInfo             `json:"salesUnits"`
	SalesUnit          *client.SalesUnit            `json:"salesUnit"`
	MerchantSalesUnits []client.MsnInfo             `json:"merchantSalesUnits"`
	Merchant           *client.Merchant             `json:"merchant"`
	ProductOrders      []client.ProductOrderDetails `json:"productOrders"`
	Prefill            *client.ProductOrderResponse `json:"prefill"`
	ProductOrder       *client.ProductOrderDetails  `json:"productOrder"`
	Deleted            *client.UUID                 `json:"deletedProductOrderId"`
	PricePackages      []client.PricePackage        `json:"pricePackages"`
	Refused            []quickstartRefusal          `json:"refused,omitempty"` // steps merchant keys may not take
}

type quickstartRefusal struct {
	Step    int    `json:"step"`
	Problem string `json:"problem"`
}

type quickstartToken struct {
	TokenType string    `json:"tokenType"`
	ExpiresIn int64     `json:"expiresIn"` // seconds
	ExpiresAt time.Time `json:"expiresAt"`
}

func runQuickstart(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseQuickstart(args, getenv, stderr)
	if err != nil {
		return err
	}
	keys, opt := cfg.option()
	if cfg.merchant {
		keys, opt = "merchant", client.WithMerchantKeys(cfg.clientID, cfg.clientSecret, cfg.subscriptionKey)
	}
	c, err := client.New(cfg.baseURL, opt, client.WithSystem("vippsmgmt-quickstart", cliVersion()))
	if err != nil {
		return cli.UsageError{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	res := quickstartResult{BaseURL: strings.TrimRight(cfg.baseURL, "/"), Keys: keys}
	// In text mode each step prints as soon as it is done; in JSON mode only the document does.
	say := func(step int, what, format string, args ...any) {
		if !cfg.json {
			fmt.Fprintf(stdout, "%2d. %-19s %s\n", step, what, fmt.Sprintf(format, args...))
		}
	}
	stepErr := func(step int, what string, err error) error {
		return fmt.Errorf("step %d (%s): %w", step, what, err)
	}
	if !cfg.json {
		fmt.Fprintf(stdout, "Management API quick start against %s with %s keys\n", res.BaseURL, keys)
	}

	tok, err := c.Token(ctx)
	if err != nil {
		return stepErr(2, "access token", err)
	}
	res.Token = quickstartToken{TokenType: tok.TokenType, ExpiresIn: int64(tok.ExpiresIn / time.Second), ExpiresAt: tok.ExpiresAt.UTC().Truncate(time.Second)}
	endpoint := "/accesstoken/get"
	if cfg.management {
		endpoint = "/miami/v1/token"
	}
	say(2, "access token", "%s token from %s, valid %s (until %s)", tok.TokenType, endpoint, shortDuration(tok.ExpiresIn), res.Token.ExpiresAt.Format(time.RFC3339))
	if !cfg.management && !cfg.merchant && tokenKeyKind(tok.AccessToken) == "merchant" {
		// The keys were given as partner keys, but the token says they are a sales unit's own:
		// go on as --merchant does rather than fail at the first partner-only step.
		cfg.merchant, keys, res.Keys = true, "merchant", "merchant"
		if !cfg.json {
			fmt.Fprintln(stdout, "    these are merchant keys (the token says so): continuing as with --merchant")
		}
	}

	if res.SalesUnits, err = c.GetAllSalesUnits(ctx); err != nil {
		return stepErr(3, "sales units", err)
	}
	say(3, "sales units", "%s", listUnits(res.SalesUnits))
	msn := cfg.msn
	if msn == "" {
		if len(res.SalesUnits) == 0 {
			return stepErr(4, "sales unit", errors.New("no sales unit to look at; give one with --msn"))
		}
		msn = res.SalesUnits[0].Msn
	}

	if res.SalesUnit, err = c.GetMsn(ctx, msn); err != nil {
		return stepErr(4, "sales unit", err)
	}
	su := res.SalesUnit
	bi := su.BusinessIdentifier
	say(4, "sales unit "+su.Msn, "%q, business identifier %s %s%s", su.Name, bi.Scheme, bi.Id, describeConfig(su.Configuration))

	if res.MerchantSalesUnits, err = c.GetSalesUnitsByBusinessIdentifier(ctx, bi); err != nil {
		return stepErr(5, "merchant's sales units", err)
	}
	say(5, "merchant's units", "%s", listUnits(res.MerchantSalesUnits))

	if res.Merchant, err = c.GetMerchantByBusinessIdentifier(ctx, bi); err != nil {
		return stepErr(6, "merchant", err)
	}
	say(6, "merchant", "%q, %s, %s", res.Merchant.Name, res.Merchant.Status, res.Merchant.CountryCode)

	// Product orders and price packages belong to partners; a server may refuse merchant keys
	// with 403, which the quick start reports and steps over.
	refused := func(step int, what string, err error) bool {
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != http.StatusForbidden {
			return false
		}
		if !cfg.merchant {
			// A server whose tokens do not name the key kind: say what to do.
			fmt.Fprintf(stderr, "step %d (%s) is for partners and the server refused it; if these are a sales unit's merchant keys, add --merchant\n", step, what)
			return false
		}
		res.Refused = append(res.Refused, quickstartRefusal{Step: step, Problem: p.Error()})
		say(step, what, "not available to merchant keys (%d %s)", p.Status, p.Title)
		return true
	}

	var prefill bool
	if res.ProductOrders, err = c.GetProductOrders(ctx); err == nil {
		say(7, "product orders", "%s", countOrders(res.ProductOrders))
	} else if !refused(7, "product orders", err) {
		return stepErr(7, "product orders", err)
	}

	if res.Prefill, err = c.OrderProduct(ctx, client.ProductOrderRequest{BusinessIdentifier: bi, ProductType: client.ProductType(cfg.productType)}); err == nil {
		prefill = true
		say(8, "prefill", "%s order %s, prefillUrl %s", cfg.productType, res.Prefill.PrefilledOrderId, res.Prefill.PrefillUrl)
	} else if !refused(8, "prefill", err) {
		return stepErr(8, "prefill", err)
	}

	if prefill {
		id := res.Prefill.PrefilledOrderId
		if res.ProductOrder, err = c.GetProductOrderDetails(ctx, id); err != nil {
			return stepErr(9, "product order", err)
		}
		po := res.ProductOrder
		say(9, "product order", "%s %s %s, status %s", id, deref(po.ProductOrderType), deref(po.ProductType), po.Status)

		if err := c.DeleteProductOrder(ctx, id); err != nil {
			return stepErr(10, "delete", err)
		}
		res.Deleted = &id
		say(10, "delete", "order %s deleted", id)
	} else {
		say(9, "product order", "skipped: no prefill")
		say(10, "delete", "skipped: no prefill")
	}

	if res.PricePackages, err = c.GetPartnerPricePackages(ctx); err == nil {
		say(11, "price packages", "%s", listPackages(res.PricePackages))
	} else if !refused(11, "price packages", err) {
		return stepErr(11, "price packages", err)
	}

	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintln(stdout, "Quick start completed.")
	return nil
}

// shortDuration rounds to the minute and drops zero units: 24h, 15m, 1h30m.
func shortDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func deref[T ~string](p *T) string {
	if p == nil {
		return "-"
	}
	return string(*p)
}

// listUnits shows a few sales units and counts the rest.
func listUnits(units []client.MsnInfo) string {
	const show = 4
	parts := make([]string, 0, show+1)
	for _, u := range units[:min(show, len(units))] {
		parts = append(parts, fmt.Sprintf("%s %q", u.Msn, u.Name))
	}
	if len(units) > show {
		parts = append(parts, fmt.Sprintf("and %d more", len(units)-show))
	}
	return found(len(units), parts)
}

// found says how many items were found, then shows them.
func found(n int, parts []string) string {
	s := fmt.Sprintf("%d found", n)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

func describeConfig(cfg client.SalesUnitConfiguration) string {
	var parts []string
	flag := func(p *bool, yes, no string) {
		switch {
		case p == nil:
		case *p:
			parts = append(parts, yes)
		default:
			parts = append(parts, no)
		}
	}
	flag(cfg.PaymentAllowed, "payments allowed", "no payments")
	if cfg.CaptureType != nil {
		parts = append(parts, string(*cfg.CaptureType))
	}
	flag(cfg.RecurringAllowed, "recurring", "no recurring")
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// countOrders summarises product orders by status, in lifecycle order.
func countOrders(orders []client.ProductOrderDetails) string {
	n := map[client.ProductOrderStatus]int{}
	for _, o := range orders {
		n[o.Status]++
	}
	var parts []string
	for _, s := range []client.ProductOrderStatus{client.StatusReceived, client.StatusMerchantViewed, client.StatusOrderSubmitted,
		client.StatusCompleted, client.StatusRejected, client.StatusExpired} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
			delete(n, s)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
	}
	s := fmt.Sprintf("%d visible", len(orders))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func listPackages(pkgs []client.PricePackage) string {
	parts := make([]string, len(pkgs))
	for i, p := range pkgs {
		parts[i] = fmt.Sprintf("%q (%s)", p.Name, p.Description)
	}
	return found(len(pkgs), parts)
}

// tokenKeyKind reads the key_kind claim of a vippsmgmt access token: partner, merchant or
// management. It is a hint for what the CLI prints, so the signature is not checked; tokens of
// other servers have no such claim and give "".
func tokenKeyKind(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		KeyKind string `json:"key_kind"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.KeyKind
}
