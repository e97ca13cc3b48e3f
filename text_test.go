package vippsmgmt

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// TestCheckTextNamesPaths: every string is found, however deep, and named by its path of JSON
// names, indexes and map keys under the prefix.
func TestCheckTextNamesPaths(t *testing.T) {
	type inner struct {
		Note  string            `json:"note"`
		Lines []string          `json:"lines"`
		Tags  map[string]string `json:"tags"`
	}
	type Embedded struct {
		Flat string `json:"flat"`
	}
	type outer struct {
		Embedded
		ID     string   `json:"id"`
		Inner  *inner   `json:"inner"`
		List   []inner  `json:"list"`
		Hidden string   `json:"-"`
		Raw    []byte   `json:"raw"`
		Reason string   `json:"reason"`
		Items  []*inner `json:"items"`
		OrgID  string
	}
	bad := "a\x00b"
	v := &outer{
		Embedded: Embedded{Flat: bad}, ID: "ok", Inner: &inner{Note: bad, Lines: []string{"ok", bad}, Tags: map[string]string{"k": bad}},
		List: []inner{{}, {Note: bad}}, Hidden: bad, Raw: []byte(bad), Reason: "line one\nline two", Items: []*inner{nil, {Lines: []string{bad}}},
		OrgID: bad,
	}
	got := map[string]bool{}
	for _, e := range CheckText("order", v) {
		got[e.Field] = true
	}
	want := map[string]bool{"order.flat": true, "order.inner.note": true, "order.inner.lines[1]": true, "order.inner.tags.k": true,
		"order.list[1].note": true, "order.items[1].lines[0]": true, "order.orgID": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}
