package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/cputime"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

var importUnits = flag.Int("import-units", 0, "run TestImportLarge with this many sales units (make import-bench: 10000)")

// Keys of the "production" account the tests import from.
var (
	prodPartnerKeys  = fixtures.KeyDoc{Kind: vippsmgmt.KeyPartner, ClientID: "3b0c2d1e-prod-partner", ClientSecret: "prod-partner-secret-DO-NOT-LEAK", SubscriptionKey: "prod-sub-key-DO-NOT-LEAK"}
	prodMgmtKeys     = fixtures.KeyDoc{Kind: vippsmgmt.KeyManagement, ClientID: "4c1d3e2f-prod-mgmt", ClientSecret: "prod-mgmt-secret-DO-NOT-LEAK"}
	prodMerchantKeys = fixtures.KeyDoc{Kind: vippsmgmt.KeyMerchant, ClientID: "unit-100000-client", ClientSecret: "unit-secret-DO-NOT-LEAK", SubscriptionKey: "unit-sub"}
	rivalKeys        = fixtures.KeyDoc{Kind: vippsmgmt.KeyPartner, ClientID: "rival-client", ClientSecret: "rival-secret", SubscriptionKey: "rival-sub"}
)

// prodAccount is what the production fixture holds, to ask both servers about all of it.
type prodAccount struct {
	doc  *fixtures.Document
	msns []string
	bis  []client.BusinessIdentifier
	ids  []string // product orders
}

func sptr(s string) *string { return &s }
func bptr(b bool) *bool     { return &b }

// prodFixture builds an account with n sales units: merchants in three countries with check
// digits and one without, units hidden in every way the API hides them (INACTIVE, another
// partner's, unconnected, a DEACTIVATED merchant), and product orders of every type in every
// status, some of another partner, some of merchants the partner cannot see.
func prodFixture(n int) *prodAccount {
	acc := &prodAccount{}
	start := time.Now().UTC().Add(-90 * 24 * time.Hour).Truncate(time.Second)
	doc := &fixtures.Document{Partners: []fixtures.PartnerDoc{
		{PartnerID: "prod-partner", Name: "Production Partner AS", Keys: []fixtures.KeyDoc{prodPartnerKeys, prodMgmtKeys},
			PricePackages: []fixtures.PricePackageDoc{
				{PricePackageID: "0b7e2a40-0000-4000-8000-000000000001", Name: "POS standard", Description: "2.99%", ProductType: sptr("PAYMENT_INTEGRATION"),
					Market: sptr("NO"), VisibleInSignupForm: bptr(true), Commission: sptr("30 %")},
				{PricePackageID: "0b7e2a40-0000-4000-8000-000000000002", Name: "Web DK hidden", Description: "1.45%", ProductType: sptr("CHECKOUT"),
					Market: sptr("DK"), VisibleInSignupForm: bptr(false)},
				{PricePackageID: "0b7e2a40-0000-4000-8000-000000000003", Name: "Bare", Description: ""},
			}},
		{PartnerID: "rival-partner", Name: "Rival AS", Keys: []fixtures.KeyDoc{rivalKeys},
			PricePackages: []fixtures.PricePackageDoc{{PricePackageID: "0b7e2a40-0000-4000-8000-000000000009", Name: "Rival", Description: "9.99%"}}},
	}}
	schemes := []string{vippsmgmt.SchemeNOOrg, vippsmgmt.SchemeDKCVR, vippsmgmt.SchemeFIYTunnus, "business:SE:ORG"}
	forms := []string{"AS", "ApS", "Oy", "AB"}
	nMerchants := max(n/2, 8)
	for i := 0; len(doc.Merchants) < nMerchants; i++ {
		scheme := schemes[i%len(schemes)]
		var id string
		switch scheme {
		case vippsmgmt.SchemeNOOrg:
			id, _ = vippsmgmt.CompleteBusinessID(scheme, fmt.Sprintf("9%07d", 1000+i*37))
		case vippsmgmt.SchemeDKCVR:
			id, _ = vippsmgmt.CompleteBusinessID(scheme, fmt.Sprintf("3%06d", 2000+i*41))
		case vippsmgmt.SchemeFIYTunnus:
			id, _ = vippsmgmt.CompleteBusinessID(scheme, fmt.Sprintf("2%06d", 3000+i*43))
		default:
			id = fmt.Sprintf("55%08d", i)
		}
		if id == "" {
			continue // a body no check digit completes
		}
		cc := scheme[len("business:") : len("business:")+2]
		created := start.Add(time.Duration(i) * time.Hour).Add(time.Duration(i) * 1234 * time.Microsecond)
		m := fixtures.MerchantDoc{
			BusinessIdentifier: fixtures.BusinessIdentifierDoc{Scheme: scheme, ID: id},
			Name:               fmt.Sprintf("Merchant%03d Handelshus %s", len(doc.Merchants), forms[i%len(forms)]),
			Status:             vippsmgmt.MerchantActive, CountryCode: cc,
			CreatedAt: fixtures.Time{Time: created}, UpdatedAt: fixtures.Time{Time: created.Add(time.Duration(i%3) * 24 * time.Hour)},
		}
		if i%7 != 3 {
			m.BusinessAddress = &fixtures.AddressDoc{Lines: []string{fmt.Sprintf("Testveien %d", i)}, PostCode: sptr(fmt.Sprintf("%04d", 1000+i)),
				City: sptr("Testbyen"), CountryCode: sptr(cc)}
		}
		if i%5 == 1 {
			m.BusinessPostAddress = &fixtures.AddressDoc{Lines: []string{fmt.Sprintf("Postboks %d", i), "Sentrum"}, PostCode: sptr("0101"), City: sptr("Postbyen")}
		}
		if len(doc.Merchants) == 5 {
			m.Status = vippsmgmt.MerchantDeactivated
		}
		doc.Merchants = append(doc.Merchants, m)
	}
	prod, rival := "prod-partner", "rival-partner"
	for j := range n {
		msn := fmt.Sprint(100000 + j)
		mi := j % nMerchants
		u := fixtures.SalesUnitDoc{MSN: msn, Name: fmt.Sprintf("Unit%05d Kiosk", j), Status: vippsmgmt.SalesUnitActive, PartnerID: &prod}
		switch {
		case j%13 == 7:
			u.Status = vippsmgmt.SalesUnitInactive
		case j%17 == 8:
			u.PartnerID = &rival
		case j%19 == 9:
			u.PartnerID = nil
		}
		switch j % 4 {
		case 0:
			u.Configuration = &fixtures.ConfigurationDoc{PaymentAllowed: bptr(true), CaptureType: sptr("ReserveCapture"), SkipLandingPageAllowed: bptr(false),
				RecurringAllowed: bptr(j%8 == 0), PartialCaptureAllowed: bptr(true), LateCaptureAllowed: bptr(false), LandingPagePhoneNumberLocked: bptr(false),
				LongLivingPaymentAllowed: bptr(true), CreditCardPaymentAllowed: bptr(false)}
		case 1:
			u.Configuration = &fixtures.ConfigurationDoc{PaymentAllowed: bptr(false)}
		case 2:
			u.Configuration = &fixtures.ConfigurationDoc{CaptureType: sptr("DirectCapture")}
		}
		if j == 0 {
			u.Keys = []fixtures.KeyDoc{prodMerchantKeys}
		}
		if j%6 == 0 && u.PartnerID != nil && *u.PartnerID == prod {
			u.PricePackageID = sptr("0b7e2a40-0000-4000-8000-000000000001")
		}
		doc.Merchants[mi].SalesUnits = append(doc.Merchants[mi].SalesUnits, u)
		acc.msns = append(acc.msns, msn)
	}
	// A merchant the partner cannot see at all: its only unit is INACTIVE.
	hiddenID, _ := vippsmgmt.CompleteBusinessID(vippsmgmt.SchemeNOOrg, "81234567")
	doc.Merchants = append(doc.Merchants, fixtures.MerchantDoc{
		BusinessIdentifier: fixtures.BusinessIdentifierDoc{Scheme: vippsmgmt.SchemeNOOrg, ID: hiddenID}, Name: "Hidden Merchant AS", Status: vippsmgmt.MerchantActive,
		SalesUnits: []fixtures.SalesUnitDoc{{MSN: "990001", Name: "Hidden Unit Bar", Status: vippsmgmt.SalesUnitInactive, PartnerID: &prod}},
	})
	acc.msns = append(acc.msns, "990001")
	for _, m := range doc.Merchants {
		acc.bis = append(acc.bis, client.BusinessIdentifier{Scheme: m.BusinessIdentifier.Scheme, Id: m.BusinessIdentifier.ID})
	}
	// A merchant known only from a prefill: no merchant record, no sales unit.
	newID, _ := vippsmgmt.CompleteBusinessID(vippsmgmt.SchemeDKCVR, "4123456")
	acc.bis = append(acc.bis, client.BusinessIdentifier{Scheme: vippsmgmt.SchemeDKCVR, Id: newID})

	type combo struct{ typ, status string }
	combos := []combo{
		{vippsmgmt.OrderPrefill, vippsmgmt.StatusReceived}, {vippsmgmt.OrderPrefill, vippsmgmt.StatusMerchantViewed},
		{vippsmgmt.OrderPrefill, vippsmgmt.StatusOrderSubmitted}, {vippsmgmt.OrderPrefill, vippsmgmt.StatusExpired},
		{vippsmgmt.OrderPrefill, vippsmgmt.StatusCompleted}, {vippsmgmt.OrderPrefill, vippsmgmt.StatusRejected},
		{vippsmgmt.OrderTemplate, vippsmgmt.StatusReceived}, {vippsmgmt.OrderTemplate, vippsmgmt.StatusCompleted},
		{vippsmgmt.OrderTemplate, vippsmgmt.StatusRejected}, {vippsmgmt.OrderManual, vippsmgmt.StatusReceived},
		{vippsmgmt.OrderManual, vippsmgmt.StatusCompleted}, {vippsmgmt.OrderManual, vippsmgmt.StatusRejected},
	}
	now := time.Now().UTC()
	nOrders := max(n/4, 3*len(combos))
	for k := range nOrders {
		c := combos[k%len(combos)]
		mi := (k * 7) % len(doc.Merchants)
		m := doc.Merchants[mi]
		o := fixtures.ProductOrderDoc{
			ProductOrderID: fmt.Sprintf("5e0a1b2c-0000-4000-8000-%012d", k), PartnerID: &prod,
			ProductOrderType: c.typ, ProductType: vippsmgmt.ProductTypes[k%len(vippsmgmt.ProductTypes)], Status: c.status,
			BusinessIdentifier: m.BusinessIdentifier,
			CreatedAt:          fixtures.Time{Time: now.Add(-time.Duration(k) * 37 * time.Minute)},
		}
		switch {
		case k%10 == 9:
			o.PartnerID = &rival
		case k%11 == 4 && c.status != vippsmgmt.StatusCompleted:
			o.BusinessIdentifier = fixtures.BusinessIdentifierDoc{Scheme: vippsmgmt.SchemeDKCVR, ID: newID}
		}
		if c.status == vippsmgmt.StatusCompleted {
			// The first unit of the merchant: visible, or hidden in one of the ways above.
			u := m.SalesUnits[0]
			o.SalesUnit = &fixtures.MsnInfoDoc{MSN: u.MSN, Name: "At approval " + u.Name}
		}
		if c.status == vippsmgmt.StatusRejected && k%2 == 0 {
			o.RejectionReason = "Missing documentation"
		}
		doc.ProductOrders = append(doc.ProductOrders, o)
		acc.ids = append(acc.ids, o.ProductOrderID)
	}
	// Prefills past their 14 days but never swept: the API shows them EXPIRED.
	for k, st := range []string{vippsmgmt.StatusReceived, vippsmgmt.StatusMerchantViewed} {
		id := fmt.Sprintf("5e0a1b2c-0000-4000-9000-%012d", k)
		doc.ProductOrders = append(doc.ProductOrders, fixtures.ProductOrderDoc{
			ProductOrderID: id, PartnerID: &prod, ProductOrderType: vippsmgmt.OrderPrefill, ProductType: "CHECKOUT", Status: st,
			BusinessIdentifier: doc.Merchants[k].BusinessIdentifier, CreatedAt: fixtures.Time{Time: now.Add(-time.Duration(15+k) * 24 * time.Hour)},
		})
		acc.ids = append(acc.ids, id)
	}
	acc.doc = doc
	return acc
}

// startProduction writes the account's fixture file and starts a server on it.
func startProduction(t testing.TB, acc *prodAccount) *testserver.Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "production.yaml")
	var buf bytes.Buffer
	if err := fixtures.Encode(&buf, acc.doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return testserver.Start(t, "sqlite", testserver.Options{NoDemo: true, Fixtures: []string{path}})
}

func importArgs(base, out string, keys fixtures.KeyDoc, extra ...string) []string {
	args := []string{"import", "--base-url", base, "--client-id", keys.ClientID, "--client-secret", keys.ClientSecret, "--out", out}
	if keys.Kind == vippsmgmt.KeyManagement {
		args = append(args, "--management")
	} else {
		args = append(args, "--subscription-key", keys.SubscriptionKey)
	}
	return append(args, extra...)
}

// importOK runs `vippsmgmt import` with args, which must succeed and print no secret, and
// answers its output and the file it wrote to out.
func importOK(t *testing.T, args []string, out string) (stdout, stderr string, file []byte) {
	t.Helper()
	stdout, stderr, code := runCLI(t, nil, args...)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkNoSecrets(t, "stdout", stdout)
	checkNoSecrets(t, "stderr", stderr)
	return stdout, stderr, file
}

// importedKeys reads the local keys from an imported file.
func importedKeys(t testing.TB, path string) (partner, management fixtures.KeyDoc) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := fixtures.Parse(path, data)
	if err != nil {
		t.Fatalf("the imported file does not parse: %v", err)
	}
	if len(set.Partners) != 1 {
		t.Fatalf("imported file has %d partners, want 1", len(set.Partners))
	}
	for _, k := range set.Partners[0].Keys {
		kd := fixtures.KeyDoc{Kind: k.Kind, ClientID: k.ClientID, ClientSecret: k.ClientSecret, SubscriptionKey: k.SubscriptionKey}
		if k.Kind == vippsmgmt.KeyPartner {
			partner = kd
		} else {
			management = kd
		}
	}
	return partner, management
}

// apiReader makes raw Management API reads with one key set, to compare answers byte for byte.
type apiReader struct {
	t       testing.TB
	base    string
	headers http.Header
}

func newAPIReader(t testing.TB, base string, k fixtures.KeyDoc) *apiReader {
	t.Helper()
	opt := client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey)
	if k.Kind == vippsmgmt.KeyManagement {
		opt = client.WithManagementKeys(k.ClientID, k.ClientSecret)
	}
	c, err := client.New(base, opt)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Token(context.Background())
	if err != nil {
		t.Fatalf("token from %s: %v", base, err)
	}
	h := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	if k.SubscriptionKey != "" {
		h.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
	}
	return &apiReader{t: t, base: base, headers: h}
}

var instanceRE = regexp.MustCompile(`urn:uuid:[0-9a-f-]{36}`)

// get returns the status and the body with the server's own address and request id replaced.
func (r *apiReader) get(path string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.base+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header = r.headers.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	s := strings.ReplaceAll(string(body), r.base, "BASE")
	return resp.StatusCode, resp.Header.Get("Content-Type") + "\n" + instanceRE.ReplaceAllString(s, "urn:uuid:ID")
}

func (r *apiReader) json(path string, out any) {
	r.t.Helper()
	status, body := r.get(path)
	if status != http.StatusOK {
		r.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	_, js, _ := strings.Cut(body, "\n")
	if err := json.Unmarshal([]byte(js), out); err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
}

// quickstartReads are the read operations of the quick start over everything in the account,
// the parts the partner may not see included.
func quickstartReads(acc *prodAccount) []string {
	paths := []string{"/management/v1/partners/price-packages", "/management/v1/sales-units",
		"/management/v2/product-orders", "/management/v2/product-orders?includeExpired=true"}
	for _, msn := range acc.msns {
		paths = append(paths, "/management/v1/sales-units/"+msn)
	}
	for _, bi := range acc.bis {
		p := "/management/v1/merchants/" + url.PathEscape(bi.Scheme) + "/" + url.PathEscape(bi.Id)
		paths = append(paths, p, p+"/sales-units")
	}
	for _, id := range acc.ids {
		paths = append(paths, "/management/v2/product-orders/"+id+"/details", "/management/v1/product-orders/"+id+"/details")
	}
	return paths
}

// checkNoSecrets fails if a production secret, the production client id or a token shows in s.
func checkNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{prodPartnerKeys.ClientSecret, prodPartnerKeys.SubscriptionKey, prodPartnerKeys.ClientID,
		prodMgmtKeys.ClientSecret, prodMgmtKeys.ClientID, "DO-NOT-LEAK", "eyJ"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains %q", what, secret)
		}
	}
}

// TestImport imports one "production" account in several ways; the server starts once.
func TestImport(t *testing.T) {
	acc := prodFixture(200)
	prod := startProduction(t, acc)
	dir := t.TempDir() // outlives the subtests
	var imported string
	t.Run("TwinAnswersLikeProduction", func(t *testing.T) { imported = testImportTwin(t, acc, prod, dir) })
	t.Run("Anonymized", func(t *testing.T) { testImportAnonymized(t, acc, prod) })
	t.Run("RetriesThrottlingAndFailures", func(t *testing.T) {
		if imported == "" {
			t.Skip("needs the file of TwinAnswersLikeProduction")
		}
		testImportRetries(t, acc, prod, imported)
	})
	t.Run("InterruptedLeavesNoFile", func(t *testing.T) { testImportInterrupted(t, prod) })
	t.Run("Errors", func(t *testing.T) { testImportErrors(t, prod) })
}

// testImportTwin imports the account, starts a twin from the file and compares every read of the
// quick start on both; it returns the imported file.
func testImportTwin(t *testing.T, acc *prodAccount, prod *testserver.Server, dir string) string {
	out := filepath.Join(dir, "account.yaml")

	stdout, stderr, file := importOK(t, importArgs(prod.URL, out, prodPartnerKeys), out)
	checkNoSecrets(t, "the imported file", string(file))
	if stderr != "" {
		t.Errorf("stderr is not a terminal, yet the import wrote to it: %q", stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("imported file mode %v (%v), want 0600: it holds keys", st.Mode().Perm(), err)
	}
	partner, management := importedKeys(t, out)
	for _, want := range []string{"price packages   3\n", "Wrote " + out, partner.ClientSecret, partner.SubscriptionKey, management.ClientSecret,
		"serve --demo=false --fixtures " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	t.Logf("summary:\n%s", stdout)

	twin := testserver.Start(t, "sqlite", testserver.Options{NoDemo: true, Fixtures: []string{out}})
	fromProd := newAPIReader(t, prod.URL, prodPartnerKeys)
	fromTwin := newAPIReader(t, twin.URL, partner)
	ok200 := 0
	for _, path := range quickstartReads(acc) {
		ps, pb := fromProd.get(path)
		ts, tb := fromTwin.get(path)
		if ps != ts || pb != tb {
			t.Errorf("GET %s\nproduction: %d %s\ntwin:       %d %s", path, ps, pb, ts, tb)
		}
		if ps == http.StatusOK {
			ok200++
		}
	}
	// The comparison must have covered the account, not only 404s.
	var units []client.MsnInfo
	fromProd.json("/management/v1/sales-units", &units)
	var orders []client.ProductOrderDetails
	fromProd.json("/management/v2/product-orders?includeExpired=true", &orders)
	statuses := map[client.ProductOrderStatus]int{}
	for _, o := range orders {
		statuses[o.Status]++
	}
	if len(units) < 120 || len(statuses) != 6 || ok200 < len(units)+len(orders) {
		t.Errorf("production showed %d units, orders in %d statuses, %d answers 200: too little compared", len(units), len(statuses), ok200)
	}

	// The twin's management keys work too.
	mgmt := newAPIReader(t, twin.URL, management)
	if s, b := mgmt.get("/management/v1/partners/price-packages"); s != http.StatusOK {
		t.Errorf("twin with management keys: %d %s", s, b)
	}

	return out
}

var keyLineRE = regexp.MustCompile(`(?m)^(#.*|\s*(- )?(clientId|clientSecret|subscriptionKey|kind): .*)\n`)

// stripKeysAndComments returns an imported file without its keys and its dated header, and with
// order times left out (they count back from the import's start).
func stripKeysAndComments(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := keyLineRE.ReplaceAllString(string(data), "")
	return regexp.MustCompile(`(?m)^\s*createdAt: "?\d{4}-.*\n`).ReplaceAllString(s, "")
}

func testImportAnonymized(t *testing.T, acc *prodAccount, prod *testserver.Server) {
	out := filepath.Join(t.TempDir(), "anon.yaml")
	_, _, file := importOK(t, importArgs(prod.URL, out, prodMgmtKeys, "--anonymize", "--concurrency", "8"), out)
	checkNoSecrets(t, "the anonymized file", string(file))
	// No name, business identifier or address of the source is left.
	for _, m := range acc.doc.Merchants {
		for _, s := range []string{m.Name, m.BusinessIdentifier.ID} {
			if strings.Contains(string(file), s) {
				t.Errorf("anonymized file contains %q", s)
			}
		}
		if a := m.BusinessAddress; a != nil && (strings.Contains(string(file), a.Lines[0]) || strings.Contains(string(file), *a.City)) {
			t.Errorf("anonymized file contains the address %v", a.Lines)
		}
		for _, u := range m.SalesUnits {
			if strings.Contains(string(file), u.Name) {
				t.Errorf("anonymized file contains %q", u.Name)
			}
		}
	}

	partner, _ := importedKeys(t, out)
	twin := testserver.Start(t, "sqlite", testserver.Options{NoDemo: true, Fixtures: []string{out}})
	fromProd := newAPIReader(t, prod.URL, prodPartnerKeys)
	fromTwin := newAPIReader(t, twin.URL, partner)

	// Price packages are the partner's own, not the merchants': kept as they are.
	for _, path := range []string{"/management/v1/partners/price-packages"} {
		if _, pb := fromProd.get(path); true {
			if _, tb := fromTwin.get(path); pb != tb {
				t.Errorf("GET %s differs:\n%s\n%s", path, pb, tb)
			}
		}
	}

	var prodUnits, twinUnits []client.MsnInfo
	fromProd.json("/management/v1/sales-units", &prodUnits)
	fromTwin.json("/management/v1/sales-units", &twinUnits)
	if len(prodUnits) != len(twinUnits) || len(prodUnits) < 60 {
		t.Fatalf("%d sales units in production, %d in the twin", len(prodUnits), len(twinUnits))
	}
	fake := map[client.BusinessIdentifier]client.BusinessIdentifier{} // production → twin
	fakeOf := func(orig, got client.BusinessIdentifier, where string) {
		t.Helper()
		if prev, ok := fake[orig]; ok && prev != got {
			t.Errorf("%s: %v became %v here and %v before", where, orig, got, prev)
		}
		fake[orig] = got
		if got.Scheme != orig.Scheme || got.Id == orig.Id || len(got.Id) != len(orig.Id) {
			t.Errorf("%s: business identifier %v became %v", where, orig, got)
		}
		if vippsmgmt.HasBusinessIDCheckDigit(orig.Scheme) && !vippsmgmt.ValidBusinessIDCheckDigit(vippsmgmt.BusinessIdentifier{Scheme: got.Scheme, ID: got.Id}) {
			t.Errorf("%s: %s %s has no valid check digit", where, got.Scheme, got.Id)
		}
	}
	for i, pu := range prodUnits {
		tu := twinUnits[i]
		if tu.Msn != pu.Msn || tu.Name == pu.Name {
			t.Errorf("sales unit %d: production %v, twin %v", i, pu, tu)
		}
		var ps, ts client.SalesUnit
		fromProd.json("/management/v1/sales-units/"+pu.Msn, &ps)
		fromTwin.json("/management/v1/sales-units/"+tu.Msn, &ts)
		if ps.Configuration != ts.Configuration && !sameJSON(ps.Configuration, ts.Configuration) {
			t.Errorf("sales unit %s: configuration %v, twin %v", pu.Msn, ps.Configuration, ts.Configuration)
		}
		fakeOf(ps.BusinessIdentifier, ts.BusinessIdentifier, "sales unit "+pu.Msn)
	}
	checkedIDs := 0
	for orig, got := range fake {
		mp := "/management/v1/merchants/" + url.PathEscape(orig.Scheme) + "/" + url.PathEscape(orig.Id)
		mt := "/management/v1/merchants/" + url.PathEscape(got.Scheme) + "/" + url.PathEscape(got.Id)
		var pm, tm client.Merchant
		fromProd.json(mp, &pm)
		fromTwin.json(mt, &tm)
		if pm.Name == tm.Name || pm.Status != tm.Status || pm.CountryCode != tm.CountryCode || !pm.CreatedAt.Equal(tm.CreatedAt) || !pm.UpdatedAt.Equal(tm.UpdatedAt) {
			t.Errorf("merchant %v: production %+v, twin %+v", orig, pm, tm)
		}
		for _, a := range [][2]*client.Address{{pm.BusinessAddress, tm.BusinessAddress}, {pm.BusinessPostAddress, tm.BusinessPostAddress}} {
			if (a[0] == nil) != (a[1] == nil) || (a[0] != nil && (len(a[0].Lines) != len(a[1].Lines) || slices.Equal(a[0].Lines, a[1].Lines) ||
				*a[0].City == *a[1].City || len(*a[0].PostCode) != len(*a[1].PostCode))) {
				t.Errorf("merchant %v: address %+v became %+v", orig, a[0], a[1])
			}
		}
		var pu, tu []client.MsnInfo
		fromProd.json(mp+"/sales-units", &pu)
		fromTwin.json(mt+"/sales-units", &tu)
		if len(pu) != len(tu) || (len(pu) > 0 && pu[0].Msn != tu[0].Msn) {
			t.Errorf("merchant %v: sales units %v, twin %v", orig, pu, tu)
		}
		if vippsmgmt.HasBusinessIDCheckDigit(orig.Scheme) {
			checkedIDs++
		}
	}
	if checkedIDs < 20 {
		t.Errorf("only %d business identifiers with check digits compared", checkedIDs)
	}

	var po, to []client.ProductOrderDetails
	fromProd.json("/management/v2/product-orders?includeExpired=true", &po)
	fromTwin.json("/management/v2/product-orders?includeExpired=true", &to)
	if len(po) != len(to) {
		t.Fatalf("%d orders in production, %d in the twin", len(po), len(to))
	}
	for i := range po {
		p, tw := po[i], to[i]
		if *p.ProductOrderId != *tw.ProductOrderId || p.Status != tw.Status || *p.ProductOrderType != *tw.ProductOrderType || *p.ProductType != *tw.ProductType {
			t.Errorf("order %d: production %+v, twin %+v", i, p, tw)
		}
		if f, ok := fake[p.BusinessIdentifier]; ok && f != tw.BusinessIdentifier {
			t.Errorf("order %s: merchant %v is %v in the twin, not %v as elsewhere", *p.ProductOrderId, p.BusinessIdentifier, tw.BusinessIdentifier, f)
		} else if !ok {
			fakeOf(p.BusinessIdentifier, tw.BusinessIdentifier, "order "+p.ProductOrderId.String())
		}
		if (p.SalesUnit == nil) != (tw.SalesUnit == nil) || (p.SalesUnit != nil && (p.SalesUnit.Msn != tw.SalesUnit.Msn || p.SalesUnit.Name == tw.SalesUnit.Name)) {
			t.Errorf("order %s: sales unit %+v, twin %+v", *p.ProductOrderId, p.SalesUnit, tw.SalesUnit)
		}
	}
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestAnonymizerIsConsistent(t *testing.T) {
	doc := prodFixture(40).doc
	a := newSeededAnonymizer([32]byte{1})
	first := *doc
	first.Merchants = slices.Clone(doc.Merchants)
	// The same originals met again (another document) get the same replacements.
	for i := range first.Merchants {
		first.Merchants[i].SalesUnits = slices.Clone(first.Merchants[i].SalesUnits)
	}
	first.ProductOrders = slices.Clone(doc.ProductOrders)
	a.document(&first)
	second := prodFixture(40).doc
	a.document(second)
	// Order times count back from now; only the anonymized values must agree.
	for i := range second.ProductOrders {
		second.ProductOrders[i].CreatedAt = first.ProductOrders[i].CreatedAt
	}
	if !sameJSON(first, second) {
		t.Errorf("the same input anonymized twice in one run differs")
	}
	// Distinct originals stay distinct, and another run draws other values.
	seen := map[string]bool{}
	for _, m := range first.Merchants {
		if seen[m.Name] || seen[m.BusinessIdentifier.ID] {
			t.Errorf("two merchants share %q or %q", m.Name, m.BusinessIdentifier.ID)
		}
		seen[m.Name], seen[m.BusinessIdentifier.ID] = true, true
	}
	other := prodFixture(40).doc
	newSeededAnonymizer([32]byte{2}).document(other)
	if other.Merchants[0].Name == first.Merchants[0].Name && other.Merchants[1].BusinessIdentifier.ID == first.Merchants[1].BusinessIdentifier.ID {
		t.Errorf("another run gave the same replacements")
	}
	// Unknown schemes keep their shape.
	for _, m := range first.Merchants {
		if m.BusinessIdentifier.Scheme == "business:SE:ORG" && !regexp.MustCompile(`^[1-9]\d{9}$`).MatchString(m.BusinessIdentifier.ID) {
			t.Errorf("SE id %q lost its shape", m.BusinessIdentifier.ID)
		}
	}
}

// flakyProxy stands between the import and production: it counts requests, answers some with
// 429 or 503 first, and can call a function at the nth request.
type flakyProxy struct {
	URL      string
	requests atomic.Int64
	mu       sync.Mutex
	failed   map[string]bool
	fail     func(r *http.Request) int // status to answer instead of proxying, once per path; 0: proxy
	at       int64
	atFn     func()
}

func startFlakyProxy(t testing.TB, target string) *flakyProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{failed: map[string]bool{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // an interrupted import cancels requests in flight
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.requests.Add(1)
		if p.atFn != nil && n == p.at {
			p.atFn()
		}
		if p.fail != nil {
			if status := p.fail(r); status != 0 {
				p.mu.Lock()
				first := !p.failed[r.URL.Path]
				p.failed[r.URL.Path] = true
				p.mu.Unlock()
				if first {
					if status == http.StatusTooManyRequests {
						w.Header().Set("Retry-After", "1")
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					fmt.Fprintf(w, `{"statusCode": %d, "message": "try again"}`, status)
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p.URL = "http://" + ln.Addr().String()
	return p
}

// testImportRetries imports through a source that throttles and fails now and then; the file
// must be the one a direct import gave.
func testImportRetries(t *testing.T, acc *prodAccount, prod *testserver.Server, direct string) {
	proxy := startFlakyProxy(t, prod.URL)
	proxy.fail = func(r *http.Request) int {
		switch r.URL.Path {
		case "/management/v1/sales-units/100001", "/management/v1/sales-units/100002":
			return http.StatusTooManyRequests
		case "/management/v1/sales-units", "/management/v2/product-orders/" + acc.ids[0] + "/details":
			return http.StatusServiceUnavailable
		case "/management/v1/merchants/" + acc.bis[0].Scheme + "/" + acc.bis[0].Id:
			return http.StatusBadGateway
		}
		return 0
	}
	out := filepath.Join(t.TempDir(), "account.yaml")
	stdout, stderr, code := runCLI(t, nil, importArgs(proxy.URL, out, prodPartnerKeys, "--concurrency", "3")...)
	if code != 0 {
		t.Fatalf("import through a flaky source: exit %d\n%s%s", code, stdout, stderr)
	}
	// Every refused request was repeated, and the summary counts what the source saw.
	if len(proxy.failed) != 5 {
		t.Errorf("%d paths were refused once, want 5: %v", len(proxy.failed), proxy.failed)
	}
	if want := fmt.Sprintf(", %d requests.", proxy.requests.Load()); !strings.Contains(stdout, want) {
		t.Errorf("summary does not count the %d requests the source saw:\n%s", proxy.requests.Load(), stdout)
	}
	if a, b := stripKeysAndComments(t, out), stripKeysAndComments(t, direct); a != b {
		t.Errorf("the import through the flaky source differs from the direct one")
	}
}

func testImportInterrupted(t *testing.T, prod *testserver.Server) {
	proxy := startFlakyProxy(t, prod.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	proxy.at, proxy.atFn = 30, cancel // in the middle of the sales units' details

	dir := t.TempDir()
	out := filepath.Join(dir, "account.yaml")
	if err := os.WriteFile(out, []byte("previous import\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(ctx, importArgs(proxy.URL, out, prodPartnerKeys), func(string) string { return "" }, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want 1 and interrupted", code, stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files after the interruption, want only the previous file", len(entries))
	}
	if data, _ := os.ReadFile(out); string(data) != "previous import\n" {
		t.Errorf("the previous file was changed: %q", data)
	}
}

func testImportErrors(t *testing.T, prod *testserver.Server) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()
	html := startStatic(t, http.StatusOK, "text/html", "<html><body>Welcome to nginx!</body></html>")
	notFound := startStatic(t, http.StatusNotFound, "text/plain", "404 page not found")
	wrongSecret := prodPartnerKeys
	wrongSecret.ClientSecret = "wrong-secret-DO-NOT-LEAK"
	wrongSub := prodPartnerKeys
	wrongSub.SubscriptionKey = "wrong-sub-DO-NOT-LEAK"
	wrongMgmt := prodMgmtKeys
	wrongMgmt.ClientSecret = "wrong-DO-NOT-LEAK"

	dir := t.TempDir()
	out := filepath.Join(dir, "account.yaml")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong secret", importArgs(prod.URL, out, wrongSecret), 1, "refused the keys"},
		{"wrong subscription key", importArgs(prod.URL, out, wrongSub), 1, "refused the keys"},
		{"wrong management keys", importArgs(prod.URL, out, wrongMgmt), 1, "refused the keys"},
		{"merchant keys cannot read price packages", importArgs(prod.URL, out, prodMerchantKeys), 1, "import needs partner or management keys"},
		{"unreachable", importArgs(closedURL, out, prodPartnerKeys), 1, "cannot reach " + closedURL},
		{"not an API", importArgs(html, out, prodPartnerKeys), 1, "does not answer like the Vipps MobilePay API"},
		{"nothing there", importArgs(notFound, out, prodPartnerKeys), 1, "does not answer like the Vipps MobilePay API"},
		{"no out", []string{"import", "--base-url", prod.URL, "--client-id", "x", "--client-secret", "y", "--subscription-key", "z"}, 2, "needs --out"},
		{"no subscription key", []string{"import", "--base-url", prod.URL, "--client-id", "x", "--client-secret", "y", "--out", out}, 2, "--management"},
		{"concurrency", importArgs(prod.URL, out, prodPartnerKeys, "--concurrency", "0"), 2, "--concurrency must be 1 to 32"},
		{"partner id", importArgs(prod.URL, out, prodPartnerKeys, "--partner-id", "no spaces"), 2, "--partner-id"},
		{"bad base URL", importArgs("ftp://example", out, prodPartnerKeys), 2, "must be an http or https URL"},
		{"missing directory", importArgs(prod.URL, filepath.Join(dir, "missing", "a.yaml"), prodPartnerKeys), 1, "cannot write " + filepath.Join(dir, "missing", "a.yaml")},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, nil, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, c.code, c.want)
			}
			if c.code == 1 && (strings.Count(stderr, "\n") != 1 || stdout != "") {
				t.Errorf("want one line on stderr and nothing on stdout, got %q and %q", stderr, stdout)
			}
			checkNoSecrets(t, "stderr", stderr)
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// startStatic serves the same answer to every request, like a web server that is not the API.
func startStatic(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// Keys from the environment work, and -h does not show them.
func TestImportKeysFromEnvironment(t *testing.T) {
	env := map[string]string{"VIPPSMGMT_CLIENT_ID": prodPartnerKeys.ClientID, "VIPPSMGMT_CLIENT_SECRET": prodPartnerKeys.ClientSecret,
		"VIPPSMGMT_SUBSCRIPTION_KEY": prodPartnerKeys.SubscriptionKey}
	stdout, stderr, code := runCLI(t, env, "import", "-h")
	if code != 0 || !strings.Contains(stderr, "--out FILE") {
		t.Errorf("import -h: exit %d, %q", code, stderr)
	}
	checkNoSecrets(t, "import -h", stdout+stderr)
	cfg, err := parseImport([]string{"--out", "x.yaml"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.clientSecret != prodPartnerKeys.ClientSecret || cfg.subscriptionKey != prodPartnerKeys.SubscriptionKey || cfg.baseURL != client.ProductionURL {
		t.Errorf("parseImport with the keys in the environment: %+v, %v", cfg, err)
	}
	cfg, err = parseImport([]string{"--out", "x.yaml", "--client-secret", "flag"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.clientSecret != "flag" {
		t.Errorf("the flag must win over the environment: %+v, %v", cfg, err)
	}
}

func TestImportProgressOnTerminalOnly(t *testing.T) {
	if progressWriter(&bytes.Buffer{}) != nil {
		t.Error("progress shown on a buffer")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if progressWriter(f) != nil {
		t.Error("progress shown on a regular file")
	}
	var buf bytes.Buffer
	p := newProgress(&buf, "sales units", 3)
	for range 3 {
		p.step()
	}
	p.finish()
	if got := buf.String(); !strings.HasPrefix(got, "\r1/3 sales units") || !strings.HasSuffix(got, "\r3/3 sales units\n") {
		t.Errorf("progress wrote %q", got)
	}
}

// TestImportLarge imports an account of -import-units sales units (make import-bench) and
// prints the time, the CPU time, and the requests the source counted in its metrics.
func TestImportLarge(t *testing.T) {
	n := *importUnits
	if n == 0 {
		t.Skip("run with -import-units N (make import-bench)")
	}
	acc := prodFixture(n)
	t0 := time.Now()
	prod := startProduction(t, acc)
	seeded := time.Since(t0)
	out := filepath.Join(t.TempDir(), "account.yaml")
	before := servedRequests(t, prod.URL)
	cpu0 := cputime.Process()
	t1 := time.Now()
	stdout, stderr, code := runCLI(t, nil, importArgs(prod.URL, out, prodPartnerKeys)...)
	took, cpu := time.Since(t1), cputime.Process()-cpu0
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	served := servedRequests(t, prod.URL) - before
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t2 := time.Now()
	partner, _ := importedKeys(t, out)
	twin := testserver.Start(t, "sqlite", testserver.Options{NoDemo: true, Fixtures: []string{out}})
	loaded := time.Since(t2)
	var pu, tu []client.MsnInfo
	newAPIReader(t, prod.URL, prodPartnerKeys).json("/management/v1/sales-units", &pu)
	newAPIReader(t, twin.URL, partner).json("/management/v1/sales-units", &tu)
	if !slices.Equal(pu, tu) {
		t.Errorf("the twin lists %d sales units, production %d, or they differ", len(tu), len(pu))
	}
	fmt.Printf("import of an account of %d sales units (%d visible), %d merchants, %d product orders:\n", n, len(pu), len(acc.doc.Merchants), len(acc.ids))
	fmt.Printf("  production seeded from its fixture in %s\n", seeded.Round(time.Millisecond))
	fmt.Printf("  import: %s wall, %s CPU of this process (importer and source server together), %d requests served by the source, file %d bytes\n",
		took.Round(time.Millisecond), cpu.Round(time.Millisecond), served, st.Size())
	fmt.Printf("  twin started from the imported file in %s\n", loaded.Round(time.Millisecond))
	fmt.Print(stdout)
}

// servedRequests sums the server's request counter, its own /metrics scrapes left out.
func servedRequests(t testing.TB, base string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "vippsmgmt_http_requests_total{") || strings.Contains(line, "metrics") {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		sum += int64(v)
	}
	if sum == 0 && resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	return sum
}

// buildDocument keeps what the twin can hold and counts what it cannot, instead of writing a
// file that does not load.
func TestBuildDocumentLeavesOutWhatCannotBeRecreated(t *testing.T) {
	no := client.BusinessIdentifier{Scheme: vippsmgmt.SchemeNOOrg, Id: "987654325"}
	dk := client.BusinessIdentifier{Scheme: vippsmgmt.SchemeDKCVR, Id: "38472615"}
	odd := client.BusinessIdentifier{Scheme: "business:XYZ", Id: "1234-5"}
	typ := func(s client.ProductOrderType) *client.ProductOrderType { return &s }
	prod := func(s client.ProductType) *client.ProductType { return &s }
	id := func(n int) *client.UUID {
		u, _ := client.ParseUUID(fmt.Sprintf("5e0a1b2c-0000-4000-8000-%012d", n))
		return &u
	}
	order := func(n int, bi client.BusinessIdentifier, st client.ProductOrderStatus, su *client.ProductOrderSalesUnit) *client.ProductOrderDetails {
		return &client.ProductOrderDetails{ProductOrderId: id(n), ProductOrderType: typ(client.ProductOrderTypePrefill), ProductType: prod(client.ProductTypeCheckout),
			Status: st, BusinessIdentifier: bi, SalesUnit: su}
	}
	acc := &sourceAccount{
		units: []*client.SalesUnit{
			{Msn: "100001", Name: "Visible", BusinessIdentifier: no},
			nil, // went away between the list and its details
			{Msn: "100003", Name: "Unreadable merchant's unit", BusinessIdentifier: dk},
		},
		merchants: map[client.BusinessIdentifier]*client.Merchant{
			no: {BusinessIdentifier: no, Name: "Visible AS", Status: client.MerchantStatusActive, CountryCode: "NO"},
			dk: nil, odd: nil,
		},
		orders: []*client.ProductOrderDetails{
			order(1, no, client.StatusCompleted, &client.ProductOrderSalesUnit{Msn: "100001", Name: "Visible"}),
			order(2, dk, client.StatusCompleted, &client.ProductOrderSalesUnit{Msn: "100001", Name: "Visible"}), // another merchant's unit
			order(3, odd, client.StatusCompleted, &client.ProductOrderSalesUnit{Msn: "200000", Name: "Hidden"}),
			order(4, no, client.StatusCompleted, nil),                                      // completed without its unit
			{ProductOrderId: id(5), Status: client.StatusReceived, BusinessIdentifier: no}, // no type
			nil, // deleted meanwhile
			order(7, no, client.StatusReceived, nil),
		},
		ordersGone: 1, ordersWithout: 1,
	}
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	doc, sum := buildDocument(acc, "p", newLocalKeys(), start)
	want := importSummary{units: 2, hiddenUnits: 1, merchants: 3, standIns: 2, orders: map[string]int{"COMPLETED": 2, "RECEIVED": 1}, ordersTotal: 3,
		unitsGone: 1, ordersGone: 1, ordersIncomplete: 3, ordersInconsistent: 1}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	var buf bytes.Buffer
	if err := fixtures.Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	set, err := fixtures.Parse("built.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("the built document does not parse: %v\n%s", err, buf.String())
	}
	if got := set.Merchants[2]; got.Name != "Hidden" || got.CountryCode != "NO" || got.SalesUnits[0].Status != vippsmgmt.SalesUnitInactive || got.SalesUnits[0].PartnerID != nil {
		t.Errorf("stand-in for the hidden unit's merchant: %+v %+v", got.Merchant, got.SalesUnits[0].SalesUnit)
	}
	if got := set.Merchants[1]; got.Name != "Unreadable merchant's unit" || got.CountryCode != "DK" || got.Status != vippsmgmt.MerchantActive {
		t.Errorf("stand-in for the unreadable merchant: %+v", got.Merchant)
	}
	// Newest first, a millisecond apart, counting back from the start.
	for i, o := range set.ProductOrders {
		if wantAt := start.Add(-time.Duration(i) * time.Millisecond); !o.CreatedAt.Equal(wantAt) {
			t.Errorf("order %d created %v, want %v", i, o.CreatedAt, wantAt)
		}
	}
	if ids := []string{set.ProductOrders[0].ID, set.ProductOrders[1].ID, set.ProductOrders[2].ID}; ids[0] != id(1).String() || ids[1] != id(3).String() || ids[2] != id(7).String() {
		t.Errorf("orders kept %v", ids)
	}
}
