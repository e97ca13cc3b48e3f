package vippsmgmt

import (
	"fmt"
	"strings"
	"testing"
)

func TestValidBusinessIDCheckDigit(t *testing.T) {
	for _, c := range []struct {
		scheme, id string
		want       bool
	}{
		{SchemeNOOrg, "987654325", true}, // the demo merchant
		{SchemeNOOrg, "984851006", true}, // DNB ASA
		{SchemeNOOrg, "923609016", true}, // Equinor ASA
		{SchemeNOOrg, "987654321", false},
		{SchemeNOOrg, "98765432", false},
		{SchemeNOOrg, "9876543250", false},
		{SchemeDKCVR, "38472615", true}, // the demo merchant
		{SchemeDKCVR, "24256790", true}, // Novo Nordisk A/S
		{SchemeDKCVR, "24256791", false},
		{SchemeDKCVR, "02425679", false},     // no leading zero
		{SchemeFIYTunnus, "2914376-9", true}, // the demo merchant
		{SchemeFIYTunnus, "0112038-9", true}, // Nokia Oyj
		{SchemeFIYTunnus, "0112038-8", false},
		{SchemeFIYTunnus, "01120389", false},
		{"business:SE:ORG", "5560360793", false}, // no rule known here
	} {
		if got := ValidBusinessIDCheckDigit(BusinessIdentifier{Scheme: c.scheme, ID: c.id}); got != c.want {
			t.Errorf("ValidBusinessIDCheckDigit(%s %s) = %v, want %v", c.scheme, c.id, got, c.want)
		}
	}
}

func TestCompleteBusinessID(t *testing.T) {
	for _, c := range []struct{ scheme, body, want string }{
		{SchemeNOOrg, "98765432", "987654325"},
		{SchemeDKCVR, "3847261", "38472615"},
		{SchemeFIYTunnus, "2914376", "2914376-9"},
		{SchemeNOOrg, "98765435", ""}, // 11 − sum mod 11 = 10: never issued
		{SchemeNOOrg, "9876543", ""},
		{SchemeNOOrg, "9876543x", ""},
		{SchemeDKCVR, "0847261", ""},
		{"business:SE:ORG", "556036079", ""},
	} {
		got, ok := CompleteBusinessID(c.scheme, c.body)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("CompleteBusinessID(%s, %s) = %q, %v; want %q", c.scheme, c.body, got, ok, c.want)
		}
	}

	// Every body either completes to a valid identifier that no other last digit would make valid,
	// or to none at all.
	for _, scheme := range []string{SchemeNOOrg, SchemeDKCVR, SchemeFIYTunnus} {
		width := len(checkDigitRules[scheme].weights)
		completed := 0
		for n := range 2000 {
			body := fmt.Sprintf("%0*d", width, 1000003*n+7)[:width]
			id, ok := CompleteBusinessID(scheme, body)
			if !ok {
				continue
			}
			completed++
			if !ValidBusinessIDCheckDigit(BusinessIdentifier{Scheme: scheme, ID: id}) {
				t.Fatalf("%s %s from CompleteBusinessID is not valid", scheme, id)
			}
			for d := '0'; d <= '9'; d++ {
				other := id[:len(id)-1] + string(d)
				if other != id && ValidBusinessIDCheckDigit(BusinessIdentifier{Scheme: scheme, ID: other}) {
					t.Fatalf("%s: both %s and %s pass", scheme, id, other)
				}
			}
		}
		if completed < 1500 {
			t.Errorf("%s: only %d of 2000 bodies completed", scheme, completed)
		}
	}
}

// TestBusinessIdentifierValidateCheckDigit: a wrong check digit faults the id under the caller's
// field name (the body's businessIdentifier.id, or a lookup's path parameter id), saying what the
// scheme's numbers look like; right numbers and unknown schemes pass.
func TestBusinessIdentifierValidateCheckDigit(t *testing.T) {
	for _, c := range []struct {
		field, scheme, id string
		want              []FieldError
	}{
		{"businessIdentifier", SchemeNOOrg, "987654325", nil},
		{"businessIdentifier", SchemeNOOrg, "987654321", []FieldError{{"businessIdentifier.id", businessIDCheckDigitProblem(SchemeNOOrg)}}},
		{"", SchemeNOOrg, "987654321", []FieldError{{"id", businessIDCheckDigitProblem(SchemeNOOrg)}}},
		{"", SchemeDKCVR, "24256791", []FieldError{{"id", businessIDCheckDigitProblem(SchemeDKCVR)}}},
		{"", SchemeFIYTunnus, "0112038-8", []FieldError{{"id", businessIDCheckDigitProblem(SchemeFIYTunnus)}}},
		{"", SchemeFIYTunnus, "0112038-9", nil},
		{"", "business:SE:ORG", "5560360793", nil},
		{"", "ORG", "12ab", []FieldError{{"scheme", "must be 10 to 30 characters, such as business:NO:ORG"}, {"id", "must be 4 to 50 digits or dashes"}}},
	} {
		got := BusinessIdentifier{Scheme: c.scheme, ID: c.id}.Validate(c.field)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Validate(%q) of %s %s = %v, want %v", c.field, c.scheme, c.id, got, c.want)
		}
	}
	for _, s := range []string{SchemeNOOrg, SchemeDKCVR, SchemeFIYTunnus} {
		if p := businessIDCheckDigitProblem(s); !strings.Contains(p, "check digit") {
			t.Errorf("%s: problem %q does not mention the check digit", s, p)
		}
	}
}
