package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestPrefillBodies: the prefill's body, decoded once by the handler and judged once by the
// domain's rules, answers every fault of the contract's schema as a 400 naming the field, and
// stores nothing it refuses.
func TestPrefillBodies(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := api{t: t, base: srv.URL}
	auth := a.classic(fixtures.DemoPartnerKeys)
	const good = `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"PAYMENT_INTEGRATION","salesUnitName":"ACME Fitness","annualTurnoverPercentage":"40"}`
	orders := func() int {
		var list []any
		a.do("GET", "/admin/v1/product-orders", nil, admin()...).json(t, &list)
		return len(list)
	}
	before := orders()
	for i, tc := range []struct {
		name, body string
		status     int
		fields     map[string]string // field → a word of its reason
	}{
		{"missing required members", `{}`, 400, map[string]string{"businessIdentifier": "required", "productType": "required"}},
		{"missing nested member", `{"businessIdentifier":{"scheme":"business:NO:ORG"},"productType":"LOGIN"}`, 400, map[string]string{"businessIdentifier.id": "required"}},
		{"wrong enum", strings.Replace(good, "PAYMENT_INTEGRATION", "VIPPS_PA_NETT", 1), 400, map[string]string{"productType": "one of"}},
		{"wrong type", strings.Replace(good, `"annualTurnoverPercentage":"40"`, `"annualTurnover":"lots"`, 1), 400, map[string]string{"annualTurnover": "integer"}},
		{"wrong nested type", strings.Replace(good, `"salesUnitName"`, `"website":{"url":["https://a.example"],"termsUrl":"https://a.example/t"},"salesUnitName"`, 1), 400, map[string]string{"website.url": "string"}},
		{"bad pattern", strings.Replace(good, "ACME Fitness", "ACME Fitness!", 1), 400, map[string]string{"salesUnitName": "letters"}},
		{"bad uuid", strings.Replace(good, `"salesUnitName"`, `"pricePackageId":"nope","salesUnitName"`, 1), 400, map[string]string{"pricePackageId": "UUID"}},
		{"several faults", `{"businessIdentifier":{"scheme":"x","id":"1"},"productType":"X","annualTurnover":-1}`, 400,
			map[string]string{"businessIdentifier.scheme": "10 to 30", "businessIdentifier.id": "digits", "productType": "one of", "annualTurnover": "between"}},
		{"null for a required member", `{"businessIdentifier":null,"productType":"LOGIN"}`, 400, map[string]string{"businessIdentifier": "null"}},
		{"bad mcc", strings.Replace(good, "{", `{"merchantCategoryCode":"59a2",`, 1), 400, map[string]string{"merchantCategoryCode": "four digits"}},
		{"control character and pattern in one field", strings.Replace(good, "ACME Fitness", `ACME\u001bFitness`, 1), 400, map[string]string{"salesUnitName": "control characters"}},
		{"unknown member", strings.Replace(good, "{", `{"futureMember":{"a":[1,2]},`, 1), 201, nil},
		{"null for nullable members", strings.Replace(good, `"salesUnitName":"ACME Fitness"`, `"salesUnitName":null,"website":null`, 1), 201, nil},
		{"mcc as a number", strings.Replace(good, "{", `{"merchantCategoryCode":5942,`, 1), 201, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", "/management/v1/product-orders", tc.body, append(auth, "Idempotency-Key", fmt.Sprint("bodies-", i))...)
			if tc.status != 400 {
				expect(t, r, tc.status, "")
				return
			}
			expect(t, r, 400, "application/problem+json")
			var p struct {
				Detail       string
				ExtraDetails []struct{ Key, Value string }
			}
			r.json(t, &p)
			got := map[string]string{}
			for _, e := range p.ExtraDetails {
				if _, twice := got[e.Key]; twice {
					t.Errorf("%s named twice: %+v", e.Key, p.ExtraDetails)
				}
				got[e.Key] = e.Value
			}
			if len(got) != len(tc.fields) {
				t.Errorf("extraDetails %+v, want the fields %v", p.ExtraDetails, tc.fields)
			}
			for field, word := range tc.fields {
				if !strings.Contains(got[field], word) {
					t.Errorf("%s: %q, want it to contain %q", field, got[field], word)
				}
				if !strings.Contains(p.Detail, field) && len(tc.fields) <= 3 {
					t.Errorf("detail %q does not name %s", p.Detail, field)
				}
			}
		})
	}
	if n := orders(); n != before+3 {
		t.Errorf("%d orders stored, want the 3 accepted", n-before)
	}
}

// TestPrefillReplayIgnoresFormatting: "the same request" is the same decoded request, so a retry
// that formats the body differently (white space, member order, the MCC as a number) replays the
// first answer, and one that changes a value is a conflict.
func TestPrefillReplayIgnoresFormatting(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := api{t: t, base: srv.URL}
	auth := append(a.classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "formatting")
	first := a.do("POST", "/management/v1/product-orders",
		`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","merchantCategoryCode":"5942"}`, auth...)
	expect(t, first, http.StatusCreated, "application/json")
	again := a.do("POST", "/management/v1/product-orders",
		"{\n  \"merchantCategoryCode\": 5942,\n  \"productType\": \"CHECKOUT\",\n  \"businessIdentifier\": {\"id\": \"987654325\", \"scheme\": \"business:NO:ORG\"}\n}", auth...)
	expect(t, again, http.StatusCreated, "application/json")
	if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
		t.Errorf("reformatted retry: %s %s, want the first answer replayed: %s", again.header.Get("Idempotent-Replayed"), again.body, first.body)
	}
	other := a.do("POST", "/management/v1/product-orders",
		`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","merchantCategoryCode":"5943"}`, auth...)
	expect(t, other, http.StatusConflict, "application/problem+json")
}
