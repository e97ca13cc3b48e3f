package vippsmgmt_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt"
)

func TestParsePage(t *testing.T) {
	l := vippsmgmt.ProductOrderList
	valid := l.Encode(vippsmgmt.Cursor{int64(1712345678901234), "01a23be5-0c7b-7e21-b6d6-cf5d3c590b34"})
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		name   string
		limit  *int
		cursor *string
		want   vippsmgmt.Page
		field  string // "" when valid
	}{
		{"defaults", nil, nil, vippsmgmt.Page{Limit: vippsmgmt.DefaultPageLimit}, ""},
		{"empty cursor is the first page", new(5), new(""), vippsmgmt.Page{Limit: 5}, ""},
		{"smallest", new(1), nil, vippsmgmt.Page{Limit: 1}, ""},
		{"largest", new(vippsmgmt.MaxPageLimit), nil, vippsmgmt.Page{Limit: vippsmgmt.MaxPageLimit}, ""},
		{"a cursor", nil, &valid, vippsmgmt.Page{Limit: vippsmgmt.DefaultPageLimit,
			After: vippsmgmt.Cursor{int64(1712345678901234), "01a23be5-0c7b-7e21-b6d6-cf5d3c590b34"}}, ""},
		{"zero", new(0), nil, vippsmgmt.Page{}, "limit"},
		{"negative", new(-3), nil, vippsmgmt.Page{}, "limit"},
		{"over the largest", new(vippsmgmt.MaxPageLimit + 1), nil, vippsmgmt.Page{}, "limit"},
		{"not base64", nil, new("%%%"), vippsmgmt.Page{}, "cursor"},
		{"not JSON", nil, new(b64("{")), vippsmgmt.Page{}, "cursor"},
		{"another list's", nil, new(vippsmgmt.PartnerList.Encode(vippsmgmt.Cursor{"acme"})), vippsmgmt.Page{}, "cursor"},
		{"too few values", nil, new(b64(`["product-orders","1"]`)), vippsmgmt.Page{}, "cursor"},
		{"too many values", nil, new(b64(`["product-orders","1","a","b"]`)), vippsmgmt.Page{}, "cursor"},
		{"a number that is not", nil, new(b64(`["product-orders","1e3","a"]`)), vippsmgmt.Page{}, "cursor"},
		{"a NUL", nil, new(b64("[\"product-orders\",\"1\",\"a\\u0000\"]")), vippsmgmt.Page{}, "cursor"},
		{"too long", nil, new(strings.Repeat("A", vippsmgmt.MaxCursorBytes+1)), vippsmgmt.Page{}, "cursor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := l.ParsePage(c.limit, c.cursor)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			var e *vippsmgmt.Error
			if !errors.As(err, &e) || e.Code != vippsmgmt.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
				t.Errorf("got %v, want EINVALID naming %s", err, c.field)
			}
		})
	}
}

func TestCut(t *testing.T) {
	l := vippsmgmt.PartnerList
	p := vippsmgmt.Page{Limit: 2}
	ps := []*vippsmgmt.Partner{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	page, next := l.Cut(p, ps)
	if len(page) != 2 || next == "" {
		t.Fatalf("a full page and one more: got %d items, cursor %q", len(page), next)
	}
	back, err := l.ParsePage(nil, &next)
	if err != nil || !cmp.Equal(back.After, vippsmgmt.Cursor{"b"}) {
		t.Errorf("the cursor names %v (%v), want the page's last item b", back.After, err)
	}
	if page, next := l.Cut(p, ps[:2]); len(page) != 2 || next != "" {
		t.Errorf("the last page: got %d items, cursor %q; want 2 and none", len(page), next)
	}
	if f := p.Fetch(); f.Limit != 3 {
		t.Errorf("Fetch reads %d, want one more than the page", f.Limit)
	}
}
