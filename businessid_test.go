package vippsmgmt

import (
	"fmt"
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
