package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	contract "github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

func loadContract(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(contract.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil // match on path only, whatever the test server's host
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

// contractChecker is an http.RoundTripper that checks every response against api/openapi.yaml:
// its status must be declared for the operation and its body and content type must match.
type contractChecker struct {
	t      *testing.T
	router routers.Router
	mu     sync.Mutex
	seen   map[string]map[int]bool // operationId -> statuses
}

func (c *contractChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			c.t.Errorf("%s %s: not in the contract but answered %d", req.Method, req.URL.Path, resp.StatusCode)
		}
		return resp, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s -> %d %s: response breaks the contract: %v\nbody: %.400s", req.Method, req.URL.Path,
			resp.StatusCode, resp.Header.Get("Content-Type"), err, body)
	}
	c.mu.Lock()
	op := route.Operation.OperationID
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][resp.StatusCode] = true
	c.mu.Unlock()
	return resp, nil
}

// TestContractWalk calls every operation of api/openapi.yaml, for success and for failure, and
// checks each response against the document.
func TestContractWalk(t *testing.T) {
	doc, router := loadContract(t)
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	checker := &contractChecker{t: t, router: router, seen: map[string]map[int]bool{}}
	a := testserver.Client{T: t, URL: srv.URL, HTTP: &http.Client{Transport: checker}}
	call := a.Do

	p := fixtures.DemoPartnerKeys
	basic := testserver.Basic(fixtures.DemoManagementKeys)
	form := "application/x-www-form-urlencoded"
	// Tokens.
	call("POST", "/accesstoken/get", "", "client_id", p.ClientID, "client_secret", p.ClientSecret, "Ocp-Apim-Subscription-Key", p.SubscriptionKey)
	call("POST", "/accesstoken/get", "", "client_id", p.ClientID, "client_secret", "wrong", "Ocp-Apim-Subscription-Key", p.SubscriptionKey)
	call("POST", "/accesstoken/get", "", "client_id", p.ClientID, "client_secret", p.ClientSecret)
	call("POST", "/accesstoken/get", "", "client_id", "no-such-client", "client_secret", "x", "Ocp-Apim-Subscription-Key", p.SubscriptionKey)
	call("POST", "/miami/v1/token", "grant_type=client_credentials", "Authorization", basic, "Content-Type", form)
	call("POST", "/miami/v1/token", "", "Authorization", basic, "Content-Type", form)
	call("POST", "/miami/v1/token", "grant_type=client_credentials", "Authorization", "Basic eDp5", "Content-Type", form)
	call("GET", "/.well-known/jwks.json", nil)
	call("GET", "/healthz", nil)
	call("GET", "/readyz", nil)
	call("GET", "/openapi.yaml", nil)

	auth := a.Classic(p)
	merchant := a.Classic(fixtures.DemoMerchantKeys)
	units := []msnInfo{}
	call("GET", "/management/v1/sales-units", nil, auth...).JSON(t, &units)
	call("GET", "/management/v1/sales-units", nil)
	msn := units[0].MSN
	var su struct{ BusinessIdentifier struct{ Scheme, ID string } }
	call("GET", "/management/v1/sales-units/"+msn, nil, auth...).JSON(t, &su)
	call("GET", "/management/v1/sales-units/00000000", nil, auth...)
	call("GET", "/management/v1/sales-units/1", nil, auth...)
	merchantPath := "/management/v1/merchants/" + su.BusinessIdentifier.Scheme + "/" + su.BusinessIdentifier.ID
	call("GET", merchantPath, nil, auth...)
	call("GET", merchantPath+"/sales-units", nil, auth...)
	call("GET", "/management/v1/merchants/business:NO:ORG/000000000", nil, auth...)
	call("GET", "/management/v1/merchants/business:NO:ORG/000000000/sales-units", nil, auth...)
	call("GET", "/management/v1/merchants/business:NO:ORG/987654321", nil, auth...)
	call("GET", "/management/v1/merchants/business:NO:ORG/987654321/sales-units", nil, auth...)
	call("GET", "/management/v1/partners/price-packages", nil, auth...)
	call("GET", "/management/v1/partners/price-packages", nil, merchant...)
	call("GET", "/management/v2/product-orders", nil, auth...)
	call("GET", "/management/v2/product-orders?includeExpired=maybe", nil, auth...)
	call("GET", "/management/v1/product-orders", nil, auth...)
	call("GET", "/management/v1/product-orders?includeExpired=maybe", nil, auth...)
	body := fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":"CHECKOUT"}`, su.BusinessIdentifier.Scheme, su.BusinessIdentifier.ID)
	var created struct{ PrefilledOrderID string }
	call("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", "walk-1")...).JSON(t, &created)
	call("POST", "/management/v1/product-orders", strings.Replace(body, "CHECKOUT", "LOGIN", 1), append(auth, "Idempotency-Key", "walk-1")...)
	call("POST", "/management/v1/product-orders", `{"productType":"CHECKOUT"}`, append(auth, "Idempotency-Key", "walk-2")...)
	call("POST", "/management/v1/product-orders", `{`, append(auth, "Idempotency-Key", "walk-3")...)
	call("POST", "/management/v1/product-orders", body, append(merchant, "Idempotency-Key", "walk-4")...)
	id := created.PrefilledOrderID
	unknown := "0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43"
	for _, v := range []string{"v1", "v2"} {
		call("GET", "/management/"+v+"/product-orders/"+id+"/details", nil, auth...)
		call("GET", "/management/"+v+"/product-orders/"+unknown+"/details", nil, auth...)
		call("GET", "/management/"+v+"/product-orders/not-a-uuid/details", nil, auth...)
	}

	// Operator API: the lifecycle of the order, then the data operations.
	adm := testserver.AdminHeaders(testserver.AdminToken)
	call("GET", "/admin/v1/product-orders", nil, adm...)
	call("GET", "/admin/v1/product-orders?status=NOPE", nil, adm...)
	call("GET", "/admin/v1/product-orders/"+id, nil, adm...)
	call("GET", "/admin/v1/product-orders/"+unknown, nil, adm...)
	call("POST", "/admin/v1/product-orders/"+id+"/approve", `{}`, adm...)
	call("POST", "/admin/v1/product-orders/"+id+"/view", nil, adm...)
	call("POST", "/admin/v1/product-orders/"+unknown+"/view", nil, adm...)
	call("POST", "/admin/v1/product-orders/"+id+"/submit", `{"salesUnitName":"x!"}`, adm...)
	call("POST", "/admin/v1/product-orders/"+id+"/submit", `{"salesUnitName":"Walk Unit"}`, adm...)
	call("POST", "/admin/v1/product-orders/"+id+"/approve", `{"msn":"12"}`, adm...)
	call("POST", "/admin/v1/product-orders/"+id+"/approve", `{}`, adm...)
	call("POST", "/admin/v1/product-orders/"+id+"/reject", `{"reason":"too late"}`, adm...)
	call("DELETE", "/management/v1/product-orders/"+id, nil, auth...)
	call("DELETE", "/management/v1/product-orders/"+unknown, nil, auth...)
	var third struct{ PrefilledOrderID string }
	call("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", "walk-6")...).JSON(t, &third)
	call("DELETE", "/management/v1/product-orders/"+third.PrefilledOrderID, nil, auth...)
	var second struct{ PrefilledOrderID string }
	call("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", "walk-5")...).JSON(t, &second)
	call("POST", "/admin/v1/product-orders/"+second.PrefilledOrderID+"/reject", `{}`, adm...)
	call("POST", "/admin/v1/product-orders/"+second.PrefilledOrderID+"/submit", nil, adm...)
	// A blank reason is refused by the store's rule, as the console's is.
	call("POST", "/admin/v1/product-orders/"+second.PrefilledOrderID+"/reject", `{"reason":" \n "}`, adm...).Expect(t, 400, "application/problem+json")
	call("POST", "/admin/v1/product-orders/"+second.PrefilledOrderID+"/reject", `{"reason":"incomplete compliance data"}`, adm...)
	call("DELETE", "/management/v1/product-orders/"+second.PrefilledOrderID, nil, auth...)
	call("GET", "/admin/v1/clock", nil, adm...)
	call("GET", "/admin/v1/clock", nil)
	call("POST", "/admin/v1/clock", `{"advance":"1h"}`, adm...)
	call("POST", "/admin/v1/clock", `{"advance":"-1h"}`, adm...)
	call("GET", "/admin/v1/partners", nil, adm...)
	call("GET", "/admin/v1/partners?limit=1", nil, adm...)
	call("GET", "/admin/v1/partners?limit=0", nil, adm...)
	call("GET", "/admin/v1/partners?cursor=nope", nil, adm...)
	call("GET", "/admin/v1/partners", nil)
	call("POST", "/admin/v1/partners", `{"partnerId":"walk-partner","name":"Walk Partner AS"}`, adm...)
	call("POST", "/admin/v1/partners", `{"partnerId":"","name":""}`, adm...)
	call("GET", "/admin/v1/partners/walk-partner/keys", nil, adm...)
	call("GET", "/admin/v1/partners/nobody/keys", nil, adm...)
	var keys struct{ ClientID string }
	call("POST", "/admin/v1/partners/walk-partner/keys", `{"kind":"partner"}`, adm...).JSON(t, &keys)
	call("POST", "/admin/v1/partners/walk-partner/keys", `{"kind":"management"}`, adm...)
	call("POST", "/admin/v1/partners/walk-partner/keys", `{"kind":"merchant"}`, adm...)
	call("POST", "/admin/v1/partners/nobody/keys", `{"kind":"partner"}`, adm...)
	call("POST", "/admin/v1/sales-units/"+msn+"/keys", `{}`, adm...)
	call("POST", "/admin/v1/sales-units/99999999/keys", `{}`, adm...)
	call("POST", "/admin/v1/keys/"+keys.ClientID+"/revoke", nil, adm...)
	call("POST", "/admin/v1/keys/no-such-client/revoke", nil, adm...)
	call("GET", "/admin/v1/partners/walk-partner/price-packages", nil, adm...)
	call("GET", "/admin/v1/partners/nobody/price-packages", nil, adm...)
	call("POST", "/admin/v1/partners/walk-partner/price-packages", `{"name":"Walk","description":"1.99%","productType":"CHECKOUT","market":"NO"}`, adm...)
	call("POST", "/admin/v1/partners/walk-partner/price-packages", `{"name":"Walk","description":"far too long"}`, adm...)
	// Scenario control: each injected status on a Management operation must fit the contract too.
	call("GET", "/admin/v1/faults", nil, adm...)
	call("GET", "/admin/v1/faults", nil)
	for _, effect := range []string{`"status":401`, `"status":429,"retryAfterSeconds":2`, `"status":500`, `"status":502`, `"status":503,"retryAfterSeconds":1`, `"status":504`} {
		call("POST", "/admin/v1/faults", `{"id":"walk","match":{"operationId":"getAllSalesUnits"},"effect":{`+effect+`},"count":1}`, adm...)
		call("GET", "/management/v1/sales-units", nil, auth...)
		call("DELETE", "/admin/v1/faults/walk", nil, adm...)
	}
	call("POST", "/admin/v1/faults", `{"match":{"operationId":"nope"},"effect":{"status":503}}`, adm...)
	call("DELETE", "/admin/v1/faults/walk", nil, adm...)
	call("GET", "/admin/v1/autopilot", nil, adm...)
	call("GET", "/admin/v1/autopilot", nil)
	call("PUT", "/admin/v1/autopilot", `{"partnerId":"walk-partner","view":"1m","submit":"5m","decision":"approve"}`, adm...)
	call("PUT", "/admin/v1/autopilot", `{"partnerId":"walk-partner","decision":"maybe"}`, adm...)
	call("DELETE", "/admin/v1/autopilot?partnerId=walk-partner", nil, adm...)
	call("DELETE", "/admin/v1/autopilot", nil, adm...)
	call("GET", "/admin/v1/merchants?q=a", nil, adm...)
	call("GET", "/admin/v1/merchants", nil)
	call("POST", "/admin/v1/merchants", `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"923456791"},"name":"Walk Merchant AS"}`, adm...)
	call("POST", "/admin/v1/merchants", `{"businessIdentifier":{"scheme":"x","id":"y"},"name":""}`, adm...)
	call("GET", "/admin/v1/sales-units?q="+msn, nil, adm...)
	call("GET", "/admin/v1/sales-units", nil)
	call("POST", "/admin/v1/sales-units", `{"msn":"7654321","name":"Walk Unit","businessIdentifier":{"scheme":"business:NO:ORG","id":"923456791"},"partnerId":"walk-partner"}`, adm...)
	call("POST", "/admin/v1/sales-units", `{"msn":"7654321","name":"Walk Unit","businessIdentifier":{"scheme":"business:NO:ORG","id":"923456791"}}`, adm...)
	call("GET", "/admin/v1/sales-units/7654321", nil, adm...)
	call("GET", "/admin/v1/sales-units/99999999", nil, adm...)
	call("PATCH", "/admin/v1/sales-units/7654321", `{"status":"INACTIVE","partnerId":null,"configuration":{"captureType":"DirectCapture"}}`, adm...)
	call("PATCH", "/admin/v1/sales-units/7654321", `{"status":"SLEEPING"}`, adm...)
	call("GET", "/admin/v1/notifications", nil, adm...)
	call("GET", "/admin/v1/notifications", nil)
	call("GET", "/admin/v1/requests", nil, adm...)
	call("GET", "/admin/v1/requests", nil)
	call("GET", "/admin/v1/report", nil, adm...)
	call("GET", "/admin/v1/report?clientId=", nil, adm...)
	call("DELETE", "/admin/v1/report", nil, adm...)
	call("DELETE", "/admin/v1/report", nil)

	// Every operation answered at least one success and, where it takes input, one failure.
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			statuses := checker.seen[op.OperationID]
			ok, failed := false, false
			for s := range statuses {
				ok = ok || s < 300
				failed = failed || s >= 400
			}
			noInput := len(op.Parameters) == 0 && len(item.Parameters) == 0 && op.RequestBody == nil && op.Security != nil && len(*op.Security) == 0
			if !ok || (!failed && !noInput) {
				missing = append(missing, fmt.Sprintf("%s %s (%s) saw %v", method, path, op.OperationID, statuses))
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("not walked for success and failure: %s", m)
	}
}

// TestEveryDocumentedRouteIsServed checks that no path and method of api/openapi.yaml falls
// through to the 404/405 handler.
func TestEveryDocumentedRouteIsServed(t *testing.T) {
	doc, _ := loadContract(t)
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			concrete := strings.NewReplacer("{msn}", "123456", "{scheme}", "business:NO:ORG", "{id}", "987654317",
				"{productOrderId}", "0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43", "{partnerId}", "acme-partner",
				"{clientId}", "some-client", "{faultId}", "some-rule").Replace(path)
			req, _ := http.NewRequest(method, srv.URL+concrete, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusMethodNotAllowed || bytes.Contains(b, []byte("No resource at")) {
				t.Errorf("%s %s is documented but not routed: %d %s", method, path, resp.StatusCode, b)
			}
		}
	}
}
