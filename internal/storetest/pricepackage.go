package storetest

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

func testPricePackages(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	a1 := e.pricePackage("acme")
	a2 := &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: "acme", Name: "Hidden", VisibleInSignupForm: ptr(false)}
	must(t, e.s.UpsertPricePackage(e.ctx, a2))
	b1 := e.pricePackage("beta")

	got, err := e.s.FindPricePackages(e.ctx, vippsmgmt.PricePackageFilter{PartnerID: "acme"})
	must(t, err)
	wantSame(t, "FindPricePackages(acme)", []*vippsmgmt.PricePackage{a2, a1}, got)
	got, err = e.s.FindPricePackages(e.ctx, vippsmgmt.PricePackageFilter{PartnerID: "beta"})
	must(t, err)
	wantSame(t, "FindPricePackages(beta)", []*vippsmgmt.PricePackage{b1}, got)
	if got, err := e.s.FindPricePackages(e.ctx, vippsmgmt.PricePackageFilter{}); err != nil || len(got) != 3 {
		t.Errorf("FindPricePackages(\"\"): got %d, %v, want 3", len(got), err)
	}
	if got, err := e.s.FindPricePackages(e.ctx, vippsmgmt.PricePackageFilter{PartnerID: "ghost"}); err != nil || len(got) != 0 {
		t.Errorf("FindPricePackages(ghost): got %d, %v, want 0", len(got), err)
	}

	one := stored(e, e.s.FindPricePackageByID, b1.ID)
	wantSame(t, "FindPricePackageByID", b1, one)
	_, err = e.s.FindPricePackageByID(e.ctx, uuid.NewString())
	wantCode(t, err, vippsmgmt.ENOTFOUND)

	a1.Name, a1.Commission = "Renamed", nil
	must(t, e.s.UpsertPricePackage(e.ctx, a1))
	must(t, e.s.UpsertPricePackage(e.ctx, a1))
	one = stored(e, e.s.FindPricePackageByID, a1.ID)
	wantSame(t, "after update", a1, one)

	stolen := *b1
	stolen.PartnerID = "acme"
	wantCode(t, e.s.UpsertPricePackage(e.ctx, &stolen), vippsmgmt.ECONFLICT)
	wantCode(t, e.s.UpsertPricePackage(e.ctx, &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: "ghost", Name: "x"}), vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.UpsertPricePackage(e.ctx, &vippsmgmt.PricePackage{ID: "not-a-uuid", PartnerID: "acme", Name: "x"}), vippsmgmt.EINVALID)
}

// testCreatePricePackage: creating never updates, not even a package of the same partner.
func testCreatePricePackage(t *testing.T, e *env) {
	e.partner("acme")
	p := &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: "acme", Name: "Standard", Description: "1,99%"}
	must(t, e.s.CreatePricePackage(e.ctx, p))
	again := *p
	again.Name = "Changed"
	wantCode(t, e.s.CreatePricePackage(e.ctx, &again), vippsmgmt.ECONFLICT)
	wantCode(t, e.s.CreatePricePackage(e.ctx, &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: "nobody", Name: "x", Description: "1%"}), vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.CreatePricePackage(e.ctx, &vippsmgmt.PricePackage{ID: "not a uuid", PartnerID: "acme", Name: "x", Description: "1%"}), vippsmgmt.EINVALID)
	got := stored(e, e.s.FindPricePackageByID, p.ID)
	wantSame(t, "after a refused create", p, got)
}

// testPrefillPricePackage: the prefill's transaction refuses a package the partner may not choose.
func testPrefillPricePackage(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("other")
	own := e.pricePackage("acme") // CHECKOUT
	foreign := e.pricePackage("other")
	for _, c := range []struct {
		name, pkg, productType, code string
	}{
		{"own package", own.ID, "CHECKOUT", ""},
		{"another partner's package", foreign.ID, "CHECKOUT", vippsmgmt.EINVALID},
		{"unknown package", uuid.NewString(), "CHECKOUT", vippsmgmt.EINVALID},
		{"package for another product", own.ID, "CASHIER", vippsmgmt.EINVALID},
	} {
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("911111101"),
			ProductType: c.productType, Details: vippsmgmt.OrderDetails{PricePackageID: ptr(c.pkg)}}
		_, _, err := e.s.CreateProductOrder(e.ctx, o, nil)
		if got := vippsmgmt.ErrorCode(err); got != c.code {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, err, c.code)
		}
	}
}

// testPrefillPackageChanged: a prefill is judged against its price package as it is when the
// prefill is stored, however recently an earlier prefill read the package.
func testPrefillPackageChanged(t *testing.T, e *env) {
	e.partner("acme")
	pkg := e.pricePackage("acme") // CHECKOUT
	prefill := func(key, productType string) error {
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("911111101"),
			ProductType: productType, Details: vippsmgmt.OrderDetails{PricePackageID: ptr(pkg.ID)}}
		_, _, err := e.s.CreateProductOrder(e.ctx, o, &vippsmgmt.Idempotency{PartnerID: "acme", Key: key, RequestHash: []byte(key)})
		return err
	}
	must(t, prefill("checkout-1", "CHECKOUT"))
	wantCode(t, prefill("cashier-1", "CASHIER"), vippsmgmt.EINVALID)

	pkg.ProductType = ptr("CASHIER")
	must(t, e.s.UpsertPricePackage(e.ctx, pkg))
	wantCode(t, prefill("checkout-2", "CHECKOUT"), vippsmgmt.EINVALID)
	must(t, prefill("cashier-2", "CASHIER"))

	pkg.ProductType = nil // any priced product
	must(t, e.s.UpsertPricePackage(e.ctx, pkg))
	must(t, prefill("checkout-3", "CHECKOUT"))
	must(t, prefill("cashier-3", "CASHIER"))
}

// testCreatePricePackageConcurrent: of creates of one new package that overlap, one succeeds and
// the others are told, as a create after it would be, that the id is taken.
func testCreatePricePackageConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	const n = 8
	for round := range 3 {
		id := uuid.NewString()
		errs := make([]error, n)
		race(n, func(i int) {
			errs[i] = e.s.CreatePricePackage(e.ctx, &vippsmgmt.PricePackage{ID: id, PartnerID: "acme", Name: "Standard"})
		})
		created := 0
		for i, err := range errs {
			if err == nil {
				created++
				continue
			}
			if vippsmgmt.ErrorCode(err) != vippsmgmt.ECONFLICT || !strings.Contains(vippsmgmt.ErrorMessage(err), id) {
				t.Errorf("round %d, create %d: got %v, want ECONFLICT naming %s", round, i, err, id)
			}
		}
		if created != 1 {
			t.Errorf("round %d: %d creates succeeded, want 1", round, created)
		}
	}
}
