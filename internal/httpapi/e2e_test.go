package httpapi_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// startAPI starts a server on a new SQLite database with the demo data and returns its client.
func startAPI(t *testing.T) testserver.Client {
	return testserver.Start(t, "sqlite", testserver.Options{}).Client(t)
}

// startPartner is startAPI with the demo partner's classic token headers.
func startPartner(t *testing.T) (testserver.Client, []string) {
	a := startAPI(t)
	return a, a.Classic(fixtures.DemoPartnerKeys)
}

const jsonUTF8 = testserver.JSONUTF8

type msnInfo struct {
	MSN  string `json:"msn"`
	Name string `json:"name"`
}

// TestQuickStart walks steps 2 to 11 of the quick start on both databases with both token flows.
func TestQuickStart(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, backend string, srv *testserver.Server) {
		a := srv.Client(t)
		for flow, auth := range map[string][]string{"classic": a.Classic(fixtures.DemoPartnerKeys), "management": a.Management(fixtures.DemoManagementKeys)} {
			t.Run(flow, func(t *testing.T) {
				a := srv.Client(t)
				// Step 3.
				r := a.Do("GET", "/management/v1/sales-units", nil, auth...)
				r.Expect(t, 200, jsonUTF8)
				var units []msnInfo
				r.JSON(t, &units)
				if len(units) == 0 {
					t.Fatal("no sales units")
				}
				// Step 4.
				r = a.Do("GET", "/management/v1/sales-units/"+units[0].MSN, nil, auth...)
				r.Expect(t, 200, jsonUTF8)
				var su struct {
					MSN                string            `json:"msn"`
					BusinessIdentifier map[string]string `json:"businessIdentifier"`
					Configuration      map[string]any    `json:"configuration"`
				}
				r.JSON(t, &su)
				scheme, id := su.BusinessIdentifier["scheme"], su.BusinessIdentifier["id"]
				if su.MSN != units[0].MSN || scheme == "" || id == "" || su.Configuration == nil {
					t.Fatalf("sales unit %s", r.Body)
				}
				// Steps 5 and 6.
				r = a.Do("GET", "/management/v1/merchants/"+scheme+"/"+id+"/sales-units", nil, auth...)
				r.Expect(t, 200, jsonUTF8)
				r = a.Do("GET", "/management/v1/merchants/"+scheme+"/"+id, nil, auth...)
				r.Expect(t, 200, jsonUTF8)
				var m map[string]any
				r.JSON(t, &m)
				if m["name"] == "" || m["status"] != "ACTIVE" || m["createdAt"] == nil {
					t.Fatalf("merchant %s", r.Body)
				}
				// Step 7.
				r = a.Do("GET", "/management/v2/product-orders", nil, auth...)
				r.Expect(t, 200, jsonUTF8)
				// Step 8, with the quick start's lower-case k.
				key := "qs-" + backend + "-" + flow
				body := fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":"CHECKOUT"}`, scheme, id)
				r = a.Do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-key", key)...)
				r.Expect(t, 201, "application/json")
				var created struct{ PrefilledOrderID, PrefillURL string }
				r.JSON(t, &created)
				if created.PrefillURL != srv.URL+"/register/prefilled/"+created.PrefilledOrderID {
					t.Fatalf("prefill answer %s", r.Body)
				}
				// A retry with the same key and body replays; another body conflicts.
				again := a.Do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", key)...)
				again.Expect(t, 201, "application/json")
				if !bytes.Equal(again.Body, r.Body) {
					t.Fatalf("replay %s, first %s", again.Body, r.Body)
				}
				other := strings.Replace(body, "CHECKOUT", "LOGIN", 1)
				a.Do("POST", "/management/v1/product-orders", other, append(auth, "Idempotency-Key", key)...).Expect(t, 409, "application/problem+json")
				// Step 9.
				r = a.Do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, auth...)
				r.Expect(t, 200, jsonUTF8)
				var details map[string]any
				r.JSON(t, &details)
				if details["status"] != "RECEIVED" || details["productOrderType"] != "PREFILL" || details["productOrderUrl"] != created.PrefillURL {
					t.Fatalf("details %s", r.Body)
				}
				// Step 10, then the order is gone.
				a.Do("DELETE", "/management/v1/product-orders/"+created.PrefilledOrderID, nil, auth...).Expect(t, 200, "")
				gone := a.Do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, auth...)
				gone.Expect(t, 404, jsonUTF8)
				gone.Problem(t)
				a.Do("DELETE", "/management/v1/product-orders/"+created.PrefilledOrderID, nil, auth...).Expect(t, 404, jsonUTF8)
				// Step 11.
				r = a.Do("GET", "/management/v1/partners/price-packages", nil, auth...)
				r.Expect(t, 200, jsonUTF8)
				var pkgs []map[string]any
				r.JSON(t, &pkgs)
				if len(pkgs) != 2 {
					t.Fatalf("price packages %s", r.Body)
				}
			})
		}
	})
}

// TestLifecycle takes prefills through the portal steps, the operator's decision and expiry.
func TestLifecycle(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, _ string, srv *testserver.Server) {
		a := srv.Client(t)
		auth, adm := a.Classic(fixtures.DemoPartnerKeys), testserver.AdminHeaders(testserver.AdminToken)
		prefill := func(key, body string) string {
			r := a.Do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", key)...)
			r.Expect(t, 201, "application/json")
			var c struct{ PrefilledOrderID string }
			r.JSON(t, &c)
			return c.PrefilledOrderID
		}
		status := func(id string) map[string]any {
			r := a.Do("GET", "/management/v2/product-orders/"+id+"/details", nil, auth...)
			r.Expect(t, 200, jsonUTF8)
			var d map[string]any
			r.JSON(t, &d)
			return d
		}
		newMerchant := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"PAYMENT_INTEGRATION",` +
			`"salesUnitName":"Kiosk & Cafe Storgata","settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"},` +
			`"website":{"url":"https://kiosk.example","termsUrl":"https://kiosk.example/terms"},"merchantCategoryCode":"5812"}`
		newMerchant = strings.Replace(newMerchant, " & ", " and ", 1)
		id := prefill("life-1", newMerchant)

		a.Do("POST", "/admin/v1/product-orders/"+id+"/approve", `{}`, adm...).Expect(t, 409, "application/problem+json")
		a.Do("POST", "/admin/v1/product-orders/"+id+"/view", nil, adm...).Expect(t, 200, "")
		if s := status(id)["status"]; s != "MERCHANT_VIEWED" {
			t.Fatalf("after view: %v", s)
		}
		a.Do("POST", "/admin/v1/product-orders/"+id+"/submit", `{"salesUnitName":"Kiosk Storgata"}`, adm...).Expect(t, 200, "")
		if s := status(id)["status"]; s != "ORDER_SUBMITTED" {
			t.Fatalf("after submit: %v", s)
		}
		a.Do("DELETE", "/management/v1/product-orders/"+id, nil, auth...).Expect(t, 400, "application/problem+json")
		// The merchant is new, so approving needs its name.
		a.Do("POST", "/admin/v1/product-orders/"+id+"/approve", `{}`, adm...).Expect(t, 400, "application/problem+json")
		r := a.Do("POST", "/admin/v1/product-orders/"+id+"/approve", `{"merchantName":"Kiosk Storgata AS"}`, adm...)
		r.Expect(t, 200, "")
		var unit struct{ Msn, Name string }
		r.JSON(t, &unit)
		d := status(id)
		su, _ := d["salesUnit"].(map[string]any)
		if d["status"] != "COMPLETED" || su["msn"] != unit.Msn || su["name"] != "Kiosk Storgata" {
			t.Fatalf("completed details %v, unit %+v", d, unit)
		}
		a.Do("POST", "/admin/v1/product-orders/"+id+"/reject", `{"reason":"late"}`, adm...).Expect(t, 409, "application/problem+json")
		a.Do("GET", "/management/v1/sales-units/"+unit.Msn, nil, auth...).Expect(t, 200, jsonUTF8)
		a.Do("GET", "/management/v1/merchants/business:NO:ORG/912345688", nil, auth...).Expect(t, 200, jsonUTF8)
		r = a.Do("GET", "/admin/v1/notifications", nil, adm...)
		r.Expect(t, 200, "")
		if n := strings.Count(string(r.Body), `"productOrderId":"`+id+`"`); n != 2 {
			t.Fatalf("%d notifications for the order: %s", n, r.Body)
		}

		// Expiry: 336 hours after creation, visible at once, before any sweep.
		old := prefill("life-2", `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"912345688"},"productType":"LOGIN"}`)
		a.Do("POST", "/admin/v1/clock", `{"advance":"337h"}`, adm...).Expect(t, 200, "")
		// Token lifetimes follow the same clock: the 24-hour token has expired too.
		a.Do("GET", "/management/v1/sales-units", nil, auth...).Expect(t, 401, "application/problem+json")
		auth = a.Classic(fixtures.DemoPartnerKeys)
		if s := status(old)["status"]; s != "EXPIRED" {
			t.Fatalf("after 337h: %v", s)
		}
		r = a.Do("GET", "/management/v2/product-orders", nil, auth...)
		if strings.Contains(string(r.Body), old) {
			t.Fatal("expired order listed without includeExpired")
		}
		r = a.Do("GET", "/management/v2/product-orders?includeExpired=true", nil, auth...)
		if !strings.Contains(string(r.Body), old) {
			t.Fatal("expired order missing with includeExpired=true")
		}
		a.Do("GET", "/management/v2/product-orders?includeExpired=yes", nil, auth...).Expect(t, 400, "application/problem+json")
		a.Do("POST", "/admin/v1/product-orders/"+old+"/submit", nil, adm...).Expect(t, 409, "application/problem+json")
	})
}

// TestErrors checks the problem answers of the HTTP layer.
func TestErrors(t *testing.T) {
	a, auth := startPartner(t)
	merchant := a.Classic(fixtures.DemoMerchantKeys)
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
			r := a.Do(c.method, c.path, c.body, c.headers...)
			r.Expect(t, c.status, c.contentType)
			p := r.Problem(t)
			if p.Status != c.status {
				t.Errorf("problem status %d, want %d", p.Status, c.status)
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
		r := a.Do("POST", "/management/v1/product-orders", c.body,
			append(append([]string{}, auth...), "Content-Type", c.contentType, "Idempotency-Key", fmt.Sprintf("e5-%d", i))...)
		r.Expect(t, 400, "application/problem+json")
		var p struct{ ExtraDetails []struct{ Key, Value string } }
		r.JSON(t, &p)
		if len(p.ExtraDetails) != 1 || p.ExtraDetails[0].Key != c.field {
			t.Errorf("%s, %v: want the one field %s named: %s", c.contentType, c.body, c.field, r.Body)
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
		r := a.Do("POST", "/management/v1/product-orders", bad, append(auth, "Idempotency-Key", fmt.Sprintf("e4-%d", i))...)
		r.Expect(t, 400, "application/problem+json")
		var p struct{ ExtraDetails []struct{ Key, Value string } }
		r.JSON(t, &p)
		if len(p.ExtraDetails) < 2 {
			t.Fatalf("want every field named in extraDetails: %s", r.Body)
		}
	}
}

// TestPortalRefusalsArePages: what the server refuses before routing (a body over the limit with
// a Content-Length, a path that is not valid text, headers over their bound) is answered on the portal's paths with its
// HTML error page, which a browser shows, and on the API's paths with a problem as before.
func TestPortalRefusalsArePages(t *testing.T) {
	a := startAPI(t)
	big := strings.Repeat("a", 3<<20)
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	for _, c := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		says               string
	}{
		{"oversized sign-in", "POST", "/console/login", "token=" + big, form, 413, "Form too large"},
		{"oversized merchant form", "POST", "/register/prefilled/" + fixtures.DemoPartnerID, "salesUnitName=" + big, form, 413, "Form too large"},
		{"console path not UTF-8", "GET", "/console/orders/%FF", nil, nil, 400, "must be valid UTF-8"},
		{"merchant path not UTF-8", "GET", "/register/prefilled/%C3", nil, nil, 400, "must be valid UTF-8"},
		{"console path with a control character", "GET", "/console/%01", nil, nil, 400, "must not contain control characters"},
		{"oversized cookies", "GET", "/console/login", nil, []string{"Cookie", "c=" + strings.Repeat("a", 40<<10)}, 431, "Request too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := a.Do(c.method, c.path, c.body, c.headers...)
			r.Expect(t, c.status, "text/html; charset=utf-8")
			if !bytes.Contains(r.Body, []byte(c.says)) || !bytes.Contains(r.Body, []byte("<!doctype html>")) {
				t.Errorf("page does not say %q:\n%s", c.says, r.Body)
			}
			if r.Header.Get("Content-Security-Policy") == "" {
				t.Error("page sent without the portal's Content-Security-Policy")
			}
		})
	}
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"oversized operator call", "POST", "/admin/v1/partners", big, 413},
		{"API path not UTF-8", "GET", "/admin/v1/partners/%FF", nil, 400},
		{"oversized API headers", "GET", "/admin/v1/partners", nil, 431},
	} {
		t.Run(c.name, func(t *testing.T) {
			headers := append(testserver.AdminHeaders(testserver.AdminToken), "Content-Type", "application/json")
			if c.status == 431 {
				headers = append(headers, "X-Padding", strings.Repeat("a", 40<<10))
			}
			r := a.Do(c.method, c.path, c.body, headers...)
			r.Expect(t, c.status, "application/problem+json")
			r.Problem(t)
		})
	}
}

// TestOperatorBodiesRequired: every operator call whose contract requires a body answers a
// missing one 400, as a problem, before its handler, which takes the body as given.
func TestOperatorBodiesRequired(t *testing.T) {
	a, adm := startAPI(t), testserver.AdminHeaders(testserver.AdminToken)
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
		r := a.Do(c.method, c.path, nil, adm...)
		r.Expect(t, 400, "application/problem+json")
		if p := r.Problem(t); p.Status != 400 {
			t.Errorf("%s %s: problem status %d, want 400", c.method, c.path, p.Status)
		}
	}
}
