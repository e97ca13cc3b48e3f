package vippsmgmt

import (
	"strings"
	"testing"
)

func TestTextProblem(t *testing.T) {
	for _, c := range []struct {
		in        string
		multiLine bool
		want      string
	}{
		{"Hygge Bageri", false, ""},
		{"Ærlig & Ødegård", false, ""},
		{"a\x00b", false, "must not contain control characters"},
		{"a\x00b", true, "must not contain control characters"},
		{"a\x1b[31m", false, "must not contain control characters"},
		{"a\u0085b", false, "must not contain control characters"},
		{"a\x7f", false, "must not contain control characters"},
		{"one\ntwo", false, "must be one line"},
		{"one\r\ntwo\tthree", true, ""},
		{"\xff", false, "must be valid UTF-8"},
	} {
		if got := TextProblem(c.in, c.multiLine); got != c.want {
			t.Errorf("TextProblem(%q, %v) = %q, want %q", c.in, c.multiLine, got, c.want)
		}
	}
}

func TestValidateRefusesControlCharactersInEveryString(t *testing.T) {
	city := "Os\x00lo"
	m := &Merchant{BusinessIdentifier: BusinessIdentifier{"business:NO:ORG", "987654325"}, Name: "ACME AS", Status: MerchantActive,
		CountryCode: "NO", BusinessAddress: &Address{Lines: []string{"Gate 1", "c/o\x01"}, City: &city}}
	err := m.Validate()
	var fields []string
	if e, ok := err.(*Error); ok {
		for _, f := range e.Fields {
			fields = append(fields, f.Field)
		}
	}
	if got := strings.Join(fields, " "); got != "businessAddress.lines[1] businessAddress.city" {
		t.Fatalf("fields %q (%v)", got, err)
	}
	purpose := "first line\nsecond line"
	d := OrderDetails{IntendedPurpose: &purpose}
	if errs := d.Validate(); len(errs) != 0 {
		t.Fatalf("multi-line intendedPurpose refused: %v", errs)
	}
	name := "Shop\r\nInjected: yes"
	d = OrderDetails{SalesUnitName: &name}
	if errs := d.Validate(); len(errs) == 0 {
		t.Fatal("a sales unit name with CR/LF passed")
	}
}
