package reliability

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestControlCharactersAreRefused sends a NUL byte and other control characters in bodies, paths
// and query strings of the Management and operator APIs: each is a 400 naming the field, the same
// on both databases, and nothing is stored.
func TestControlCharactersAreRefused(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, _ string, srv *testserver.Server) {
		a := srv.Client(t)
		mgmt := append(a.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "ctl-1")
		adm := testserver.AdminHeaders(testserver.AdminToken)
		field := func(name string, r testserver.Reply, want string) {
			t.Helper()
			r.Expect(t, http.StatusBadRequest, problemJSON)
			p := r.Problem(t)
			if !strings.Contains(p.Detail, want) {
				t.Errorf("%s: detail %q does not name %s", name, p.Detail, want)
			}
		}
		before := len(adminOrders(a, ""))
		field("NUL in scheme", a.Do("POST", "/management/v1/product-orders",
			strings.Replace(prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Nul Shop"), `ORG"`, `ORG\u0000"`, 1), mgmt...), "businessIdentifier.scheme")
		field("escape in name", a.Do("POST", "/management/v1/product-orders",
			strings.Replace(prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Shop"), `"Shop"`, `"Shop\u001b[31m"`, 1), mgmt...), "salesUnitName")
		field("NUL in intendedPurpose", a.Do("POST", "/management/v1/product-orders",
			strings.Replace(prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Shop"), `"productType"`, `"intendedPurpose":"a\u0000b","productType"`, 1), mgmt...), "intendedPurpose")
		if n := len(adminOrders(a, "")); n != before {
			t.Fatalf("%d orders after refused prefills, want %d", n, before)
		}
		// Line breaks are fine in free text.
		r := a.Do("POST", "/management/v1/product-orders",
			strings.Replace(prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Shop"), `"productType"`, `"intendedPurpose":"line one\nline two","productType"`, 1),
			append(mgmt[:len(mgmt)-1:len(mgmt)-1], "ctl-2")...)
		r.Expect(t, http.StatusCreated, "")

		field("NUL in merchant name", a.Do("POST", "/admin/v1/merchants",
			`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"123456785"},"name":"Null\u0000 AS"}`, adm...), "name")
		field("NUL in path", a.Do("GET", "/management/v1/sales-units/"+url.PathEscape("1234\x00"), nil, mgmt...), "path")
		field("NUL in path parameter", a.Do("GET", "/admin/v1/sales-units/"+url.PathEscape("12\x0034"), nil, adm...), "")
		field("NUL in business id path", a.Do("GET", "/management/v1/merchants/"+url.PathEscape("business:NO:ORG\x00")+"/987654325/sales-units", nil, mgmt...), "")
	})
}

// TestDuplicateJSONNamesAreRefused: a body naming one member twice, or in two spellings that
// differ only in case, is a 400 naming it, never validated as one value and stored as the other.
func TestDuplicateJSONNamesAreRefused(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	mgmt := append(a.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "dup-1")
	base := prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Dup Shop")
	for name, body := range map[string]string{
		"case variant":      strings.Replace(base, `"productType":"CHECKOUT"`, `"productType":"CHECKOUT","PRODUCTTYPE":"LOGIN"`, 1),
		"exact duplicate":   strings.Replace(base, `"productType":"CHECKOUT"`, `"productType":"CHECKOUT","productType":"LOGIN"`, 1),
		"nested duplicate":  strings.Replace(base, `"scheme":"business:NO:ORG"`, `"scheme":"business:NO:ORG","Scheme":"business:DK:CVR"`, 1),
		"duplicate in list": strings.Replace(base, `"productType":"CHECKOUT"`, `"productType":"CHECKOUT","website":{"url":"https://a.example","URL":"https://b.example","termsUrl":"https://a.example/t"}`, 1),
	} {
		r := a.Do("POST", "/management/v1/product-orders", body, mgmt...)
		if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != problemJSON {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
			continue
		}
		if p := r.Problem(t); !strings.Contains(p.Detail, "more than once") {
			t.Errorf("%s: detail %q", name, p.Detail)
		}
	}
	for _, o := range adminOrders(a, "") {
		if o.ProductType == "LOGIN" && o.Details["salesUnitName"] == "Dup Shop" {
			t.Fatalf("an order was stored as LOGIN: %+v", o)
		}
	}
}

// TestWrongValuesAreRefused: values the contract's patterns let through but no real merchant has
// are 400 problems naming the field, and nothing is stored.
func TestWrongValuesAreRefused(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	mgmt := a.Classic(fixtures.DemoPartnerKeys)
	base := prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Good Shop")
	before := len(adminOrders(a, ""))
	for i, c := range []struct{ name, body, field string }{
		{"blank name", strings.Replace(base, `"Good Shop"`, `"   "`, 1), "salesUnitName"},
		{"name with CR/LF", strings.Replace(base, `"Good Shop"`, `"Good\r\nShop"`, 1), "salesUnitName"},
		{"IBAN", strings.Replace(base, `"BBAN:NO"`, `"IBAN:XX"`, 1), "settlementBankAccount.scheme"},
		{"quote in URL", strings.Replace(base, `"https://shop.example"`, `"https://shop.example/\"onmouseover=x"`, 1), "website.url"},
		{"angle bracket in URL", strings.Replace(base, `"https://shop.example/terms"`, `"https://shop.example/<b>"`, 1), "website.termsUrl"},
	} {
		r := a.Do("POST", "/management/v1/product-orders", c.body, append(mgmt, "Idempotency-Key", fmt.Sprint("wrong-", i))...)
		r.Expect(t, http.StatusBadRequest, problemJSON)
		if p := r.Problem(t); !strings.Contains(p.Detail, c.field) {
			t.Errorf("%s: detail %q does not name %s", c.name, p.Detail, c.field)
		}
	}
	latin1 := append(append([]string{}, mgmt...), "Idempotency-Key", "latin1", "Content-Type", "application/json; charset=ISO-8859-1")
	r := a.Do("POST", "/management/v1/product-orders", strings.Replace(base, "Good Shop", "Gr\xf8nn Shop", 1), latin1...)
	r.Expect(t, http.StatusBadRequest, problemJSON)
	if p := r.Problem(t); !strings.Contains(p.Detail, "Content-Type") {
		t.Errorf("charset: detail %q", p.Detail)
	}
	if n := len(adminOrders(a, "")); n != before {
		t.Fatalf("%d orders after refused prefills, want %d", n, before)
	}
}

// TestLongFreeTextIsRefused: a string the contract gives no length limit (intendedPurpose) is
// bounded too, so no order grows every list that shows it by megabytes.
func TestLongFreeTextIsRefused(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	mgmt := append(a.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "long-1")
	body := strings.Replace(prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Long Shop"), `"productType"`,
		`"intendedPurpose":"`+strings.Repeat("x", 1<<20)+`","productType"`, 1)
	r := a.Do("POST", "/management/v1/product-orders", body, mgmt...)
	r.Expect(t, http.StatusBadRequest, problemJSON)
	if p := r.Problem(t); !strings.Contains(p.Detail, "intendedPurpose") {
		t.Errorf("detail %q does not name intendedPurpose", p.Detail)
	}
	ok := strings.Replace(prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Long Shop"), `"productType"`,
		`"intendedPurpose":"`+strings.Repeat("x", 2000)+`","productType"`, 1)
	a.Do("POST", "/management/v1/product-orders", ok, append(mgmt[:len(mgmt)-1:len(mgmt)-1], "long-2")...).Expect(t, http.StatusCreated, "")
}

// TestWrongValuesAreRefusedByTheOperatorAPI: the same wrong values through the operator API's own
// doors (a sales unit's name when created, renamed or submitted, a body in another charset), and
// fields the operation does not have, are 400 problems naming the field, and nothing changes.
func TestWrongValuesAreRefusedByTheOperatorAPI(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	adm := testserver.AdminHeaders(testserver.AdminToken)
	var created struct{ PrefilledOrderID string }
	a.Do("POST", "/management/v1/product-orders", prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Operator Shop"),
		append(a.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "op-1")...).JSON(t, &created)
	unit := func(name string) string {
		return fmt.Sprintf(`{"msn":"770001","name":%q,"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"}}`, name)
	}
	for _, c := range []struct {
		name, method, path, body, field string
		headers                         []string
	}{
		{"blank new unit", "POST", "/admin/v1/sales-units", unit("   "), "name", adm},
		{"new unit with CR/LF", "POST", "/admin/v1/sales-units", unit("Good\r\nUnit"), "name", adm},
		{"blank rename", "PATCH", "/admin/v1/sales-units/" + fixtures.DemoMSN, `{"name":" \t "}`, "name", adm},
		{"rename with CR/LF", "PATCH", "/admin/v1/sales-units/" + fixtures.DemoMSN, `{"name":"Good\nUnit"}`, "name", adm},
		{"IBAN account", "POST", "/admin/v1/sales-units", strings.Replace(unit("IBAN Unit"), `}}`, `},"settlementBankAccount":{"scheme":"IBAN:XX","id":"12345678903"}}`, 1), "settlementBankAccount.scheme", adm},
		{"blank submitted name", "POST", "/admin/v1/product-orders/" + created.PrefilledOrderID + "/submit", `{"salesUnitName":"  "}`, "salesUnitName", adm},
		// A misspelt field would otherwise be a silent success that changed nothing.
		{"unknown field on rename", "PATCH", "/admin/v1/sales-units/" + fixtures.DemoMSN, `{"nmae":"Other Unit"}`, "nmae", adm},
		{"field of another operation", "PATCH", "/admin/v1/sales-units/" + fixtures.DemoMSN, `{"name":"Other Unit","settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"}}`, "settlementBankAccount", adm},
		{"unknown nested field", "POST", "/admin/v1/faults", `{"match":{"operationId":"getMsn","stauts":1},"effect":{"status":503}}`, "match.stauts", adm},
		{"Latin-1 merchant", "POST", "/admin/v1/merchants", "{\"businessIdentifier\":{\"scheme\":\"business:NO:ORG\",\"id\":\"923609016\"},\"name\":\"Gr\xc3\xb8nn AS\"}", "Content-Type",
			append(adm, "Content-Type", "application/json; charset=ISO-8859-1")},
	} {
		r := a.Do(c.method, c.path, c.body, c.headers...)
		r.Expect(t, http.StatusBadRequest, problemJSON)
		if p := r.Problem(t); !strings.Contains(p.Detail, c.field) {
			t.Errorf("%s: detail %q does not name %s", c.name, p.Detail, c.field)
		}
	}
	a.Admin("GET", "/admin/v1/sales-units/770001", nil, http.StatusNotFound)
	var su struct{ Name string }
	a.Admin("GET", "/admin/v1/sales-units/"+fixtures.DemoMSN, nil, http.StatusOK).JSON(t, &su)
	if su.Name != "ACME Fantastic Fitness" {
		t.Errorf("demo sales unit renamed to %q", su.Name)
	}
	for _, o := range adminOrders(a, "") {
		if o.ProductOrderID == created.PrefilledOrderID && o.Status != "RECEIVED" {
			t.Errorf("order %s after a refused submit", o.Status)
		}
	}
	var ms []struct{ Name string }
	a.Admin("GET", "/admin/v1/merchants?q=923609016", nil, http.StatusOK).JSON(t, &ms)
	if len(ms) != 0 {
		t.Errorf("a Latin-1 merchant was stored: %+v", ms)
	}
}

// wrongCheckDigits are identifiers one digit away from the demo merchants': the right form, the
// wrong check digit.
var wrongCheckDigits = []struct{ scheme, id string }{
	{"business:NO:ORG", "987654321"},      // 987654325
	{"business:DK:CVR", "38472616"},       // 38472615
	{"business:FI:Y-tunnus", "2914376-8"}, // 2914376-9
	{"business:FI:Y-tunnus", "0112038-0"}, // 0112038-9
	{"business:NO:ORG", "98765432"},       // one digit short
	{"business:DK:CVR", "08472615"},       // a CVR number never starts with 0
	{"business:FI:Y-tunnus", "29143769"},  // no dash
	{"business:NO:ORG", "9876543221"},     // ten digits
	{"business:FI:Y-tunnus", "1234568-1"}, // remainder 1: no check digit exists
	{"business:NO:ORG", "900000090"},      // 11 − sum mod 11 = 10: never issued
	{"business:DK:CVR", "38472020"},       // 11 − sum mod 11 = 10: never issued
}

// wantField checks a 400 problem that names field in its detail and in extraDetails.
func wantField(t *testing.T, name string, r testserver.Reply, field string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != problemJSON {
		t.Errorf("%s: %d %s %s, want 400 naming %s", name, r.Status, r.Header.Get("Content-Type"), r.Body, field)
		return
	}
	p := r.Problem(t)
	named := false
	for _, d := range p.ExtraDetails {
		named = named || d.Key == field
	}
	if !named || !strings.Contains(p.Detail, field) {
		t.Errorf("%s: problem does not name %s: %s", name, field, r.Body)
	}
}

// TestWrongCheckDigitsAreRefused: a business identifier whose check digit is wrong is a 400 naming
// the field at every door of the API (the prefill, the operator API's merchants and sales units)
// and nothing is stored; a lookup of one is a 400 naming the path parameter, not a 404 that would
// read as "no such merchant".
func TestWrongCheckDigitsAreRefused(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	partner := a.Classic(fixtures.DemoPartnerKeys)
	merchant := a.Classic(fixtures.DemoMerchantKeys)
	adm := testserver.AdminHeaders(testserver.AdminToken)
	ordersBefore := len(adminOrders(a, ""))

	for i, c := range wrongCheckDigits {
		name := c.scheme + " " + c.id
		wantField(t, name+": prefill", a.Do("POST", "/management/v1/product-orders", prefillBody(c.scheme, c.id, "CHECKOUT", "Check Shop"),
			append(partner, "Idempotency-Key", fmt.Sprint("check-", i))...), "businessIdentifier.id")
		wantField(t, name+": operator merchant", a.Do("POST", "/admin/v1/merchants",
			fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"name":"Check AS"}`, c.scheme, c.id), adm...), "businessIdentifier.id")
		wantField(t, name+": operator sales unit", a.Do("POST", "/admin/v1/sales-units",
			fmt.Sprintf(`{"msn":"%d","name":"Check Unit","businessIdentifier":{"scheme":%q,"id":%q}}`, 880000+i, c.scheme, c.id), adm...), "businessIdentifier.id")
		path := "/management/v1/merchants/" + url.PathEscape(c.scheme) + "/" + url.PathEscape(c.id)
		for _, p := range []string{path, path + "/sales-units"} {
			wantField(t, "GET "+p+" as partner", a.Do("GET", p, nil, partner...), "id")
			wantField(t, "GET "+p+" as merchant", a.Do("GET", p, nil, merchant...), "id")
		}
	}
	wantField(t, "short scheme", a.Do("GET", "/management/v1/merchants/ORG/987654325", nil, partner...), "scheme")

	if n := len(adminOrders(a, "")); n != ordersBefore {
		t.Errorf("%d orders after refused prefills, want %d", n, ordersBefore)
	}
	for _, c := range wrongCheckDigits {
		var ms []struct{ BusinessIdentifier struct{ Scheme, ID string } }
		a.Admin("GET", "/admin/v1/merchants?q="+url.QueryEscape(c.id), nil, 200).JSON(t, &ms)
		for _, m := range ms {
			if m.BusinessIdentifier.ID == c.id {
				t.Errorf("merchant %s %s stored", m.BusinessIdentifier.Scheme, c.id)
			}
		}
	}

	// The right numbers pass: the demo merchants are found, a valid number of an organisation the
	// caller cannot see is the usual 404, and a scheme without a known check digit is only held to
	// the contract's pattern.
	for _, c := range []struct {
		scheme, id string
		status     int
	}{
		{"business:NO:ORG", "987654325", 200},
		{"business:DK:CVR", "38472615", 200},
		{"business:FI:Y-tunnus", "2914376-9", 200},
		{"business:NO:ORG", "923609016", 404}, // Equinor ASA: valid, not a merchant here
		{"business:SE:ORG", "5560360793", 404},
	} {
		r := a.Do("GET", "/management/v1/merchants/"+c.scheme+"/"+c.id, nil, partner...)
		if r.Status != c.status {
			t.Errorf("GET %s %s: %d %s, want %d", c.scheme, c.id, r.Status, r.Body, c.status)
		}
	}
	r := a.Do("POST", "/admin/v1/merchants", `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"923609016"},"name":"Equinor ASA"}`, adm...)
	r.Expect(t, http.StatusCreated, "application/json")
}
