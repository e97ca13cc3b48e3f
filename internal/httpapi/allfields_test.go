package httpapi_test

import (
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestEveryInvalidFieldInOneAnswer: a prefill with faults the contract's schema finds and faults
// only the domain's rules find is answered once, naming all of them, one extraDetails entry per
// field, so a partner fixes the body in one round instead of one field per try.
func TestEveryInvalidFieldInOneAnswer(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := api{t: t, base: srv.URL}
	auth := append(a.classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "all-fields-at-once")

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
			r := a.do("POST", "/management/v1/product-orders", tc.body, auth...)
			expect(t, r, 400, "application/problem+json")
			var p problem
			r.json(t, &p)
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
