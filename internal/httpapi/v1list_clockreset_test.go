package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestDeprecatedV1ProductOrderList: GET /management/v1/product-orders lists only the partner's
// prefilled orders, in the v2 shape, with a Deprecation header; merchant keys get 403.
func TestDeprecatedV1ProductOrderList(t *testing.T) {
	a, auth := startPartner(t)
	body := fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":"CHECKOUT"}`, fixtures.DemoMerchant.Scheme, fixtures.DemoMerchant.ID)
	created := a.Do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", "v1-list")...)
	created.Expect(t, 201, "application/json")
	var res struct{ PrefilledOrderID string }
	created.JSON(t, &res)

	type order struct {
		ProductOrderID   string `json:"productOrderId"`
		ProductOrderType string `json:"productOrderType"`
		Status           string `json:"status"`
		ProductOrderURL  string `json:"productOrderUrl"`
	}
	var v1, v2 []order
	r := a.Do("GET", "/management/v1/product-orders", nil, auth...)
	r.Expect(t, 200, jsonUTF8)
	if r.Header.Get("Deprecation") == "" {
		t.Error("no Deprecation header")
	}
	r.JSON(t, &v1)
	r2 := a.Do("GET", "/management/v2/product-orders", nil, auth...)
	r2.Expect(t, 200, jsonUTF8)
	r2.JSON(t, &v2)

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

	merchant := a.Classic(fixtures.DemoMerchantKeys)
	a.Do("GET", "/management/v1/product-orders", nil, merchant...).Expect(t, 403, "application/problem+json")
	a.Do("GET", "/management/v1/product-orders?includeExpired=maybe", nil, auth...).Expect(t, 400, "application/problem+json")
}

// TestSandboxClockReset: the clock goes back to real time on {"reset":true}; tokens fetched
// while it was ahead are refused afterwards (their not_before lies ahead), fresh ones work.
func TestSandboxClockReset(t *testing.T) {
	a, adm := startAPI(t), testserver.AdminHeaders(testserver.AdminToken)
	var clk struct{ Now, Offset string }
	r := a.Do("POST", "/admin/v1/clock", `{"advance":"48h"}`, adm...)
	r.Expect(t, 200, "application/json")
	r.JSON(t, &clk)
	if clk.Offset != "48h0m0s" {
		t.Fatalf("advance: %s", r.Body)
	}
	ahead := a.Classic(fixtures.DemoPartnerKeys)
	a.Do("GET", "/management/v1/sales-units", nil, ahead...).Expect(t, 200, jsonUTF8)

	r = a.Do("POST", "/admin/v1/clock", `{"reset":true}`, adm...)
	r.Expect(t, 200, "application/json")
	r.JSON(t, &clk)
	if clk.Offset != "0s" {
		t.Fatalf("reset: %s", r.Body)
	}
	a.Do("GET", "/admin/v1/clock", nil, adm...).Expect(t, 200, "application/json")
	a.Do("GET", "/management/v1/sales-units", nil, ahead...).Expect(t, 401, "application/problem+json")
	a.Do("GET", "/management/v1/sales-units", nil, a.Classic(fixtures.DemoPartnerKeys)...).Expect(t, 200, jsonUTF8)

	for _, bad := range []string{`{}`, `{"reset":false}`, `{"reset":true,"advance":"1h"}`, `{"advance":"-1h"}`} {
		a.Do("POST", "/admin/v1/clock", bad, adm...).Expect(t, 400, "application/problem+json")
	}
}
