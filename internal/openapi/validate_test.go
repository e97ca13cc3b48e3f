package openapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/vippsmgmt/vippsmgmt"
)

// stub implements the operations the tests call; the others panic through the nil interface.
type stub struct {
	StrictServerInterface
	lastOrder    *OrderProductJSONRequestBody
	lastSubmit   *OrderDetails
	lastUpdate   *AdminSalesUnitUpdate
	includedFlag *bool
}

func (s *stub) GetMsn(_ context.Context, req GetMsnRequestObject) (GetMsnResponseObject, error) {
	return GetMsn200ApplicationJSONCharsetUTF8Response{Msn: req.Msn, Name: "Shop", BusinessIdentifier: BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654317"}}, nil
}

func (s *stub) OrderProduct(_ context.Context, req OrderProductRequestObject) (OrderProductResponseObject, error) {
	s.lastOrder = req.Body
	return OrderProduct201JSONResponse{Body: ProductOrderResponse{PrefillUrl: "http://x/register/prefilled/1"}}, nil
}

func (s *stub) GetProductOrders(_ context.Context, req GetProductOrdersRequestObject) (GetProductOrdersResponseObject, error) {
	s.includedFlag = req.Params.IncludeExpired
	return GetProductOrders200ApplicationJSONCharsetUTF8Response{}, nil
}

func (s *stub) AdminSubmitProductOrder(_ context.Context, req AdminSubmitProductOrderRequestObject) (AdminSubmitProductOrderResponseObject, error) {
	s.lastSubmit = req.Body
	return AdminSubmitProductOrder200JSONResponse{}, nil
}

func (s *stub) AdminUpdateSalesUnit(_ context.Context, req AdminUpdateSalesUnitRequestObject) (AdminUpdateSalesUnitResponseObject, error) {
	s.lastUpdate = req.Body
	return AdminUpdateSalesUnit200JSONResponse{}, nil
}

func newServer(t testing.TB, v *Validator) (http.Handler, *stub) {
	t.Helper()
	s := &stub{}
	reqErr, respErr := ErrorHandlers()
	strict := NewStrictHandlerWithOptions(s, nil, StrictHTTPServerOptions{RequestErrorHandlerFunc: reqErr, ResponseErrorHandlerFunc: respErr})
	opts := StdHTTPServerOptions{BaseRouter: http.NewServeMux(), ErrorHandlerFunc: ParamErrorHandler}
	if v != nil {
		opts.Middlewares = []MiddlewareFunc{v.Middleware}
	}
	return HandlerWithOptions(strict, opts), s
}

func mustValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const goodOrder = `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654317"},"productType":"PAYMENT_INTEGRATION","salesUnitName":"ACME Fitness","annualTurnoverPercentage":"40"}`

func TestValidator(t *testing.T) {
	v := mustValidator(t)
	v.MaxBodyBytes = 4096
	h, _ := newServer(t, v)

	jsonCT := map[string]string{"Content-Type": "application/json"}
	orderHeaders := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "abc-123"}
	tests := []struct {
		name        string
		method, url string
		headers     map[string]string
		body        string
		status      int
		contentType string
		slug        string
		detail      string // substring
		extra       int    // number of extraDetails
	}{
		{name: "good msn", method: "GET", url: "/management/v1/sales-units/123456", status: 200},
		{name: "bad msn", method: "GET", url: "/management/v1/sales-units/12ab", status: 400, slug: "invalid-request", detail: `msn: must match ^\d{4,10}$`, extra: 1},
		{name: "msn too long", method: "GET", url: "/management/v1/sales-units/12345678901", status: 400, detail: "msn: must be at most 10 characters", extra: 1},
		{name: "system name ok", method: "GET", url: "/management/v1/sales-units/123456", headers: map[string]string{"Vipps-System-Name": strings.Repeat("ø", 30)}, status: 200},
		{name: "system name too long", method: "GET", url: "/management/v1/sales-units/123456", headers: map[string]string{"Vipps-System-Name": strings.Repeat("a", 31)}, status: 400, detail: "Vipps-System-Name: must be at most 30 characters", extra: 1},
		{name: "two bad headers", method: "GET", url: "/management/v1/sales-units/123456", headers: map[string]string{"Vipps-System-Name": strings.Repeat("a", 31), "Vipps-System-Plugin-Version": strings.Repeat("1", 40)}, status: 400, extra: 2},
		{name: "good order", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: goodOrder, status: 201},
		{name: "order with charset", method: "POST", url: "/management/v1/product-orders", headers: map[string]string{"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": "k"}, body: goodOrder, status: 201},
		{name: "missing idempotency key", method: "POST", url: "/management/v1/product-orders", headers: jsonCT, body: goodOrder, status: 400, detail: "Idempotency-Key: header is required", extra: 1},
		{name: "bad idempotency key", method: "POST", url: "/management/v1/product-orders", headers: map[string]string{"Content-Type": "application/json", "Idempotency-Key": "not_valid!"}, body: goodOrder, status: 400, detail: "Idempotency-Key: must match", extra: 1},
		{name: "idempotency key too long", method: "POST", url: "/management/v1/product-orders", headers: map[string]string{"Content-Type": "application/json", "Idempotency-Key": strings.Repeat("a", 51)}, body: goodOrder, status: 400, detail: "Idempotency-Key: must be at most 50 characters", extra: 1},
		{name: "missing required fields", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: `{}`, status: 400, detail: "businessIdentifier: is required", extra: 2},
		{name: "missing nested field", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: `{"businessIdentifier":{"scheme":"business:NO:ORG"},"productType":"LOGIN"}`, status: 400, detail: "businessIdentifier.id: is required", extra: 1},
		{name: "wrong enum", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, "PAYMENT_INTEGRATION", "VIPPS_PA_NETT", 1), status: 400, detail: "productType: value is not one of the allowed values", extra: 1},
		{name: "wrong type", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, `"annualTurnoverPercentage":"40"`, `"annualTurnover":"lots"`, 1), status: 400, detail: "annualTurnover: value must be an integer", extra: 1},
		{name: "bad pattern", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, "ACME Fitness", "ACME Fitness!", 1), status: 400, detail: "salesUnitName: string doesn't match the regular expression", extra: 1},
		{name: "bad uuid", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, `"salesUnitName"`, `"pricePackageId":"nope","salesUnitName"`, 1), status: 400, detail: "pricePackageId: must be a UUID", extra: 1},
		{name: "several body failures", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: `{"businessIdentifier":{"scheme":"x","id":"1"},"productType":"X","annualTurnover":-1}`, status: 400, extra: 4},
		{name: "null for non-nullable", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: `{"businessIdentifier":null,"productType":"LOGIN"}`, status: 400, detail: "businessIdentifier: must not be null", extra: 1},
		{name: "null for nullable", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, `"salesUnitName":"ACME Fitness"`, `"salesUnitName":null,"website":null`, 1), status: 201},
		{name: "mcc as number", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, "{", `{"merchantCategoryCode":5942,`, 1), status: 201},
		{name: "bad mcc", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, "{", `{"merchantCategoryCode":"59a2",`, 1), status: 400, detail: "merchantCategoryCode", extra: 1},
		{name: "malformed json", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: `{"businessIdentifier":`, status: 400, detail: "Malformed JSON: "},
		{name: "trailing garbage", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: goodOrder + `x`, status: 400, detail: "Malformed JSON: "},
		{name: "wrong content type", method: "POST", url: "/management/v1/product-orders", headers: map[string]string{"Content-Type": "text/plain", "Idempotency-Key": "k"}, body: goodOrder, status: 415, slug: "unsupported-media-type", detail: `Content-Type "text/plain" is not supported`},
		{name: "missing content type", method: "POST", url: "/management/v1/product-orders", headers: map[string]string{"Idempotency-Key": "k"}, body: goodOrder, status: 415, slug: "unsupported-media-type"},
		{name: "form content type", method: "POST", url: "/management/v1/product-orders", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "k"}, body: "a=b", status: 415},
		{name: "missing body", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, status: 400, detail: "body: is required", extra: 1},
		{name: "body too large", method: "POST", url: "/management/v1/product-orders", headers: orderHeaders, body: strings.Replace(goodOrder, "{", `{"intendedPurpose":"`+strings.Repeat("x", 5000)+`",`, 1), status: 413, slug: "request-too-large"},
		{name: "includeExpired true", method: "GET", url: "/management/v2/product-orders?includeExpired=true", status: 200},
		{name: "includeExpired bad", method: "GET", url: "/management/v2/product-orders?includeExpired=yes", status: 400, detail: "includeExpired: must be true or false", extra: 1},
		{name: "productOrderId not uuid", method: "GET", url: "/management/v2/product-orders/nope/details", status: 400, detail: "productOrderId: must be a UUID", extra: 1},
		{name: "submit without body", method: "POST", url: "/admin/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43/submit", status: 200},
		{name: "submit with details", method: "POST", url: "/admin/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43/submit", headers: jsonCT, body: `{"salesUnitName":"New name"}`, status: 200},
		{name: "submit bad details", method: "POST", url: "/admin/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43/submit", headers: jsonCT, body: `{"annualTurnoverPercentage":"15"}`, status: 400, detail: "annualTurnoverPercentage", extra: 1},
		{name: "approval unknown field", method: "POST", url: "/admin/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43/approve", headers: jsonCT, body: `{"nickname":"x"}`, status: 400, detail: "nickname: is not a field of this request", extra: 1},
		{name: "approval unknown member named by digits", method: "POST", url: "/admin/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43/approve", headers: jsonCT, body: `{"0":"x"}`, status: 400, detail: "0: is not a field of this request", extra: 1},
		{name: "approval unknown member with a quote", method: "POST", url: "/admin/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43/approve", headers: jsonCT, body: `{"a\"b":"x"}`, status: 400, detail: `a"b: is not a field of this request`, extra: 1},
		{name: "submit logo not base64", method: "POST", url: "/admin/v1/product-orders/0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43/submit", headers: jsonCT, body: `{"salesUnitLogo":"***"}`, status: 400, detail: "salesUnitLogo: must be base64", extra: 1},
		{name: "patch disconnects", method: "PATCH", url: "/admin/v1/sales-units/123456", headers: jsonCT, body: `{"partnerId":null}`, status: 200},
		{name: "patch bad partner", method: "PATCH", url: "/admin/v1/sales-units/123456", headers: jsonCT, body: `{"partnerId":"no spaces"}`, status: 400, detail: "partnerId", extra: 1},
		{name: "patch wrong status", method: "PATCH", url: "/admin/v1/sales-units/123456", headers: jsonCT, body: `{"status":"GONE"}`, status: 400, detail: "status", extra: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status < 400 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("content type %q, want application/problem+json", got)
			}
			var p struct {
				Type         string `json:"type"`
				Title        string `json:"title"`
				Status       int    `json:"status"`
				Detail       string `json:"detail"`
				Instance     string `json:"instance"`
				ExtraDetails []struct{ Key, Value string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("problem body: %v: %s", err, rec.Body)
			}
			if p.Status != tt.status || p.Title == "" || p.Instance == "" || p.Type == "" {
				t.Errorf("incomplete problem %+v", p)
			}
			if tt.slug != "" && !strings.HasSuffix(p.Type, "/"+tt.slug) {
				t.Errorf("type %q, want slug %q", p.Type, tt.slug)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", p.Detail, tt.detail)
			}
			if strings.Contains(p.Detail, "Schema:") || strings.Contains(p.Detail, "Error at") {
				t.Errorf("detail carries kin-openapi noise: %q", p.Detail)
			}
			if len(p.ExtraDetails) != tt.extra {
				t.Errorf("%d extraDetails, want %d: %+v", len(p.ExtraDetails), tt.extra, p.ExtraDetails)
			}
		})
	}
}

// The handlers must see what was sent, with a numeric MCC turned into the string the type expects
// and a null partnerId kept apart from an absent one.
func TestValidatorPassesBodies(t *testing.T) {
	h, s := newServer(t, mustValidator(t))
	do := func(method, url, body string) {
		t.Helper()
		req := httptest.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			t.Fatalf("%s %s: status %d: %s", method, url, rec.Code, rec.Body)
		}
	}
	do("POST", "/management/v1/product-orders", strings.Replace(goodOrder, "{", `{"merchantCategoryCode":742,`, 1))
	if s.lastOrder == nil || s.lastOrder.MerchantCategoryCode == nil || *s.lastOrder.MerchantCategoryCode != "0742" {
		t.Errorf("merchantCategoryCode: got %+v, want 0742", s.lastOrder)
	}
	if s.lastOrder.SalesUnitName == nil || *s.lastOrder.SalesUnitName != "ACME Fitness" {
		t.Errorf("salesUnitName lost: %+v", s.lastOrder.SalesUnitName)
	}
	do("PATCH", "/admin/v1/sales-units/123456", `{"partnerId":null}`)
	if got := string(s.lastUpdate.PartnerId); got != "null" {
		t.Errorf("partnerId null: got %q", got)
	}
	do("PATCH", "/admin/v1/sales-units/123456", `{"name":"x"}`)
	if got := string(s.lastUpdate.PartnerId); got != "" {
		t.Errorf("partnerId absent: got %q", got)
	}
	do("GET", "/management/v2/product-orders?includeExpired=true", "")
	if s.includedFlag == nil || !*s.includedFlag {
		t.Errorf("includeExpired: got %v", s.includedFlag)
	}
}

// Every operation of the generated server has compiled checks, so none is passed through unchecked.
func TestValidatorCoversGeneratedRoutes(t *testing.T) {
	v := mustValidator(t)
	var patterns []string
	mux := recordingMux{ServeMux: http.NewServeMux(), patterns: &patterns}
	HandlerWithOptions(NewStrictHandler(&stub{}, nil), StdHTTPServerOptions{BaseRouter: mux})
	if len(patterns) == 0 {
		t.Fatal("no routes registered")
	}
	for _, p := range patterns {
		if v.ops[p] == nil {
			t.Errorf("no validation for %s", p)
		}
	}
}

type recordingMux struct {
	*http.ServeMux
	patterns *[]string
}

func (m recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	*m.patterns = append(*m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func TestParamErrorHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	ParamErrorHandler(rec, httptest.NewRequest("GET", "/", nil), &TooManyValuesForParamError{ParamName: "Vipps-System-Name", Count: 2})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "Vipps-System-Name: must be given once") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

// discard is a ResponseWriter that keeps nothing, so benchmarks measure the validator only.
type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func getMsnRequest() *http.Request {
	r := httptest.NewRequest("GET", "/management/v1/sales-units/123456", nil)
	r.Header.Set("Authorization", "Bearer x")
	r.Header.Set("Vipps-System-Name", "woocommerce")
	r.Header.Set("Vipps-System-Version", "8.1.0")
	r.Header.Set("Vipps-System-Plugin-Name", "vipps-woocommerce")
	r.Header.Set("Vipps-System-Plugin-Version", "2.0.1")
	r.Pattern = "GET /management/v1/sales-units/{msn}"
	r.SetPathValue("msn", "123456")
	return r
}

// BenchmarkValidateGetMsn is the validator's cost on the hot read: a lookup of r.Pattern and the
// precompiled header and path checks, with no kin-openapi call.
func BenchmarkValidateGetMsn(b *testing.B) {
	v := mustValidator(b)
	r := getMsnRequest()
	w := discard{h: http.Header{}}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	b.ReportAllocs()
	for b.Loop() {
		v.Middleware(next).ServeHTTP(w, r)
	}
}

// BenchmarkValidateGetMsnKin is the same check done by openapi3filter with a prebuilt route, for
// comparison.
func BenchmarkValidateGetMsnKin(b *testing.B) {
	doc := contractDocument(b)
	path := "/management/v1/sales-units/{msn}"
	item := doc.Paths.Value(path)
	route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: "GET", Operation: item.Get}
	r := getMsnRequest()
	in := &openapi3filter.RequestValidationInput{
		Request: r, PathParams: map[string]string{"msn": "123456"}, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateOrderProduct is a full prefill body through the schema check.
func BenchmarkValidateOrderProduct(b *testing.B) {
	v := mustValidator(b)
	w := discard{h: http.Header{}}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/management/v1/product-orders", strings.NewReader(goodOrder))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Idempotency-Key", "abc")
		r.Pattern = "POST /management/v1/product-orders"
		v.Middleware(next).ServeHTTP(w, r)
	}
}

// BenchmarkServeGetMsn compares the generated server with and without the validator, end to end
// through the ServeMux.
func BenchmarkServeGetMsn(b *testing.B) {
	for _, withValidator := range []bool{false, true} {
		name := "bare"
		var v *Validator
		if withValidator {
			name, v = "validated", mustValidator(b)
		}
		b.Run(name, func(b *testing.B) {
			h, _ := newServer(b, v)
			r := getMsnRequest()
			r.Pattern = ""
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(discard{h: http.Header{}}, r)
			}
		})
	}
}

// TestPageParametersAgreeWithDomain: the contract documents the page bounds the domain enforces.
func TestPageParametersAgreeWithDomain(t *testing.T) {
	doc := contractDocument(t)
	limit := doc.Components.Parameters["limit"].Value.Schema.Value
	if limit.Min == nil || *limit.Min != 1 || limit.Max == nil || *limit.Max != vippsmgmt.MaxPageLimit ||
		limit.Default != float64(vippsmgmt.DefaultPageLimit) {
		t.Errorf("limit: minimum %v, maximum %v, default %v; want 1, %d, %d", limit.Min, limit.Max, limit.Default,
			vippsmgmt.MaxPageLimit, vippsmgmt.DefaultPageLimit)
	}
	if c := doc.Components.Parameters["cursor"].Value.Schema.Value; c.MaxLength == nil || *c.MaxLength != vippsmgmt.MaxCursorBytes {
		t.Errorf("cursor: maxLength %v, want %d", c.MaxLength, vippsmgmt.MaxCursorBytes)
	}
}

// An operation listed in Decoded keeps its parameter checks, but its body reaches the handler
// unread: the handler reads it with ReadBody and decodes it once.
func TestValidatorLeavesDecodedBodies(t *testing.T) {
	v := mustValidator(t)
	v.Decoded = map[string]bool{"POST /management/v1/product-orders": true}
	h, s := newServer(t, v)
	send := func(key, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/management/v1/product-orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := send("k1", `{"businessIdentifier":{"scheme":"x","id":"1"},"productType":"NOPE"}`); rec.Code != 201 || s.lastOrder == nil || s.lastOrder.ProductType != "NOPE" {
		t.Errorf("a body the schema faults: %d %s, want it passed to the handler", rec.Code, rec.Body)
	}
	if rec := send("not_valid!", goodOrder); rec.Code != 400 || !strings.Contains(rec.Body.String(), "Idempotency-Key") {
		t.Errorf("a bad parameter: %d %s, want 400 naming it", rec.Code, rec.Body)
	}
}

// TestReadAllTakesNoMoreThanSent: a client announcing the largest body and sending a little holds
// a bounded buffer, not the announced size; a body longer than the first buffer still reads whole.
func TestReadAllTakesNoMoreThanSent(t *testing.T) {
	raw, err := readAll(strings.NewReader(`{"a":1}`), MaxBodyBytes)
	if err != nil || string(raw) != `{"a":1}` {
		t.Fatalf("readAll: %q, %v", raw, err)
	}
	if cap(raw) > preallocBytes {
		t.Errorf("a 7-byte body announced as %d bytes took a %d-byte buffer", MaxBodyBytes, cap(raw))
	}
	long := strings.Repeat("x", 3*preallocBytes+5)
	if raw, err := readAll(strings.NewReader(long), int64(len(long))); err != nil || string(raw) != long {
		t.Fatalf("a %d-byte body read as %d bytes, %v", len(long), len(raw), err)
	}
}

// TestParamsValid: the fast path's check passes a request Middleware would let through and
// refuses, without writing, what Middleware would answer or an operation it cannot judge alone.
func TestParamsValid(t *testing.T) {
	v := mustValidator(t)
	const pattern = "GET /management/v1/sales-units/{msn}"
	msn := func(s string) func(string) string { return func(string) string { return s } }
	if r := getMsnRequest(); !v.ParamsValid(pattern, r, r.PathValue) {
		t.Error("a valid lookup is refused")
	}
	if r := getMsnRequest(); !v.ParamsValid(pattern, r, msn("654321")) {
		t.Error("a valid msn from pathValue is refused")
	}
	for name, c := range map[string]struct {
		pattern string
		msn     string
		header  func(http.Header)
	}{
		"bad msn":                  {pattern, "12ab", nil},
		"no msn":                   {pattern, "", nil},
		"system name too long":     {pattern, "123456", func(h http.Header) { h.Set("Vipps-System-Name", strings.Repeat("a", 31)) }},
		"header twice":             {pattern, "123456", func(h http.Header) { h.Add("Vipps-System-Name", "again") }},
		"an operation with a body": {"POST /management/v1/product-orders", "123456", nil},
		"an unknown pattern":       {"GET /nothing", "123456", nil},
	} {
		r := getMsnRequest()
		if c.header != nil {
			c.header(r.Header)
		}
		if v.ParamsValid(c.pattern, r, msn(c.msn)) {
			t.Errorf("%s: passed", name)
		}
	}
}
