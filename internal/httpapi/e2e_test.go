package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// api is a tiny HTTP client for the tests: it sends exactly the headers given, like curl.
type api struct {
	t      *testing.T
	base   string
	client *http.Client // default http.DefaultClient
}

// startAPI starts a server on a new SQLite database with the demo data and returns its client.
func startAPI(t *testing.T) api {
	return api{t: t, base: testserver.Start(t, "sqlite", testserver.Options{}).URL}
}

// startPartner is startAPI with the demo partner's classic token headers.
func startPartner(t *testing.T) (api, []string) {
	a := startAPI(t)
	return a, a.classic(fixtures.DemoPartnerKeys)
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r reply) problem(t *testing.T) map[string]any {
	t.Helper()
	return testserver.ProblemFields(t, r.body)
}

func (a api) do(method, path string, body any, headers ...string) reply {
	a.t.Helper()
	r, err := testserver.Call(context.Background(), a.client, method, a.base+path, body, headers...)
	if err != nil {
		a.t.Fatal(err)
	}
	return reply{r.Status, r.Header, r.Body}
}

func expect(t *testing.T, r reply, status int, contentType string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if contentType != "" && r.header.Get("Content-Type") != contentType {
		t.Fatalf("Content-Type %q, want %q", r.header.Get("Content-Type"), contentType)
	}
}

const jsonUTF8 = "application/json;charset=UTF-8"

// classic returns the headers of a classic-flow call for a key set, like quick start step 2.
func (a api) classic(k fixtures.Keys) []string {
	a.t.Helper()
	r := a.do("POST", "/accesstoken/get", "", "Content-Type", "application/json",
		"client_id", k.ClientID, "client_secret", k.ClientSecret, "Ocp-Apim-Subscription-Key", k.SubscriptionKey)
	expect(a.t, r, 200, jsonUTF8)
	var tok map[string]any
	r.json(a.t, &tok)
	for _, f := range []string{"expires_in", "ext_expires_in", "expires_on", "not_before", "resource", "access_token"} {
		if _, ok := tok[f].(string); !ok {
			a.t.Fatalf("%s is not a string: %s", f, r.body)
		}
	}
	return []string{"Content-Type", "application/json", "Authorization", "Bearer " + tok["access_token"].(string),
		"Ocp-Apim-Subscription-Key", k.SubscriptionKey}
}

// management returns the headers of a management-flow call, like the quick start's miami curl.
func (a api) management(k fixtures.Keys) []string {
	a.t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(k.ClientID + ":" + k.ClientSecret))
	r := a.do("POST", "/miami/v1/token", "grant_type=client_credentials", "Authorization", "Basic "+basic,
		"Content-Type", "application/x-www-form-urlencoded; charset=utf-8", "Vipps-System-Name", "acme")
	expect(a.t, r, 200, jsonUTF8)
	var tok struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	r.json(a.t, &tok)
	if tok.ExpiresIn != 900 {
		a.t.Fatalf("expires_in = %v, want 900", tok.ExpiresIn)
	}
	return []string{"Content-Type", "application/json", "Authorization", "Bearer " + tok.AccessToken}
}

func admin(extra ...string) []string {
	return append([]string{"Authorization", "Bearer " + testserver.AdminToken, "Content-Type", "application/json"}, extra...)
}

type msnInfo struct {
	MSN  string `json:"msn"`
	Name string `json:"name"`
}

// TestQuickStart walks steps 2 to 11 of the quick start on both databases with both token flows.
func TestQuickStart(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, backend string, srv *testserver.Server) {
		a := api{t: t, base: srv.URL}
		for flow, auth := range map[string][]string{"classic": a.classic(fixtures.DemoPartnerKeys), "management": a.management(fixtures.DemoManagementKeys)} {
			t.Run(flow, func(t *testing.T) {
				a := api{t: t, base: srv.URL}
				// Step 3.
				r := a.do("GET", "/management/v1/sales-units", nil, auth...)
				expect(t, r, 200, jsonUTF8)
				var units []msnInfo
				r.json(t, &units)
				if len(units) == 0 {
					t.Fatal("no sales units")
				}
				// Step 4.
				r = a.do("GET", "/management/v1/sales-units/"+units[0].MSN, nil, auth...)
				expect(t, r, 200, jsonUTF8)
				var su struct {
					MSN                string            `json:"msn"`
					BusinessIdentifier map[string]string `json:"businessIdentifier"`
					Configuration      map[string]any    `json:"configuration"`
				}
				r.json(t, &su)
				scheme, id := su.BusinessIdentifier["scheme"], su.BusinessIdentifier["id"]
				if su.MSN != units[0].MSN || scheme == "" || id == "" || su.Configuration == nil {
					t.Fatalf("sales unit %s", r.body)
				}
				// Steps 5 and 6.
				r = a.do("GET", "/management/v1/merchants/"+scheme+"/"+id+"/sales-units", nil, auth...)
				expect(t, r, 200, jsonUTF8)
				r = a.do("GET", "/management/v1/merchants/"+scheme+"/"+id, nil, auth...)
				expect(t, r, 200, jsonUTF8)
				var m map[string]any
				r.json(t, &m)
				if m["name"] == "" || m["status"] != "ACTIVE" || m["createdAt"] == nil {
					t.Fatalf("merchant %s", r.body)
				}
				// Step 7.
				r = a.do("GET", "/management/v2/product-orders", nil, auth...)
				expect(t, r, 200, jsonUTF8)
				// Step 8, with the quick start's lower-case k.
				key := "qs-" + backend + "-" + flow
				body := fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":"CHECKOUT"}`, scheme, id)
				r = a.do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-key", key)...)
				expect(t, r, 201, "application/json")
				var created struct{ PrefilledOrderID, PrefillURL string }
				r.json(t, &created)
				if created.PrefillURL != srv.URL+"/register/prefilled/"+created.PrefilledOrderID {
					t.Fatalf("prefill answer %s", r.body)
				}
				// A retry with the same key and body replays; another body conflicts.
				again := a.do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", key)...)
				expect(t, again, 201, "application/json")
				if !bytes.Equal(again.body, r.body) {
					t.Fatalf("replay %s, first %s", again.body, r.body)
				}
				other := strings.Replace(body, "CHECKOUT", "LOGIN", 1)
				expect(t, a.do("POST", "/management/v1/product-orders", other, append(auth, "Idempotency-Key", key)...), 409, "application/problem+json")
				// Step 9.
				r = a.do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, auth...)
				expect(t, r, 200, jsonUTF8)
				var details map[string]any
				r.json(t, &details)
				if details["status"] != "RECEIVED" || details["productOrderType"] != "PREFILL" || details["productOrderUrl"] != created.PrefillURL {
					t.Fatalf("details %s", r.body)
				}
				// Step 10, then the order is gone.
				expect(t, a.do("DELETE", "/management/v1/product-orders/"+created.PrefilledOrderID, nil, auth...), 200, "")
				gone := a.do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, auth...)
				expect(t, gone, 404, jsonUTF8)
				gone.problem(t)
				expect(t, a.do("DELETE", "/management/v1/product-orders/"+created.PrefilledOrderID, nil, auth...), 404, jsonUTF8)
				// Step 11.
				r = a.do("GET", "/management/v1/partners/price-packages", nil, auth...)
				expect(t, r, 200, jsonUTF8)
				var pkgs []map[string]any
				r.json(t, &pkgs)
				if len(pkgs) != 2 {
					t.Fatalf("price packages %s", r.body)
				}
			})
		}
	})
}

// TestLifecycle takes prefills through the portal steps, the operator's decision and expiry.
func TestLifecycle(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, _ string, srv *testserver.Server) {
		a := api{t: t, base: srv.URL}
		auth := a.classic(fixtures.DemoPartnerKeys)
		prefill := func(key, body string) string {
			r := a.do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", key)...)
			expect(t, r, 201, "application/json")
			var c struct{ PrefilledOrderID string }
			r.json(t, &c)
			return c.PrefilledOrderID
		}
		status := func(id string) map[string]any {
			r := a.do("GET", "/management/v2/product-orders/"+id+"/details", nil, auth...)
			expect(t, r, 200, jsonUTF8)
			var d map[string]any
			r.json(t, &d)
			return d
		}
		newMerchant := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"PAYMENT_INTEGRATION",` +
			`"salesUnitName":"Kiosk & Cafe Storgata","settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"},` +
			`"website":{"url":"https://kiosk.example","termsUrl":"https://kiosk.example/terms"},"merchantCategoryCode":"5812"}`
		newMerchant = strings.Replace(newMerchant, " & ", " and ", 1)
		id := prefill("life-1", newMerchant)

		expect(t, a.do("POST", "/admin/v1/product-orders/"+id+"/approve", `{}`, admin()...), 409, "application/problem+json")
		expect(t, a.do("POST", "/admin/v1/product-orders/"+id+"/view", nil, admin()...), 200, "")
		if s := status(id)["status"]; s != "MERCHANT_VIEWED" {
			t.Fatalf("after view: %v", s)
		}
		expect(t, a.do("POST", "/admin/v1/product-orders/"+id+"/submit", `{"salesUnitName":"Kiosk Storgata"}`, admin()...), 200, "")
		if s := status(id)["status"]; s != "ORDER_SUBMITTED" {
			t.Fatalf("after submit: %v", s)
		}
		expect(t, a.do("DELETE", "/management/v1/product-orders/"+id, nil, auth...), 400, "application/problem+json")
		// The merchant is new, so approving needs its name.
		expect(t, a.do("POST", "/admin/v1/product-orders/"+id+"/approve", `{}`, admin()...), 400, "application/problem+json")
		r := a.do("POST", "/admin/v1/product-orders/"+id+"/approve", `{"merchantName":"Kiosk Storgata AS"}`, admin()...)
		expect(t, r, 200, "")
		var unit struct{ Msn, Name string }
		r.json(t, &unit)
		d := status(id)
		su, _ := d["salesUnit"].(map[string]any)
		if d["status"] != "COMPLETED" || su["msn"] != unit.Msn || su["name"] != "Kiosk Storgata" {
			t.Fatalf("completed details %v, unit %+v", d, unit)
		}
		expect(t, a.do("POST", "/admin/v1/product-orders/"+id+"/reject", `{"reason":"late"}`, admin()...), 409, "application/problem+json")
		expect(t, a.do("GET", "/management/v1/sales-units/"+unit.Msn, nil, auth...), 200, jsonUTF8)
		expect(t, a.do("GET", "/management/v1/merchants/business:NO:ORG/912345688", nil, auth...), 200, jsonUTF8)
		r = a.do("GET", "/admin/v1/notifications", nil, admin()...)
		expect(t, r, 200, "")
		if n := strings.Count(string(r.body), `"productOrderId":"`+id+`"`); n != 2 {
			t.Fatalf("%d notifications for the order: %s", n, r.body)
		}

		// Expiry: 336 hours after creation, visible at once, before any sweep.
		old := prefill("life-2", `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"LOGIN"}`)
		expect(t, a.do("POST", "/admin/v1/clock", `{"advance":"337h"}`, admin()...), 200, "")
		// Token lifetimes follow the same clock: the 24-hour token has expired too.
		expect(t, a.do("GET", "/management/v1/sales-units", nil, auth...), 401, "application/problem+json")
		auth = a.classic(fixtures.DemoPartnerKeys)
		if s := status(old)["status"]; s != "EXPIRED" {
			t.Fatalf("after 337h: %v", s)
		}
		r = a.do("GET", "/management/v2/product-orders", nil, auth...)
		if strings.Contains(string(r.body), old) {
			t.Fatal("expired order listed without includeExpired")
		}
		r = a.do("GET", "/management/v2/product-orders?includeExpired=true", nil, auth...)
		if !strings.Contains(string(r.body), old) {
			t.Fatal("expired order missing with includeExpired=true")
		}
		expect(t, a.do("GET", "/management/v2/product-orders?includeExpired=yes", nil, auth...), 400, "application/problem+json")
		expect(t, a.do("POST", "/admin/v1/product-orders/"+old+"/submit", nil, admin()...), 409, "application/problem+json")
	})
}

// TestErrors checks the problem answers of the HTTP layer.
func TestErrors(t *testing.T) {
	a, auth := startPartner(t)
	merchant := a.classic(fixtures.DemoMerchantKeys)
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		contentType        string
	}{
		{"unknown path", "GET", "/management/v1/nothing", nil, auth, 404, "application/problem+json"},
		{"unknown path outside the API", "GET", "/nothing", nil, nil, 404, "application/problem+json"},
		{"wrong method", "PUT", "/management/v1/sales-units", nil, auth, 405, "application/problem+json"},
		{"no token", "GET", "/management/v1/sales-units", nil, nil, 401, "application/problem+json"},
		{"lower-case bearer", "GET", "/management/v1/sales-units", nil, []string{"Authorization", strings.Replace(auth[3], "Bearer", "bearer", 1), "Ocp-Apim-Subscription-Key", auth[5]}, 401, "application/problem+json"},
		{"bad msn", "GET", "/management/v1/sales-units/12a", nil, auth, 400, "application/problem+json"},
		{"unknown msn", "GET", "/management/v1/sales-units/99999999", nil, auth, 404, "application/problem+json"},
		{"merchant keys on price packages", "GET", "/management/v1/partners/price-packages", nil, merchant, 403, "application/problem+json"},
		{"merchant keys on prefill", "POST", "/management/v1/product-orders", `{}`, append(merchant, "Idempotency-Key", "m1"), 403, "application/problem+json"},
		{"malformed json", "POST", "/management/v1/product-orders", `{"businessIdentifier":`, append(auth, "Idempotency-Key", "e1"), 400, "application/problem+json"},
		{"wrong content type", "POST", "/management/v1/product-orders", `{}`, append(append([]string{}, auth[2:]...), "Content-Type", "text/plain", "Idempotency-Key", "e2"), 415, "application/problem+json"},
		{"missing idempotency key", "POST", "/management/v1/product-orders", `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"LOGIN"}`, auth, 400, "application/problem+json"},
		{"oversized body", "POST", "/management/v1/product-orders", strings.Repeat("x", 3<<20), append(auth, "Idempotency-Key", "e3"), 413, "application/problem+json"},
		{"bad uuid", "GET", "/management/v2/product-orders/nope/details", nil, auth, 400, "application/problem+json"},
		{"admin without token", "GET", "/admin/v1/partners", nil, nil, 401, "application/problem+json"},
		{"admin wrong token", "GET", "/admin/v1/partners", nil, []string{"Authorization", "Bearer wrong"}, 401, "application/problem+json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.do(c.method, c.path, c.body, c.headers...)
			expect(t, r, c.status, c.contentType)
			p := r.problem(t)
			if int(p["status"].(float64)) != c.status {
				t.Errorf("problem status %v, want %d", p["status"], c.status)
			}
		})
	}
	// The prefill reads its own body: a missing one and one in another charset are refused by name,
	// before anything decodes them.
	valid := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"LOGIN"}`
	for i, c := range []struct {
		body        any
		contentType string
		field       string
	}{
		{nil, "application/json", "body"},
		{valid, "application/json; charset=ISO-8859-1", "Content-Type"},
	} {
		r := a.do("POST", "/management/v1/product-orders", c.body,
			append(append([]string{}, auth...), "Content-Type", c.contentType, "Idempotency-Key", fmt.Sprintf("e5-%d", i))...)
		expect(t, r, 400, "application/problem+json")
		var p struct{ ExtraDetails []struct{ Key, Value string } }
		r.json(t, &p)
		if len(p.ExtraDetails) != 1 || p.ExtraDetails[0].Key != c.field {
			t.Errorf("%s, %v: want the one field %s named: %s", c.contentType, c.body, c.field, r.body)
		}
	}
	// Several invalid fields at once are all named in extraDetails, whether the contract's schema
	// or the domain's rules (https URLs, PNG logos, price packages) catch them.
	for i, bad := range []string{
		`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"9x"},"productType":"CHECKOUT","annualTurnoverPercentage":"15"}`,
		`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"CHECKOUT",` +
			`"website":{"url":"http://plain.example","termsUrl":"https://x.example/t"},"salesUnitLogo":"aGVsbG8=",` +
			`"pricePackageId":"` + fixtures.DemoPricePackageID + `"}`,
	} {
		r := a.do("POST", "/management/v1/product-orders", bad, append(auth, "Idempotency-Key", fmt.Sprintf("e4-%d", i))...)
		expect(t, r, 400, "application/problem+json")
		var p struct{ ExtraDetails []struct{ Key, Value string } }
		r.json(t, &p)
		if len(p.ExtraDetails) < 2 {
			t.Fatalf("want every field named in extraDetails: %s", r.body)
		}
	}
}

// TestOperatorBodiesRequired: every operator call whose contract requires a body answers a
// missing one 400, as a problem, before its handler, which takes the body as given.
func TestOperatorBodiesRequired(t *testing.T) {
	a := startAPI(t)
	for _, c := range []struct{ method, path string }{
		{"POST", "/admin/v1/clock"},
		{"POST", "/admin/v1/partners"},
		{"POST", "/admin/v1/partners/" + fixtures.DemoPartnerID + "/price-packages"},
		{"POST", "/admin/v1/merchants"},
		{"POST", "/admin/v1/sales-units"},
		{"PATCH", "/admin/v1/sales-units/" + fixtures.DemoMSN},
		{"POST", "/admin/v1/faults"},
		{"PUT", "/admin/v1/autopilot"},
	} {
		r := a.do(c.method, c.path, nil, admin()...)
		expect(t, r, 400, "application/problem+json")
		if p := r.problem(t); p["status"] != float64(400) {
			t.Errorf("%s %s: problem status %v, want 400", c.method, c.path, p["status"])
		}
	}
}
