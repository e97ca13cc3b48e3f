package storetest

import (
	"testing"
	"time"

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
	wantSame(t, "FindPartnerByID", renamed, got)
	all, err := e.s.FindPartners(e.ctx, vippsmgmt.PartnerFilter{})
	must(t, err)
	wantSame(t, "FindPartners", []*vippsmgmt.Partner{renamed, b}, all)
	if n, err := e.s.CountPartners(e.ctx); err != nil || n != 2 {
		t.Errorf("CountPartners: got %d, %v, want 2", n, err)
	}
}

// testCreateAndRenamePartner: creating never renames, renaming never creates, and both refuse
// what Validate refuses without changing anything.
func testCreateAndRenamePartner(t *testing.T, e *env) {
	p := &vippsmgmt.Partner{ID: "acme", Name: "Acme AS"}
	must(t, e.s.CreatePartner(e.ctx, p))
	if !p.CreatedAt.Equal(Start) {
		t.Errorf("CreatedAt: got %v, want %v", p.CreatedAt, Start)
	}
	wantCode(t, e.s.CreatePartner(e.ctx, &vippsmgmt.Partner{ID: "acme", Name: "Other AS"}), vippsmgmt.ECONFLICT)
	wantCode(t, e.s.CreatePartner(e.ctx, &vippsmgmt.Partner{ID: "bad id!", Name: "x"}), vippsmgmt.EINVALID)
	wantCode(t, e.s.CreatePartner(e.ctx, &vippsmgmt.Partner{ID: "blank"}), vippsmgmt.EINVALID)

	_, err := e.s.RenamePartner(e.ctx, "acme", "")
	wantCode(t, err, vippsmgmt.EINVALID)
	_, err = e.s.RenamePartner(e.ctx, "nobody", "Nobody AS")
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	got, err := e.s.FindPartnerByID(e.ctx, "acme")
	must(t, err)
	wantSame(t, "after refused writes", p, got)

	e.clock.Advance(time.Hour)
	renamed, err := e.s.RenamePartner(e.ctx, "acme", "Acme Payments AS")
	must(t, err)
	want := &vippsmgmt.Partner{ID: "acme", Name: "Acme Payments AS", CreatedAt: Start}
	wantSame(t, "RenamePartner", want, renamed)
	if got, _ := e.s.FindPartnerByID(e.ctx, "acme"); got.Name != want.Name {
		t.Errorf("stored name %q, want %q", got.Name, want.Name)
	}
	if _, err := e.s.FindPartnerByID(e.ctx, "nobody"); vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		t.Errorf("RenamePartner created a partner: %v", err)
	}
}
