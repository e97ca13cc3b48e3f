package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt"
)

func testPartners(t *testing.T, e *env) {
	if n, err := e.s.CountPartners(e.ctx); err != nil || n != 0 {
		t.Fatalf("CountPartners on empty: got %d, %v, want 0", n, err)
	}
	_, err := e.s.FindPartnerByID(e.ctx, "acme")
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.UpsertPartner(e.ctx, &vippsmgmt.Partner{ID: "bad id!", Name: "x"}), vippsmgmt.EINVALID)

	b := e.partner("beta")
	a := e.partner("acme")
	if !a.CreatedAt.Equal(Start) {
		t.Errorf("CreatedAt: got %v, want %v", a.CreatedAt, Start)
	}
	e.clock.Advance(time.Hour)
	renamed := &vippsmgmt.Partner{ID: "acme", Name: "Acme Payments"}
	must(t, e.s.UpsertPartner(e.ctx, renamed))
	if !renamed.CreatedAt.Equal(Start) {
		t.Errorf("rename changed CreatedAt to %v", renamed.CreatedAt)
	}
	got, err := e.s.FindPartnerByID(e.ctx, "acme")
	must(t, err)
	if diff := cmp.Diff(renamed, got); diff != "" {
		t.Errorf("FindPartnerByID (-want +got):\n%s", diff)
	}
	all, err := e.s.FindPartners(e.ctx)
	must(t, err)
	if diff := cmp.Diff([]*vippsmgmt.Partner{renamed, b}, all); diff != "" {
		t.Errorf("FindPartners (-want +got):\n%s", diff)
	}
	if n, err := e.s.CountPartners(e.ctx); err != nil || n != 2 {
		t.Errorf("CountPartners: got %d, %v, want 2", n, err)
	}
}
