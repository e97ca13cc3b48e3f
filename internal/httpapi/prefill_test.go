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
	a, auth := startPartner(t)
	const good = `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"PAYMENT_INTEGRATION","salesUnitName":"ACME Fitness","annualTurnoverPercentage":"40"}`
	orders := func() int {
		var list []any
		a.Do("GET", "/admin/v1/product-orders", nil, testserver.AdminHeaders(testserver.AdminToken)...).JSON(t, &list)
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
			r := a.Do("POST", "/management/v1/product-orders", tc.body, append(auth, "Idempotency-Key", fmt.Sprint("bodies-", i))...)
			if tc.status != 400 {
				r.Expect(t, tc.status, "")
				return
			}
			r.Expect(t, 400, "application/problem+json")
			var p struct {
				Detail       string
				ExtraDetails []struct{ Key, Value string }
			}
			r.JSON(t, &p)
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
	a := startAPI(t)
	auth := append(a.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "formatting")
	first := a.Do("POST", "/management/v1/product-orders",
		`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","merchantCategoryCode":"5942"}`, auth...)
	first.Expect(t, http.StatusCreated, "application/json")
	again := a.Do("POST", "/management/v1/product-orders",
		"{\n  \"merchantCategoryCode\": 5942,\n  \"productType\": \"CHECKOUT\",\n  \"businessIdentifier\": {\"id\": \"987654325\", \"scheme\": \"business:NO:ORG\"}\n}", auth...)
	again.Expect(t, http.StatusCreated, "application/json")
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
		t.Errorf("reformatted retry: %s %s, want the first answer replayed: %s", again.Header.Get("Idempotent-Replayed"), again.Body, first.Body)
	}
	other := a.Do("POST", "/management/v1/product-orders",
		`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","merchantCategoryCode":"5943"}`, auth...)
	other.Expect(t, http.StatusConflict, "application/problem+json")
}

// TestEveryInvalidFieldInOneAnswer: a prefill with faults the contract's schema finds and faults
// only the domain's rules find is answered once, naming all of them, one extraDetails entry per
// field, so a partner fixes the body in one round instead of one field per try.
func TestEveryInvalidFieldInOneAnswer(t *testing.T) {
	a := startAPI(t)
	auth := append(a.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "all-fields-at-once")

	type problem struct {
		Detail       string
		ExtraDetails []struct{ Key, Value string }
	}
	cases := []struct {
		name, body string
		want       map[string]string // field → a word of its reason
		detail     string
	}{
		{
			name: "schema and domain",
			// termsUrl missing (schema), url not https (domain), a salesUnitName over 40 characters
			// that also breaks the pattern (two schema rules, one field), a logo that is not a PNG
			// (domain), a price package of another partner (domain, needs the store).
			body: `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT",
				"website":{"url":"http://acme.example"},
				"salesUnitName":"` + "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" + `",
				"salesUnitLogo":"aGVsbG8=",
				"pricePackageId":"00000000-0000-4000-8000-000000000000"}`,
			want: map[string]string{
				"website.termsUrl": "required", "website.url": "https", "salesUnitName": "40",
				"salesUnitLogo": "PNG", "pricePackageId": "price packages",
			},
			detail: "5 fields are invalid: ",
		},
		{
			name:   "one domain fault",
			body:   `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","website":{"url":"http://acme.example","termsUrl":"https://acme.example/terms"}}`,
			want:   map[string]string{"website.url": "https"},
			detail: "website.url: must be an https URL.",
		},
		{
			name:   "one schema fault",
			body:   `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","website":{"url":"https://acme.example"}}`,
			want:   map[string]string{"website.termsUrl": "required"},
			detail: "website.termsUrl: is required.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Do("POST", "/management/v1/product-orders", tc.body, auth...)
			r.Expect(t, 400, "application/problem+json")
			var p problem
			r.JSON(t, &p)
			if len(p.ExtraDetails) != len(tc.want) {
				t.Errorf("%d extraDetails, want %d: %+v", len(p.ExtraDetails), len(tc.want), p.ExtraDetails)
			}
			seen := map[string]bool{}
			for _, e := range p.ExtraDetails {
				if seen[e.Key] {
					t.Errorf("field %s reported twice: %+v", e.Key, p.ExtraDetails)
				}
				seen[e.Key] = true
				word, ok := tc.want[e.Key]
				if !ok {
					t.Errorf("unexpected field %s: %s", e.Key, e.Value)
				} else if !strings.Contains(e.Value, word) {
					t.Errorf("%s: %q lacks %q", e.Key, e.Value, word)
				}
			}
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", p.Detail, tc.detail)
			}
		})
	}
}
