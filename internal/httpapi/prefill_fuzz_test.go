package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/vippsmgmt/vippsmgmt"
	contract "github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// FuzzPrefillBody sends arbitrary bodies to POST /management/v1/product-orders through the whole
// handler (authentication, contract validation, domain rules, SQLite store). No body may cause a
// 5xx or a panic; every refusal is a problem; and a 201 only for a body whose effective content,
// read the way the handler reads it, satisfies both the contract's schema and the domain rules.
func FuzzPrefillBody(f *testing.F) {
	f.Add([]byte(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"CHECKOUT"}`))
	f.Add([]byte(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"PAYMENT_INTEGRATION",` +
		`"salesUnitName":"Kiosk Storgata","pricePackageId":"` + fixtures.DemoPricePackageID + `","merchantCategoryCode":5812}`))
	f.Add([]byte(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"LOGIN","PRODUCTTYPE":"BOGUS"}`))
	f.Add([]byte(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"9x"},"productType":"CHECKOUT","annualTurnoverPercentage":"15"}`))
	f.Add([]byte(`{"businessIdentifier":`))
	f.Add([]byte(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"CHECKOUT","annualTurnover":1e400}`))

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), app.Config{
		DB: "sqlite:" + filepath.Join(f.TempDir(), "fuzz.db"), Demo: true, AdminToken: "fuzz-admin", Sandbox: true,
		PublicURL: "http://vippsmgmt.test", TokenRate: 1e9, TokenBurst: 1 << 30, Logger: logger,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	h := a.Handler()

	k := fixtures.DemoPartnerKeys
	req := httptest.NewRequest("POST", "/accesstoken/get", nil)
	req.Header.Set("client_id", k.ClientID)
	req.Header.Set("client_secret", k.ClientSecret)
	req.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		f.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(contract.OpenAPI)
	if err != nil {
		f.Fatal(err)
	}
	schema := doc.Components.Schemas["ProductOrderRequest"].Value

	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/management/v1/product-orders", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d", seq.Add(1)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		case rec.Code == http.StatusCreated:
			if msg := invalidPrefill(body, schema); msg != "" {
				t.Fatalf("201 for a body that is not valid (%s): %q", msg, body)
			}
			var c struct{ PrefilledOrderID string }
			if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || c.PrefilledOrderID == "" {
				t.Fatalf("201 without an order id: %s", rec.Body)
			}
		case rec.Code >= 400:
			var p struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
			}
			ct := rec.Header().Get("Content-Type")
			if ct != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code || p.Type == "" {
				t.Fatalf("refusal %d is not a problem (%s): %s", rec.Code, ct, rec.Body)
			}
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body)
		}
	})
}

// invalidPrefill reads body as the prefill handler does and returns why it breaks the contract or
// the domain rules, or "" when it is valid.
func invalidPrefill(body []byte, schema *openapi3.Schema) string {
	raw := body
	// Numbers are kept as written: a member nothing reads (an unknown one) may hold a number
	// no float64 holds, such as 1e400, and the handler passes over it as encoding/json does.
	var generic map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil || generic == nil {
		return fmt.Sprintf("not a JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "more than one JSON value"
	}
	// The contract's own example sends the MCC as a number; the server reads it as the string.
	if num, ok := generic["merchantCategoryCode"].(json.Number); ok {
		if n, err := num.Float64(); err == nil && n >= 0 && n <= 9999 && n == float64(int(n)) {
			generic["merchantCategoryCode"] = fmt.Sprintf("%04d", int(n))
			raw, _ = json.Marshal(generic)
		}
	}
	var in openapi.ProductOrderRequest
	if err := json.Unmarshal(raw, &in); err != nil {
		return "does not decode: " + err.Error()
	}
	// What the handler acts on, re-encoded, must pass the schema: case variants of field names
	// ("PRODUCTTYPE") are matched by encoding/json but not by the schema.
	canonical, _ := json.Marshal(in)
	var value any
	_ = json.Unmarshal(canonical, &value)
	if err := schema.VisitJSON(value, openapi3.MultiErrors(), openapi3.VisitAsRequest()); err != nil {
		return "schema: " + err.Error()
	}
	var d vippsmgmt.OrderDetails
	_ = json.Unmarshal(canonical, &d)
	b := vippsmgmt.BusinessIdentifier{Scheme: in.BusinessIdentifier.Scheme, ID: in.BusinessIdentifier.Id}
	fields := append(b.Validate("businessIdentifier"), d.Validate()...)
	if !vippsmgmt.ValidProductType(string(in.ProductType)) {
		fields = append(fields, vippsmgmt.FieldError{Field: "productType", Problem: "unknown"})
	}
	if err := vippsmgmt.InvalidFields(fields); err != nil {
		return err.Error()
	}
	return ""
}
