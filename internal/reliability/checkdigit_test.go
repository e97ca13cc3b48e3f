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
func wantField(t *testing.T, name string, r reply, field string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != problemJSON {
		t.Errorf("%s: %d %s %s, want 400 naming %s", name, r.status, r.header.Get("Content-Type"), r.body, field)
		return
	}
	p := r.problem(t)
	named := false
	for _, d := range p.ExtraDetails {
		named = named || d.Key == field
	}
	if !named || !strings.Contains(p.Detail, field) {
		t.Errorf("%s: problem does not name %s: %s", name, field, r.body)
	}
}

// TestWrongCheckDigitsAreRefused: a business identifier whose check digit is wrong is a 400 naming
// the field at every door of the API (the prefill, the operator API's merchants and sales units)
// and nothing is stored; a lookup of one is a 400 naming the path parameter, not a 404 that would
// read as "no such merchant".
func TestWrongCheckDigitsAreRefused(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := api{t: t, base: srv.URL}
	partner := a.classic(fixtures.DemoPartnerKeys)
	merchant := a.classic(fixtures.DemoMerchantKeys)
	adm := adminHeaders(testserver.AdminToken)
	ordersBefore := len(a.adminOrders(""))

	for i, c := range wrongCheckDigits {
		name := c.scheme + " " + c.id
		wantField(t, name+": prefill", a.do("POST", "/management/v1/product-orders", prefillBody(c.scheme, c.id, "CHECKOUT", "Check Shop"),
			append(partner, "Idempotency-Key", fmt.Sprint("check-", i))...), "businessIdentifier.id")
		wantField(t, name+": operator merchant", a.do("POST", "/admin/v1/merchants",
			fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"name":"Check AS"}`, c.scheme, c.id), adm...), "businessIdentifier.id")
		wantField(t, name+": operator sales unit", a.do("POST", "/admin/v1/sales-units",
			fmt.Sprintf(`{"msn":"%d","name":"Check Unit","businessIdentifier":{"scheme":%q,"id":%q}}`, 880000+i, c.scheme, c.id), adm...), "businessIdentifier.id")
		path := "/management/v1/merchants/" + url.PathEscape(c.scheme) + "/" + url.PathEscape(c.id)
		for _, p := range []string{path, path + "/sales-units"} {
			wantField(t, "GET "+p+" as partner", a.do("GET", p, nil, partner...), "id")
			wantField(t, "GET "+p+" as merchant", a.do("GET", p, nil, merchant...), "id")
		}
	}
	wantField(t, "short scheme", a.do("GET", "/management/v1/merchants/ORG/987654325", nil, partner...), "scheme")

	if n := len(a.adminOrders("")); n != ordersBefore {
		t.Errorf("%d orders after refused prefills, want %d", n, ordersBefore)
	}
	for _, c := range wrongCheckDigits {
		var ms []struct{ BusinessIdentifier struct{ Scheme, ID string } }
		a.admin("GET", "/admin/v1/merchants?q="+url.QueryEscape(c.id), nil, 200).json(t, &ms)
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
		r := a.do("GET", "/management/v1/merchants/"+c.scheme+"/"+c.id, nil, partner...)
		if r.status != c.status {
			t.Errorf("GET %s %s: %d %s, want %d", c.scheme, c.id, r.status, r.body, c.status)
		}
	}
	r := a.do("POST", "/admin/v1/merchants", `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"923609016"},"name":"Equinor ASA"}`, adm...)
	expect(t, r, http.StatusCreated, "application/json")
}
