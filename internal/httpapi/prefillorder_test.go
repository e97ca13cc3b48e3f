package httpapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// TestPrefillOrderConvertsEveryMember: the conversion by code gives the details a JSON round trip
// between the two types (which share the contract's names) gives, for a request with every member
// set, so a member the contract gains cannot be dropped silently.
func TestPrefillOrderConvertsEveryMember(t *testing.T) {
	body := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT",` +
		`"salesUnitName":"ACME Fitness","salesUnitLogo":"iVBORw0KGgo=","settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"},` +
		`"pricePackageId":"0190B1F4-6A3E-7C1D-9C2A-5D1E8F7A6B43","productUseCase":"WebsiteWithTest","annualTurnover":2500000,` +
		`"annualTurnoverPercentage":"40","intendedPurpose":"Gym memberships","app":{"appName":"ACME"},` +
		`"website":{"url":"https://a.example","termsUrl":"https://a.example/t","testWebsiteUrl":"https://t.a.example",` +
		`"testWebsiteUsername":"u","testWebsitePassword":"p"},"hasRecurring":true,"merchantCategoryCode":"5942"}`
	var in openapi.ProductOrderRequest
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	rv := reflect.ValueOf(in)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("the test's request leaves %s unset", rv.Type().Field(i).Name)
		}
	}
	got := prefillOrder("acme", &in)
	var want vippsmgmt.OrderDetails
	if err := convertJSON(in, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Details); diff != "" {
		t.Errorf("details (-round trip +prefillOrder):\n%s", diff)
	}
	if got.BusinessIdentifier != (vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "987654325"}) ||
		got.ProductType != "CHECKOUT" || got.Type != vippsmgmt.OrderPrefill || got.PartnerID == nil || *got.PartnerID != "acme" {
		t.Errorf("order %+v", got)
	}
}
