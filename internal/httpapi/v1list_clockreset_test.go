package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// TestDeprecatedV1ProductOrderList: GET /management/v1/product-orders lists only the partner's
// prefilled orders, in the v2 shape, with a Deprecation header; merchant keys get 403.
func TestDeprecatedV1ProductOrderList(t *testing.T) {
	a, auth := startPartner(t)
	body := fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":"CHECKOUT"}`, fixtures.DemoMerchant.Scheme, fixtures.DemoMerchant.ID)
	created := a.do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", "v1-list")...)
	expect(t, created, 201, "application/json")
	var res struct{ PrefilledOrderID string }
	created.json(t, &res)

	type order struct {
		ProductOrderID   string `json:"productOrderId"`
		ProductOrderType string `json:"productOrderType"`
		Status           string `json:"status"`
		ProductOrderURL  string `json:"productOrderUrl"`
	}
	var v1, v2 []order
	r := a.do("GET", "/management/v1/product-orders", nil, auth...)
	expect(t, r, 200, jsonUTF8)
	if r.header.Get("Deprecation") == "" {
		t.Error("no Deprecation header")
	}
	r.json(t, &v1)
	r2 := a.do("GET", "/management/v2/product-orders", nil, auth...)
	expect(t, r2, 200, jsonUTF8)
	r2.json(t, &v2)

	var wantV1 []order
	others := 0
	for _, o := range v2 {
		if o.ProductOrderType == "PREFILL" {
			wantV1 = append(wantV1, o)
		} else {
			others++
		}
	}
	if others == 0 {
		t.Fatal("the demo data should hold template or manual orders for this test")
	}
	if fmt.Sprint(v1) != fmt.Sprint(wantV1) {
		t.Errorf("v1 list %+v, want the prefilled orders of v2 %+v", v1, wantV1)
	}
	found := false
	for _, o := range v1 {
		found = found || o.ProductOrderID == res.PrefilledOrderID
	}
	if !found {
		t.Errorf("new prefill %s not in the v1 list %+v", res.PrefilledOrderID, v1)
	}

	merchant := a.classic(fixtures.DemoMerchantKeys)
	expect(t, a.do("GET", "/management/v1/product-orders", nil, merchant...), 403, "application/problem+json")
	expect(t, a.do("GET", "/management/v1/product-orders?includeExpired=maybe", nil, auth...), 400, "application/problem+json")
}

// TestSandboxClockReset: the clock goes back to real time on {"reset":true}; tokens fetched
// while it was ahead are refused afterwards (their not_before lies ahead), fresh ones work.
func TestSandboxClockReset(t *testing.T) {
	a := startAPI(t)
	var clk struct{ Now, Offset string }
	r := a.do("POST", "/admin/v1/clock", `{"advance":"48h"}`, admin()...)
	expect(t, r, 200, "application/json")
	r.json(t, &clk)
	if clk.Offset != "48h0m0s" {
		t.Fatalf("advance: %s", r.body)
	}
	ahead := a.classic(fixtures.DemoPartnerKeys)
	expect(t, a.do("GET", "/management/v1/sales-units", nil, ahead...), 200, jsonUTF8)

	r = a.do("POST", "/admin/v1/clock", `{"reset":true}`, admin()...)
	expect(t, r, 200, "application/json")
	r.json(t, &clk)
	if clk.Offset != "0s" {
		t.Fatalf("reset: %s", r.body)
	}
	expect(t, a.do("GET", "/admin/v1/clock", nil, admin()...), 200, "application/json")
	expect(t, a.do("GET", "/management/v1/sales-units", nil, ahead...), 401, "application/problem+json")
	expect(t, a.do("GET", "/management/v1/sales-units", nil, a.classic(fixtures.DemoPartnerKeys)...), 200, jsonUTF8)

	for _, bad := range []string{`{}`, `{"reset":false}`, `{"reset":true,"advance":"1h"}`, `{"advance":"-1h"}`} {
		expect(t, a.do("POST", "/admin/v1/clock", bad, admin()...), 400, "application/problem+json")
	}
}
