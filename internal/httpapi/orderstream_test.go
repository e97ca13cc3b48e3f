package httpapi_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestProductOrderListStreamsTheEncodersBytes: the streamed v2 list is byte for byte what
// json.Encoder writes for the generated response type, with and without expired orders.
func TestProductOrderListStreamsTheEncodersBytes(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	auth := classicHeaders(t, srv.URL, fixtures.DemoPartnerKeys)
	for _, query := range []string{"/management/v2/product-orders", "/management/v2/product-orders?includeExpired=true",
		"/management/v1/product-orders", "/management/v1/product-orders?includeExpired=true"} {
		got := getPath(t, srv.URL, query, auth)
		if v1 := strings.Contains(query, "/v1/"); v1 != (len(got.Headers["Deprecation"]) == 1 && got.Headers["Deprecation"][0] == "true") {
			t.Errorf("%s: Deprecation header %v", query, got.Headers["Deprecation"])
		}
		if got.Status != 200 || got.Headers["Content-Type"][0] != "application/json;charset=UTF-8" {
			t.Fatalf("%s: %d %v %s", query, got.Status, got.Headers, got.Body)
		}
		var list openapi.GetProductOrders200ApplicationJSONCharsetUTF8Response
		if err := json.Unmarshal([]byte(got.Body), &list); err != nil {
			t.Fatalf("%s: %v in %s", query, err, got.Body)
		}
		if len(list) < 1 && !strings.Contains(query, "/v1/") { // the demo prefills are all expired or submitted
			t.Fatalf("%s: %d orders; the demo data has more", query, len(list))
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(list); err != nil {
			t.Fatal(err)
		}
		if got.Body != want.String() {
			t.Errorf("%s: streamed\n%s\nencoder\n%s", query, got.Body, want.String())
		}
	}
	// A partner without orders gets an empty array.
	other := classicHeaders(t, srv.URL, fixtures.DemoOtherPartnerKeys)
	if got := getPath(t, srv.URL, "/management/v2/product-orders", other); got.Status != 200 || got.Body != "[]\n" {
		t.Errorf("no orders: %d %q", got.Status, got.Body)
	}
}
