package openapi

import (
	"strings"
	"testing"
)

func TestRolesReadFromSpec(t *testing.T) {
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	var partnerOnly, jsonNotFound []string
	for pattern := range v.ops {
		if v.PartnerOnly(pattern) {
			partnerOnly = append(partnerOnly, pattern)
			if !strings.Contains(pattern, " /management/") {
				t.Errorf("%s is marked x-partner-only but is not a Management operation", pattern)
			}
		}
		if v.NotFoundAsJSON(pattern) {
			jsonNotFound = append(jsonNotFound, pattern)
		}
	}
	for _, p := range []string{
		"POST /management/v1/product-orders",
		"GET /management/v2/product-orders",
		"GET /management/v1/partners/price-packages",
		"DELETE /management/v1/product-orders/{productOrderId}",
	} {
		if !v.PartnerOnly(p) {
			t.Errorf("%s: not partner-only; merchant keys would reach it", p)
		}
	}
	for _, p := range []string{"GET /management/v1/sales-units/{msn}", "GET /management/v1/merchants/{scheme}/{id}", "GET /no/such/route"} {
		if v.PartnerOnly(p) {
			t.Errorf("%s: partner-only, but merchant keys may call it", p)
		}
	}
	if !v.NotFoundAsJSON("GET /management/v2/product-orders/{productOrderId}/details") || v.NotFoundAsJSON("GET /management/v1/sales-units/{msn}") {
		t.Errorf("404 media types read wrong: %v", jsonNotFound)
	}
	t.Logf("partner-only: %d operations, 404 as application/json: %d", len(partnerOnly), len(jsonNotFound))
}
