package storetest

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

// testUpsertConcurrent: upserts of one new item that overlap (two processes loading the same
// fixtures at start-up) all succeed, as they would one after another, and leave one item.
func testUpsertConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	const rounds, n = 3, 8
	for round := range rounds {
		msn, pkgID, orderID := fmt.Sprintf("2%05d", round), uuid.NewString(), uuid.NewString()
		clientID := fmt.Sprintf("client-%d", round)
		for _, u := range []struct {
			what   string
			upsert func() error
		}{
			{"price package", func() error {
				return e.s.UpsertPricePackage(e.ctx, &vippsmgmt.PricePackage{ID: pkgID, PartnerID: "acme", Name: "Standard"})
			}},
			{"sales unit", func() error {
				return e.s.UpsertSalesUnit(e.ctx, &vippsmgmt.SalesUnit{MSN: msn, Name: "Unit", Status: vippsmgmt.SalesUnitActive,
					Merchant: bid("912345688"), PartnerID: ptr("acme")})
			}},
			{"API key", func() error {
				return e.s.UpsertAPIKey(e.ctx, &vippsmgmt.APIKey{ClientID: clientID, Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"),
					SecretHash: []byte("secret"), SubscriptionKeyHash: []byte(clientID)})
			}},
			{"product order", func() error {
				return e.s.UpsertProductOrder(e.ctx, &vippsmgmt.ProductOrder{ID: orderID, Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"),
					Status: vippsmgmt.StatusReceived, BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT", CreatedAt: Start, UpdatedAt: Start})
			}},
		} {
			race(n, func(i int) {
				if err := u.upsert(); err != nil {
					t.Errorf("round %d, %s, upsert %d: %v", round, u.what, i, err)
				}
			})
		}
		stored(e, e.s.FindPricePackageByID, pkgID)
		stored(e, e.s.FindSalesUnitByMSN, msn)
		stored(e, e.s.FindAPIKeyByClientID, clientID)
		e.order(orderID)
	}
}
