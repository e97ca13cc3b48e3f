// Package consumer is a partner's own module: its tests run against a vippsmgmt sandbox started
// in the test process.
package consumer

import (
	"testing"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/vippsmgmttest"
)

func TestOnboarding(t *testing.T) {
	srv := vippsmgmttest.NewServer(t, vippsmgmttest.WithFixtureFile("fixtures.yaml"))
	k := srv.KeySets()[0]
	c, err := client.New(srv.URL, client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey),
		client.WithSystem("pos-vendor-ci", "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	units, err := c.GetAllSalesUnits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 1 || units[0].Msn != "555555" {
		t.Fatalf("sales units %+v, want 555555 only", units)
	}
	order, err := c.OrderProduct(t.Context(), client.ProductOrderRequest{
		BusinessIdentifier: client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654317"},
		ProductType:        client.ProductTypeCheckout,
	})
	if err != nil {
		t.Fatal(err)
	}
	details, err := c.GetProductOrderDetails(t.Context(), order.PrefilledOrderId)
	if err != nil {
		t.Fatal(err)
	}
	if details.Status != client.StatusReceived {
		t.Errorf("status %s, want RECEIVED", details.Status)
	}
}
