package sqlstore_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// TestPrefillPackageChangedByAnotherProcess: a PostgreSQL process judges a prefill against its
// price package as the database holds it, also when another process changed the package after
// this one last read it.
func TestPrefillPackageChangedByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	clock := storetest.NewClock(storetest.Start)
	a, b := sqlitetest.OpenDSN(t, dsn, clock), sqlitetest.OpenDSN(t, dsn, clock)
	if err := a.UpsertPartner(ctx, &vippsmgmt.Partner{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	checkout := "CHECKOUT"
	pkg := &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: "acme", Name: "Standard", ProductType: &checkout}
	if err := a.UpsertPricePackage(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	prefill := func(key string) error {
		partner := "acme"
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: &partner, ProductType: "CHECKOUT",
			BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "911111101"},
			Details:            vippsmgmt.OrderDetails{PricePackageID: &pkg.ID}}
		_, _, err := a.CreateProductOrder(ctx, o, &vippsmgmt.Idempotency{PartnerID: "acme", Key: key, RequestHash: []byte(key)})
		return err
	}
	if err := prefill("before"); err != nil {
		t.Fatal(err)
	}
	cashier := "CASHIER"
	pkg.ProductType = &cashier
	if err := b.UpsertPricePackage(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	if err := prefill("after"); vippsmgmt.ErrorCode(err) != vippsmgmt.EINVALID {
		t.Errorf("a CHECKOUT prefill with a package now for CASHIER: got %v, want EINVALID", err)
	}
}
