package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

type importConfig struct {
	keyFlags
	baseURL, out, partnerID string
	anonymize               bool
	concurrency             int
}

const maxImportConcurrency = 32

func parseImport(args []string, getenv func(string) string, stderr io.Writer) (importConfig, error) {
	c := importConfig{baseURL: envOr(getenv, "VIPPSMGMT_BASE_URL", client.ProductionURL), concurrency: 4, partnerID: "imported-partner"}
	fs := usageFlags("import", `usage: vippsmgmt import --out FILE [flags]

Reads a partner's account through the Management API (price packages, sales units with their
details, their merchants, product orders with expired ones) and writes a fixture file that
"vippsmgmt serve --demo=false --fixtures FILE" loads: a local twin of the account with new local
keys, printed at the end. It only reads; the keys it is given are never written anywhere.

flags:
`, stderr)
	fs.StringVar(&c.baseURL, "base-url", c.baseURL, "API to read from (VIPPSMGMT_BASE_URL)")
	c.register(fs, "client_id of partner or management keys", "client_secret of the keys", "Ocp-Apim-Subscription-Key of partner keys")
	fs.StringVar(&c.out, "out", "", "fixture file to write (replaced only once the import is complete)")
	fs.BoolVar(&c.anonymize, "anonymize", false, "replace names, business identifiers and addresses with consistent fake ones")
	fs.IntVar(&c.concurrency, "concurrency", c.concurrency, fmt.Sprintf("requests in flight at once (1 to %d)", maxImportConcurrency))
	fs.StringVar(&c.partnerID, "partner-id", c.partnerID, "partnerId of the account in the written file")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return c, err
	}
	c.fromEnv(getenv)
	if c.out == "" {
		return c, cli.Usagef("import needs --out, the fixture file to write")
	}
	if err := c.check("import"); err != nil {
		return c, err
	}
	if c.concurrency < 1 || c.concurrency > maxImportConcurrency {
		return c, cli.Usagef("--concurrency must be 1 to %d", maxImportConcurrency)
	}
	if err := (&vippsmgmt.Partner{ID: c.partnerID, Name: "x"}).Validate(); err != nil {
		return c, cli.Usagef("--partner-id %q: must be 1 to 64 letters, digits, dots, dashes or underscores", c.partnerID)
	}
	return c, nil
}

// importRetryPolicy is more patient than the SDK's default: a large account is thousands of
// requests, and a throttling or briefly failing source should slow the import, not end it.
var importRetryPolicy = client.RetryPolicy{MaxAttempts: 8, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second, MaxElapsed: 5 * time.Minute}

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseImport(args, getenv, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	// The file is created first, so an unwritable --out fails before the first request.
	out, err := createTempBeside(cfg.out)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer out.discard()
	base := strings.TrimRight(cfg.baseURL, "/")
	keys, keyOpt := cfg.option()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.concurrency + 2 // keep-alive for every worker and the token fetch
	counter := &countingTransport{next: transport}
	hc := &http.Client{Transport: counter, Timeout: time.Minute}
	system := client.WithSystem("vippsmgmt-import", cliVersion())

	// The first contact uses the SDK's short retry policy, so wrong keys, a wrong host or a host
	// that is not the API are reported within seconds.
	probe, err := client.New(base, keyOpt, system, client.WithHTTPClient(hc))
	if err != nil {
		return cli.UsageError{Err: err}
	}
	if _, err := probe.Token(ctx); err != nil {
		return importFailure(ctx, cfg, base, "the access token", err)
	}
	c, err := client.New(base, keyOpt, system, client.WithHTTPClient(hc), client.WithRetryPolicy(importRetryPolicy))
	if err != nil {
		return cli.UsageError{Err: err}
	}
	acc, err := readAccount(ctx, c, cfg.concurrency, progressWriter(stderr))
	if err != nil {
		return importFailure(ctx, cfg, base, acc.step, err)
	}

	local := newLocalKeys()
	doc, sum := buildDocument(acc, cfg.partnerID, local, start)
	if cfg.anonymize {
		newAnonymizer().document(doc)
	}
	var buf bytes.Buffer
	comment := []string{
		fmt.Sprintf("Imported by vippsmgmt import from %s with %s keys at %s.", base, keys, start.UTC().Format(time.RFC3339)),
		"Load it with: vippsmgmt serve --demo=false --fixtures " + filepath.Base(cfg.out),
		"The keys below are local ones made for this file; they work only on a server that loaded it.",
	}
	if cfg.anonymize {
		comment = append(comment, "Anonymized: names, business identifiers and addresses are fake, consistently within the file.")
	}
	if err := fixtures.Encode(&buf, doc, comment...); err != nil {
		return fmt.Errorf("import: encode the fixture file: %w", err)
	}
	// The file must load as it is; a value the twin cannot hold is reported now, not at serve.
	if _, err := fixtures.Parse(cfg.out, buf.Bytes()); err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return fmt.Errorf("import: the account does not fit a fixture file, so nothing was written: %s", first)
	}
	if err := out.commit(buf.Bytes()); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	sum.requests = counter.n.Load()
	sum.elapsed = time.Since(start)
	sum.write(stdout, cfg, base, keys, local, buf.Len())
	return nil
}

// importFailure turns a failure into one line that names the problem, without secrets (the
// SDK's errors carry the method, URL and the server's answer, never a header).
func importFailure(ctx context.Context, cfg importConfig, base, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("import interrupted while reading %s; %s was not written", what, cfg.out)
	}
	var (
		p   *client.Problem
		ue  *url.Error
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		msg string
	)
	switch {
	case errors.As(err, &p):
		switch {
		case p.Status == http.StatusUnauthorized || (what == "the access token" && (p.Status == http.StatusBadRequest || p.Status == http.StatusForbidden)):
			msg = fmt.Sprintf("%s refused the keys (%s)", base, p)
		case p.Status == http.StatusForbidden:
			msg = fmt.Sprintf("the keys may not read %s: import needs partner or management keys (%s)", what, p)
		case p.Status >= 500 || p.Status == http.StatusTooManyRequests:
			msg = fmt.Sprintf("%s kept failing while reading %s, retries included (%s)", base, what, p)
		case p.Type == "" && p.Instance == "" && (p.Status == http.StatusNotFound || p.Status == http.StatusMethodNotAllowed):
			msg = fmt.Sprintf("%s does not answer like the Vipps MobilePay API (%s)", base, p)
		default:
			msg = fmt.Sprintf("reading %s failed (%s)", what, p)
		}
	case errors.As(err, &ue):
		msg = fmt.Sprintf("cannot reach %s: %v", base, ue.Err)
	case errors.As(err, &se), errors.As(err, &te), strings.Contains(err.Error(), "empty response body"),
		strings.Contains(err.Error(), "token response without"):
		msg = fmt.Sprintf("%s does not answer like the Vipps MobilePay API: reading %s: %v", base, what, err)
	default:
		msg = fmt.Sprintf("reading %s failed: %v", what, err)
	}
	return errors.New("import: " + strings.Join(strings.Fields(msg), " ") + "; nothing was written")
}

// countingTransport counts the requests sent to the source, retries and token fetches included.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

// sourceAccount is what the source answered, in the order it answered it.
type sourceAccount struct {
	step          string // what was being read when a failure stopped the import
	packages      []client.PricePackage
	units         []*client.SalesUnit // details in list order; nil where the unit went away meanwhile
	orders        []*client.ProductOrderDetails
	merchants     map[client.BusinessIdentifier]*client.Merchant // nil value: not visible to these keys
	merchantOrder []client.BusinessIdentifier                    // first seen first
	ordersWithout int                                            // listed without an id to read them by
	ordersGone    int                                            // listed, then not found
}

// readAccount makes every read of the import: price packages, the sales units and each one's
// details, the product orders (expired included) and each one's details, then the merchant of
// every business identifier met. Detail reads run on at most workers connections.
func readAccount(ctx context.Context, c *client.Client, workers int, progress io.Writer) (*sourceAccount, error) {
	acc := &sourceAccount{merchants: map[client.BusinessIdentifier]*client.Merchant{}}
	var err error
	acc.step = "the price packages"
	if acc.packages, err = c.GetPartnerPricePackages(ctx); err != nil {
		return acc, err
	}
	acc.step = "the list of sales units"
	list, err := c.GetAllSalesUnits(ctx)
	if err != nil {
		return acc, err
	}
	acc.step = "the sales units"
	acc.units = make([]*client.SalesUnit, len(list))
	p := newProgress(progress, "sales units", len(list))
	err = forEach(ctx, len(list), workers, func(ctx context.Context, i int) error {
		su, err := c.GetMsn(ctx, list[i].Msn)
		if notFound(err) { // disconnected or deactivated since the list was read
			err = nil
		}
		acc.units[i] = su
		p.step()
		return err
	})
	p.finish()
	if err != nil {
		return acc, err
	}

	acc.step = "the list of product orders"
	orders, err := c.GetProductOrders(ctx, client.IncludeExpired())
	if err != nil {
		return acc, err
	}
	acc.step = "the product orders"
	acc.orders = make([]*client.ProductOrderDetails, len(orders))
	p = newProgress(progress, "product orders", len(orders))
	err = forEach(ctx, len(orders), workers, func(ctx context.Context, i int) error {
		defer p.step()
		if orders[i].ProductOrderId == nil {
			return nil
		}
		d, err := c.GetProductOrderDetails(ctx, *orders[i].ProductOrderId)
		if notFound(err) { // deleted since the list was read
			err = nil
		}
		acc.orders[i] = d
		return err
	})
	p.finish()
	if err != nil {
		return acc, err
	}
	for i, o := range orders {
		switch {
		case o.ProductOrderId == nil:
			acc.ordersWithout++
		case acc.orders[i] == nil:
			acc.ordersGone++
		}
	}

	seen := func(bi client.BusinessIdentifier) {
		if _, ok := acc.merchants[bi]; !ok {
			acc.merchants[bi] = nil
			acc.merchantOrder = append(acc.merchantOrder, bi)
		}
	}
	for _, su := range acc.units {
		if su != nil {
			seen(su.BusinessIdentifier)
		}
	}
	for _, o := range acc.orders {
		if o != nil {
			seen(o.BusinessIdentifier)
		}
	}
	acc.step = "the merchants"
	found := make([]*client.Merchant, len(acc.merchantOrder))
	p = newProgress(progress, "merchants", len(acc.merchantOrder))
	err = forEach(ctx, len(acc.merchantOrder), workers, func(ctx context.Context, i int) error {
		m, err := c.GetMerchantByBusinessIdentifier(ctx, acc.merchantOrder[i])
		if notFound(err) { // a merchant with no active sales unit connected to the partner
			err = nil
		}
		found[i] = m
		p.step()
		return err
	})
	p.finish()
	if err != nil {
		return acc, err
	}
	for i, bi := range acc.merchantOrder {
		acc.merchants[bi] = found[i]
	}
	return acc, nil
}

func notFound(err error) bool {
	var p *client.Problem
	return errors.As(err, &p) && p.Status == http.StatusNotFound
}

// forEach calls fn for 0..n-1 on at most workers goroutines. The first error cancels the rest
// and is returned; so is the cancellation of ctx.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// progress shows "n/N what" on one terminal line, at most ten times a second.
type progress struct {
	w     io.Writer // nil: no terminal to show it on
	what  string
	total int
	done  atomic.Int64
	mu    sync.Mutex
	shown time.Time
}

func newProgress(w io.Writer, what string, total int) *progress {
	return &progress{w: w, what: what, total: total}
}

func (p *progress) step() {
	n := p.done.Add(1)
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.shown) >= 100*time.Millisecond {
		p.shown = now
		fmt.Fprintf(p.w, "\r%d/%d %s", n, p.total, p.what)
	}
}

func (p *progress) finish() {
	if p.w == nil || p.total == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%d/%d %s\n", p.done.Load(), p.total, p.what)
}

// progressWriter returns stderr when it is a terminal, else nil: progress lines would only
// clutter a log or a pipe.
func progressWriter(stderr io.Writer) io.Writer {
	f, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return stderr
}

// localKeys are the key sets made for the twin; the source's keys never leave memory.
type localKeys struct {
	partner, management fixtures.KeyDoc
}

func newLocalKeys() localKeys {
	secret := func() string {
		b := make([]byte, 30)
		_, _ = crand.Read(b)
		return base64.StdEncoding.EncodeToString(b) // 40 characters, like the real portal's
	}
	sub := make([]byte, 16)
	_, _ = crand.Read(sub)
	return localKeys{
		partner:    fixtures.KeyDoc{Kind: vippsmgmt.KeyPartner, ClientID: uuid.NewString(), ClientSecret: secret(), SubscriptionKey: hex.EncodeToString(sub)},
		management: fixtures.KeyDoc{Kind: vippsmgmt.KeyManagement, ClientID: uuid.NewString(), ClientSecret: secret()},
	}
}

// importSummary counts what was imported and what had to be left out.
type importSummary struct {
	packages, units, hiddenUnits, merchants, standIns int
	orders                                            map[string]int
	ordersTotal                                       int
	unitsGone, ordersGone, ordersIncomplete           int
	ordersInconsistent                                int
	requests                                          int64
	elapsed                                           time.Duration
}

// buildDocument turns the source's answers into a fixture file of one partner.
//
// The API shows no creation time of product orders, only their order (newest first), so the
// orders get creation times one millisecond apart before start, in that order. Open prefills thus
// expire 14 days after the import.
//
// A completed order names its sales unit even when the partner no longer sees it; such a unit is
// added INACTIVE and unconnected (so the API still hides it), under a stand-in merchant when the
// merchant is not visible either.
func buildDocument(acc *sourceAccount, partnerID string, keys localKeys, start time.Time) (*fixtures.Document, importSummary) {
	sum := importSummary{orders: map[string]int{}}
	partner := fixtures.PartnerDoc{PartnerID: partnerID, Name: "Imported account", Keys: []fixtures.KeyDoc{keys.partner, keys.management}}
	for _, pp := range acc.packages {
		partner.PricePackages = append(partner.PricePackages, fixtures.PricePackageDoc{
			PricePackageID: pp.PricePackageId.String(), Name: pp.Name, Description: pp.Description,
			ProductType: strPtr(pp.ProductType), Market: strPtr(pp.Market), VisibleInSignupForm: pp.VisibleInSignupForm, Commission: pp.Commission,
		})
	}
	sum.packages = len(acc.packages)
	doc := &fixtures.Document{Partners: []fixtures.PartnerDoc{partner}}

	merchants := map[client.BusinessIdentifier]int{} // index in doc.Merchants
	merchantOf := func(bi client.BusinessIdentifier, standInName string) {
		if _, ok := merchants[bi]; ok {
			return
		}
		md := fixtures.MerchantDoc{BusinessIdentifier: fixtures.BusinessIdentifierDoc{Scheme: bi.Scheme, ID: bi.Id}}
		if m := acc.merchants[bi]; m != nil {
			md.Name, md.Status, md.CountryCode = m.Name, string(m.Status), m.CountryCode
			md.BusinessAddress, md.BusinessPostAddress = addressDoc(m.BusinessAddress), addressDoc(m.BusinessPostAddress)
			md.CreatedAt, md.UpdatedAt = fixtures.Time{Time: m.CreatedAt}, fixtures.Time{Time: m.UpdatedAt}
		} else {
			// Not readable with these keys: the twin needs a merchant to hang the units on.
			md.Name, md.Status = truncateRunes(standInName, 50), vippsmgmt.MerchantActive
			md.CountryCode = vippsmgmt.BusinessIdentifier{Scheme: bi.Scheme}.CountryCode()
			if md.CountryCode == "" {
				md.CountryCode = "NO"
			}
			sum.standIns++
		}
		merchants[bi] = len(doc.Merchants)
		doc.Merchants = append(doc.Merchants, md)
	}
	// Units join their merchants at the end, when the hidden ones are known too.
	type placedUnit struct {
		bi client.BusinessIdentifier
		fixtures.SalesUnitDoc
	}
	var placed []placedUnit
	unitMerchant := map[string]client.BusinessIdentifier{}
	for _, su := range acc.units {
		if su == nil {
			sum.unitsGone++
			continue
		}
		merchantOf(su.BusinessIdentifier, su.Name)
		pid := partnerID
		placed = append(placed, placedUnit{su.BusinessIdentifier, fixtures.SalesUnitDoc{
			MSN: su.Msn, Name: su.Name, Status: vippsmgmt.SalesUnitActive, PartnerID: &pid, Configuration: configurationDoc(su.Configuration),
		}})
		unitMerchant[su.Msn] = su.BusinessIdentifier
		sum.units++
	}

	rank := 0
	for _, o := range acc.orders {
		if o == nil {
			continue // counted below
		}
		if o.ProductOrderType == nil || o.ProductType == nil || o.ProductOrderId == nil ||
			(o.Status == client.StatusCompleted && o.SalesUnit == nil) {
			sum.ordersIncomplete++
			continue
		}
		od := fixtures.ProductOrderDoc{
			ProductOrderID: o.ProductOrderId.String(), PartnerID: &partnerID, ProductOrderType: string(*o.ProductOrderType),
			ProductType: string(*o.ProductType), Status: string(o.Status),
			BusinessIdentifier: fixtures.BusinessIdentifierDoc{Scheme: o.BusinessIdentifier.Scheme, ID: o.BusinessIdentifier.Id},
			CreatedAt:          fixtures.Time{Time: start.Add(-time.Duration(rank) * time.Millisecond)},
		}
		if o.Status == client.StatusCompleted {
			msn := o.SalesUnit.Msn
			if bi, ok := unitMerchant[msn]; !ok {
				merchantOf(o.BusinessIdentifier, o.SalesUnit.Name)
				placed = append(placed, placedUnit{o.BusinessIdentifier, fixtures.SalesUnitDoc{MSN: msn, Name: o.SalesUnit.Name, Status: vippsmgmt.SalesUnitInactive}})
				unitMerchant[msn] = o.BusinessIdentifier
				sum.hiddenUnits++
			} else if bi != o.BusinessIdentifier {
				// The twin keeps one owner per MSN; an order naming another cannot be recreated.
				sum.ordersInconsistent++
				continue
			}
			od.SalesUnit = &fixtures.MsnInfoDoc{MSN: msn, Name: o.SalesUnit.Name}
		}
		doc.ProductOrders = append(doc.ProductOrders, od)
		sum.orders[od.Status]++
		sum.ordersTotal++
		rank++
	}
	sum.ordersGone = acc.ordersGone
	sum.ordersIncomplete += acc.ordersWithout

	for _, u := range placed {
		m := &doc.Merchants[merchants[u.bi]]
		m.SalesUnits = append(m.SalesUnits, u.SalesUnitDoc)
	}
	sum.merchants = len(doc.Merchants)
	return doc, sum
}

func strPtr[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}

func addressDoc(a *client.Address) *fixtures.AddressDoc {
	if a == nil {
		return nil
	}
	// A copy, never nil: an address without lines is written as an empty list.
	return &fixtures.AddressDoc{Lines: append([]string{}, a.Lines...), PostCode: a.PostCode, City: a.City, CountryCode: a.CountryCode}
}

func configurationDoc(c client.SalesUnitConfiguration) *fixtures.ConfigurationDoc {
	d := &fixtures.ConfigurationDoc{
		PaymentAllowed: c.PaymentAllowed, CaptureType: strPtr(c.CaptureType), SkipLandingPageAllowed: c.SkipLandingPageAllowed,
		RecurringAllowed: c.RecurringAllowed, PartialCaptureAllowed: c.PartialCaptureAllowed, LateCaptureAllowed: c.LateCaptureAllowed,
		LandingPagePhoneNumberLocked: c.LandingPagePhoneNumberLocked, LongLivingPaymentAllowed: c.LongLivingPaymentAllowed,
		CreditCardPaymentAllowed: c.CreditCardPaymentAllowed,
	}
	if *d == (fixtures.ConfigurationDoc{}) {
		return nil
	}
	return d
}

// plural returns "1 unit" or "n units".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// pendingFile is a temporary file beside the file it will replace, so an interrupted import
// leaves either the old file or the new one, never half of one. It holds local secrets: only
// its owner may read it (os.CreateTemp makes it 0600).
type pendingFile struct {
	f    *os.File
	path string
	done bool
}

func createTempBeside(path string) (*pendingFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return &pendingFile{f: f, path: path}, nil
}

// commit writes data, flushes it to disk and renames the file into place.
func (p *pendingFile) commit(data []byte) error {
	if _, err := p.f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	if err := os.Rename(p.f.Name(), p.path); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	p.done = true
	// The rename is durable once the directory is.
	if d, err := os.Open(filepath.Dir(p.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// discard removes the temporary file unless it was committed.
func (p *pendingFile) discard() {
	if !p.done {
		p.f.Close()
		os.Remove(p.f.Name())
	}
}

func (s importSummary) write(w io.Writer, cfg importConfig, base, keys string, local localKeys, size int) {
	fmt.Fprintf(w, "Imported %s with %s keys in %s, %d requests.\n", base, keys, s.elapsed.Round(10*time.Millisecond), s.requests)
	fmt.Fprintf(w, "  price packages   %d\n", s.packages)
	units := fmt.Sprint(s.units)
	if s.hiddenUnits > 0 {
		units += fmt.Sprintf(" (and %s that completed orders name, hidden as in the source)", plural(s.hiddenUnits, "unit"))
	}
	fmt.Fprintf(w, "  sales units      %s\n", units)
	merchants := fmt.Sprint(s.merchants)
	if s.standIns > 0 {
		merchants += fmt.Sprintf(" (%d not readable with these keys: stand-ins named after a sales unit)", s.standIns)
	}
	fmt.Fprintf(w, "  merchants        %s\n", merchants)
	var byStatus []string
	for _, st := range []client.ProductOrderStatus{client.StatusReceived, client.StatusMerchantViewed, client.StatusOrderSubmitted,
		client.StatusCompleted, client.StatusRejected, client.StatusExpired} {
		if n := s.orders[string(st)]; n > 0 {
			byStatus = append(byStatus, fmt.Sprintf("%d %s", n, st))
		}
	}
	orders := fmt.Sprint(s.ordersTotal)
	if len(byStatus) > 0 {
		orders += " (" + strings.Join(byStatus, ", ") + ")"
	}
	fmt.Fprintf(w, "  product orders   %s\n", orders)
	var left []string
	if s.unitsGone > 0 {
		left = append(left, fmt.Sprintf("%d sales units gone while importing", s.unitsGone))
	}
	if s.ordersGone > 0 {
		left = append(left, fmt.Sprintf("%d product orders gone while importing", s.ordersGone))
	}
	if s.ordersIncomplete > 0 {
		left = append(left, fmt.Sprintf("%d product orders without id, type, product or (completed) sales unit", s.ordersIncomplete))
	}
	if s.ordersInconsistent > 0 {
		left = append(left, fmt.Sprintf("%d completed orders naming a sales unit of another merchant", s.ordersInconsistent))
	}
	if len(left) > 0 {
		fmt.Fprintf(w, "  left out         %s\n", strings.Join(left, "; "))
	}
	anon := ""
	if cfg.anonymize {
		anon = ", anonymized"
	}
	fmt.Fprintf(w, "Wrote %s (%d bytes%s).\n", cfg.out, size, anon)
	fmt.Fprintf(w, "Local keys of partner %s (also in the file):\n", cfg.partnerID)
	fmt.Fprintf(w, "  partner     client_id %s  client_secret %s  Ocp-Apim-Subscription-Key %s\n",
		local.partner.ClientID, local.partner.ClientSecret, local.partner.SubscriptionKey)
	fmt.Fprintf(w, "  management  client_id %s  client_secret %s\n", local.management.ClientID, local.management.ClientSecret)
	fmt.Fprintf(w, "Start the twin: vippsmgmt serve --demo=false --fixtures %s\n", cfg.out)
}
