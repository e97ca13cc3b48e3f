package reliability

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// Why "not yours" cannot be told from "does not exist" by timing either: each handler runs the same
// store queries whichever the case, and only compares in memory afterwards (internal/httpapi):
//
//   - GET /management/v1/sales-units/{msn}: one FindSalesUnitByMSN, then Caller.CanSee.
//   - GET /management/v1/merchants/{scheme}/{id}: visibleUnitsOf (one EachSalesUnit) and
//     FindMerchant always both run, then the checks. Merchant keys asking about another
//     organisation skip the EachSalesUnit query, but that depends only on the caller's own
//     organisation, never on whether the other one exists.
//   - GET /management/v1/merchants/{scheme}/{id}/sales-units: one EachSalesUnit filtered by the
//     caller's scope; an empty result is the 404 (same shortcut as above for merchant keys).
//   - GET v1/v2 product order details: one FindProductOrderByID, then a partner comparison.
//   - DELETE product order: one transaction with the row lock, then the partner comparison
//     before any lifecycle rule, so another partner's submitted order is a 404, not a 400.
//   - POST product-orders with a pricePackageId: one FindPricePackageByID, then the owner check;
//     another partner's package gets the unknown package's message.
//   - Partner-only operations refuse merchant keys before any store access or body validation.
//
// No statistical timing check is made: it would be flaky on a shared 2-core machine and adds
// nothing to the code-path argument above.

// unitModel is what the test knows about each sales unit, to predict what a caller sees.
type unitModel struct {
	msn            string
	merchant       vippsmgmt.BusinessIdentifier
	partner        string
	active         bool
	merchantActive bool
}

type isoCaller struct {
	name    string
	headers []string
	partner string                        // partner callers
	org     *vippsmgmt.BusinessIdentifier // merchant callers
}

func (c isoCaller) sees(u unitModel) bool {
	if !u.active || !u.merchantActive {
		return false
	}
	if c.partner != "" {
		return u.partner == c.partner
	}
	return u.merchant == *c.org
}

var (
	nordicOnly   = vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "955555554"}
	closedMerch  = vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "966666668"}
	unknownMerch = vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "999999999"}
)

// TestIsolation tries every Management operation with every identifier a caller can name (MSN,
// business identifier, product order id) as partner A (partner and management keys), partner B,
// merchant keys of two organisations, and with unknown values, on both databases. A caller must
// only see its own data, and "not yours" must answer exactly like "does not exist".
func TestIsolation(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) { testIsolation(t, backend) })
	}
}

func testIsolation(t *testing.T, backend string) {
	srv := testserver.Start(t, backend, testserver.Options{})
	a := srv.Client(t)
	const A, B = fixtures.DemoPartnerID, fixtures.DemoOtherPartnerID

	// Partner B's data beside the demo set: its own merchant, a unit under A's merchant, an
	// inactive unit, a price package, merchant keys of its merchant; and a deactivated merchant
	// with a unit of A's.
	bi := func(b vippsmgmt.BusinessIdentifier) map[string]string {
		return map[string]string{"scheme": b.Scheme, "id": b.ID}
	}
	a.Admin("POST", "/admin/v1/merchants", map[string]any{"businessIdentifier": bi(nordicOnly), "name": "Nordic Only AS"}, 201)
	a.Admin("POST", "/admin/v1/merchants", map[string]any{"businessIdentifier": bi(closedMerch), "name": "Closed AS", "status": "DEACTIVATED"}, 201)
	for _, su := range []map[string]any{
		{"msn": "555001", "name": "Nordic Only Kiosk", "businessIdentifier": bi(nordicOnly), "partnerId": B},
		{"msn": "555002", "name": "ACME Fitness via Nordic", "businessIdentifier": bi(fixtures.DemoMerchant), "partnerId": B},
		{"msn": "555003", "name": "Nordic Only Closed", "businessIdentifier": bi(nordicOnly), "partnerId": B, "status": "INACTIVE"},
		{"msn": "555004", "name": "Closed Shop", "businessIdentifier": bi(closedMerch), "partnerId": A},
	} {
		a.Admin("POST", "/admin/v1/sales-units", su, 201)
	}
	r := a.Admin("POST", "/admin/v1/partners/"+B+"/price-packages", map[string]any{
		"name": "Nordic POS", "description": "1.99%", "productType": "PAYMENT_INTEGRATION", "market": "NO"}, 201)
	var bPackage struct {
		PricePackageID string `json:"pricePackageId"`
	}
	r.JSON(t, &bPackage)
	merchantB := issueKeys(a, "merchant", "", "555001")

	units := []unitModel{
		{"123456", fixtures.DemoMerchant, A, true, true},
		{"123457", fixtures.DemoMerchant, "", true, true},
		{"123458", fixtures.DemoMerchant, A, false, true},
		{"234567", fixtures.DemoDanishMerchant, B, true, true},
		{"234568", fixtures.DemoDanishMerchant, A, true, true},
		{"345678", fixtures.DemoFinnishMerchant, A, true, true},
		{"555001", nordicOnly, B, true, true},
		{"555002", fixtures.DemoMerchant, B, true, true},
		{"555003", nordicOnly, B, false, true},
		{"555004", closedMerch, A, true, false},
	}
	demoMerchant, nordicMerchant := fixtures.DemoMerchant, nordicOnly
	callers := []isoCaller{
		{name: "A partner keys", headers: a.Classic(fixtures.DemoPartnerKeys), partner: A},
		{name: "A management keys", headers: a.Management(fixtures.DemoManagementKeys), partner: A},
		{name: "B partner keys", headers: a.Classic(fixtures.DemoOtherPartnerKeys), partner: B},
		{name: "merchant keys of A's merchant", headers: a.Classic(fixtures.DemoMerchantKeys), org: &demoMerchant},
		{name: "merchant keys of B's merchant", headers: a.Classic(merchantB), org: &nordicMerchant},
	}
	partnerHeaders := map[string][]string{A: callers[0].headers, B: callers[2].headers}

	// Orders: prefills of both partners (B's also for A's merchant, one submitted), one
	// Idempotency-Key used by both partners with different bodies, and the demo orders of A.
	prefill := func(partner, key, body string) string {
		t.Helper()
		r := a.Do("POST", "/management/v1/product-orders", body, append(partnerHeaders[partner], "Idempotency-Key", key)...)
		r.Expect(t, 201, "application/json")
		var c struct{ PrefilledOrderID string }
		r.JSON(t, &c)
		return c.PrefilledOrderID
	}
	orderOwner := map[string]string{
		fixtures.DemoReceivedOrderID: A, fixtures.DemoCompletedOrderID: A, fixtures.DemoRejectedOrderID: A,
	}
	aOrder := prefill(A, "iso-a", prefillBody(demoMerchant.Scheme, demoMerchant.ID, "CHECKOUT", "ACME web"))
	bOrder := prefill(B, "iso-b", prefillBody(demoMerchant.Scheme, demoMerchant.ID, "CHECKOUT", "ACME web via Nordic"))
	bOwnOrder := prefill(B, "iso-b2", prefillBody(nordicOnly.Scheme, nordicOnly.ID, "LOGIN", "Nordic login"))
	bSubmitted := prefill(B, "iso-b3", prefillBody(nordicOnly.Scheme, nordicOnly.ID, "CHECKOUT", "Nordic web"))
	a.Admin("POST", "/admin/v1/product-orders/"+bSubmitted+"/view", nil, 200)
	a.Admin("POST", "/admin/v1/product-orders/"+bSubmitted+"/submit", nil, 200)
	// The same key from two partners: two orders, neither replays nor conflicts with the other's.
	aShared := prefill(A, "shared-key", prefillBody(demoMerchant.Scheme, demoMerchant.ID, "LOGIN", "A shared"))
	bShared := prefill(B, "shared-key", prefillBody(nordicOnly.Scheme, nordicOnly.ID, "CASHIER", "B shared"))
	if aShared == bShared {
		t.Fatalf("one Idempotency-Key from two partners gave one order %s", aShared)
	}
	if again := prefill(A, "shared-key", prefillBody(demoMerchant.Scheme, demoMerchant.ID, "LOGIN", "A shared")); again != aShared {
		t.Fatalf("A's replay answered %s, want A's own %s", again, aShared)
	}
	for id, p := range map[string]string{aOrder: A, aShared: A, bOrder: B, bOwnOrder: B, bSubmitted: B, bShared: B} {
		orderOwner[id] = p
	}
	unknownOrder := uuid.NewString()

	var requests, compared int
	call := func(c isoCaller, method, path string, body any, extra ...string) testserver.Reply {
		t.Helper()
		requests++
		return a.Do(method, path, body, append(slices.Clone(c.headers), extra...)...)
	}
	// same requires got to answer exactly as ref, the answer for an identifier that does not exist,
	// once each answer's own identifier is masked.
	same := func(what string, got, ref testserver.Reply, gotIDs, refIDs []string) {
		t.Helper()
		compared++
		g, w := fingerprint(got, gotIDs), fingerprint(ref, refIDs)
		if g != w {
			t.Errorf("%s: answer differs from the one for an unknown identifier:\n got %s\nwant %s", what, g, w)
		}
	}

	msns := []string{"99999999"}
	for _, u := range units {
		msns = append(msns, u.msn)
	}
	merchants := []vippsmgmt.BusinessIdentifier{fixtures.DemoMerchant, fixtures.DemoDanishMerchant, fixtures.DemoFinnishMerchant,
		nordicOnly, closedMerch, fixtures.DemoUnknownMerchant, unknownMerch}
	orders := []string{unknownOrder}
	for id := range orderOwner {
		orders = append(orders, id)
	}
	sort.Strings(orders)

	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			// The sales-unit list: exactly the visible units.
			r := call(c, "GET", "/management/v1/sales-units", nil)
			r.Expect(t, 200, jsonUTF8)
			var list []struct{ Msn, Name string }
			r.JSON(t, &list)
			var got, want []string
			for _, u := range list {
				got = append(got, u.Msn)
			}
			for _, u := range units {
				if c.sees(u) {
					want = append(want, u.msn)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("sales-unit list %v, want %v", got, want)
			}

			// Each MSN.
			ref := call(c, "GET", "/management/v1/sales-units/99999999", nil)
			ref.Expect(t, 404, problemJSON)
			ref.Problem(t)
			for _, u := range units {
				r := call(c, "GET", "/management/v1/sales-units/"+u.msn, nil)
				if c.sees(u) {
					r.Expect(t, 200, jsonUTF8)
					var su struct {
						Msn                string            `json:"msn"`
						BusinessIdentifier map[string]string `json:"businessIdentifier"`
					}
					r.JSON(t, &su)
					if su.Msn != u.msn || su.BusinessIdentifier["id"] != u.merchant.ID {
						t.Errorf("sales unit %s answered %s", u.msn, r.Body)
					}
					continue
				}
				same("GET sales-units/"+u.msn, r, ref, []string{u.msn}, []string{"99999999"})
			}

			// Each business identifier: the merchant, and its sales units.
			refM := call(c, "GET", "/management/v1/merchants/"+unknownMerch.Scheme+"/"+unknownMerch.ID, nil)
			refM.Expect(t, 404, problemJSON)
			refMU := call(c, "GET", "/management/v1/merchants/"+unknownMerch.Scheme+"/"+unknownMerch.ID+"/sales-units", nil)
			refMU.Expect(t, 404, problemJSON)
			refIDs := []string{unknownMerch.ID, unknownMerch.Scheme}
			for _, m := range merchants {
				var visible []string
				for _, u := range units {
					if u.merchant == m && c.sees(u) {
						visible = append(visible, u.msn)
					}
				}
				ids := []string{m.ID, m.Scheme}
				path := "/management/v1/merchants/" + m.Scheme + "/" + m.ID
				r := call(c, "GET", path, nil)
				ru := call(c, "GET", path+"/sales-units", nil)
				if len(visible) == 0 {
					same("GET "+path, r, refM, ids, refIDs)
					same("GET "+path+"/sales-units", ru, refMU, ids, refIDs)
					continue
				}
				r.Expect(t, 200, jsonUTF8)
				var mb struct {
					BusinessIdentifier map[string]string `json:"businessIdentifier"`
				}
				r.JSON(t, &mb)
				if mb.BusinessIdentifier["id"] != m.ID {
					t.Errorf("%s answered %s", path, r.Body)
				}
				ru.Expect(t, 200, jsonUTF8)
				var mu []struct{ Msn string }
				ru.JSON(t, &mu)
				var gotU []string
				for _, u := range mu {
					gotU = append(gotU, u.Msn)
				}
				sort.Strings(gotU)
				if !slices.Equal(gotU, visible) {
					t.Errorf("%s/sales-units: %v, want only the caller's %v", path, gotU, visible)
				}
			}

			if c.partner == "" {
				testMerchantRefused(t, c, call, same, orders, bPackage.PricePackageID)
				return
			}

			// Price packages: only the partner's own.
			r = call(c, "GET", "/management/v1/partners/price-packages", nil)
			r.Expect(t, 200, jsonUTF8)
			var pkgs []struct {
				PricePackageID string `json:"pricePackageId"`
			}
			r.JSON(t, &pkgs)
			var ownPkgs []struct {
				PricePackageID string `json:"pricePackageId"`
			}
			a.Admin("GET", "/admin/v1/partners/"+c.partner+"/price-packages", nil, 200).JSON(t, &ownPkgs)
			if fmt.Sprint(pkgs) != fmt.Sprint(ownPkgs) {
				t.Errorf("price packages %v, want the partner's own %v", pkgs, ownPkgs)
			}
			// Another partner's price package in a prefill reads like an unknown one.
			if c.partner == A {
				body := func(pkg string) string {
					return strings.Replace(prefillBody(demoMerchant.Scheme, demoMerchant.ID, "PAYMENT_INTEGRATION", "Pkg test"),
						`"annualTurnover"`, `"pricePackageId":"`+pkg+`","annualTurnover"`, 1)
				}
				unknownPkg := uuid.NewString()
				ref := call(c, "POST", "/management/v1/product-orders", body(unknownPkg), "Idempotency-Key", uuid.NewString())
				ref.Expect(t, 400, problemJSON)
				r := call(c, "POST", "/management/v1/product-orders", body(bPackage.PricePackageID), "Idempotency-Key", uuid.NewString())
				same("prefill with B's price package", r, ref, []string{bPackage.PricePackageID}, []string{unknownPkg})
			}

			// The order list: exactly the orders naming the partner.
			r = call(c, "GET", "/management/v2/product-orders?includeExpired=true", nil)
			r.Expect(t, 200, jsonUTF8)
			var listed []struct {
				ProductOrderID string `json:"productOrderId"`
			}
			r.JSON(t, &listed)
			var gotO, wantO []string
			for _, o := range listed {
				gotO = append(gotO, o.ProductOrderID)
			}
			for _, o := range adminOrders(a, "?partnerId="+c.partner) {
				wantO = append(wantO, o.ProductOrderID)
			}
			sort.Strings(gotO)
			sort.Strings(wantO)
			if !slices.Equal(gotO, wantO) {
				t.Errorf("order list %v, want the partner's %v", gotO, wantO)
			}
			for _, id := range gotO {
				if orderOwner[id] != "" && orderOwner[id] != c.partner {
					t.Errorf("order list holds %s of %s", id, orderOwner[id])
				}
			}

			// Each order's details, v2 and the deprecated v1.
			for _, v := range []string{"v2", "v1"} {
				path := func(id string) string { return "/management/" + v + "/product-orders/" + id + "/details" }
				ref := call(c, "GET", path(unknownOrder), nil)
				ref.Expect(t, 404, jsonUTF8)
				ref.Problem(t)
				for _, id := range orders {
					if id == unknownOrder {
						continue
					}
					r := call(c, "GET", path(id), nil)
					if orderOwner[id] == c.partner {
						r.Expect(t, 200, jsonUTF8)
						continue
					}
					same("GET "+path(id), r, ref, []string{id}, []string{unknownOrder})
				}
			}
		})
	}

	// Deletes last, as they change the data: A cannot delete any of B's orders (the submitted one
	// included) nor B any of A's (a template included), and each stays.
	t.Run("delete", func(t *testing.T) {
		for _, p := range []struct {
			caller  isoCaller
			foreign []string
		}{
			{callers[0], []string{bOrder, bOwnOrder, bSubmitted, bShared}},
			{callers[1], []string{bOrder, bSubmitted}},
			{callers[2], []string{aOrder, aShared, fixtures.DemoReceivedOrderID, fixtures.DemoCompletedOrderID}},
		} {
			ref := call(p.caller, "DELETE", "/management/v1/product-orders/"+unknownOrder, nil)
			ref.Expect(t, 404, jsonUTF8)
			for _, id := range p.foreign {
				r := call(p.caller, "DELETE", "/management/v1/product-orders/"+id, nil)
				same(p.caller.name+" DELETE "+id, r, ref, []string{id}, []string{unknownOrder})
				a.Admin("GET", "/admin/v1/product-orders/"+id, nil, 200)
				owner := partnerHeaders[orderOwner[id]]
				a.Do("GET", "/management/v2/product-orders/"+id+"/details", nil, owner...).Expect(t, 200, jsonUTF8)
			}
		}
		// Each partner can still delete its own prefill.
		call(callers[0], "DELETE", "/management/v1/product-orders/"+aOrder, nil).Expect(t, 200, "")
		call(callers[2], "DELETE", "/management/v1/product-orders/"+bOrder, nil).Expect(t, 200, "")
	})
	t.Logf("%s: %d requests, %d foreign-or-hidden answers compared with the unknown-identifier answer, %d callers, %d MSNs, %d merchants, %d orders",
		backend, requests, compared, len(callers), len(msns), len(merchants), len(orders))
}

// testMerchantRefused checks that merchant keys get one and the same 403 on every partner-only
// operation, whether the order or package named exists, is another's or is unknown.
func testMerchantRefused(t *testing.T, c isoCaller, call func(isoCaller, string, string, any, ...string) testserver.Reply,
	same func(string, testserver.Reply, testserver.Reply, []string, []string), orders []string, foreignPackage string) {
	t.Helper()
	ref := call(c, "GET", "/management/v1/partners/price-packages", nil)
	ref.Expect(t, 403, problemJSON)
	ref.Problem(t)
	checks := []struct {
		method, path string
		body         any
		extra        []string
	}{
		{"GET", "/management/v2/product-orders", nil, nil},
		{"POST", "/management/v1/product-orders", prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "x"), []string{"Idempotency-Key", "m-1"}},
		{"POST", "/management/v1/product-orders", `{"pricePackageId":"` + foreignPackage + `"}`, []string{"Idempotency-Key", "m-2"}},
		{"POST", "/management/v1/product-orders", `{not json`, nil},
	}
	for _, id := range orders {
		checks = append(checks,
			struct {
				method, path string
				body         any
				extra        []string
			}{"GET", "/management/v2/product-orders/" + id + "/details", nil, nil},
			struct {
				method, path string
				body         any
				extra        []string
			}{"GET", "/management/v1/product-orders/" + id + "/details", nil, nil},
			struct {
				method, path string
				body         any
				extra        []string
			}{"DELETE", "/management/v1/product-orders/" + id, nil, nil})
	}
	for _, ch := range checks {
		r := call(c, ch.method, ch.path, ch.body, ch.extra...)
		same(ch.method+" "+ch.path, r, ref, nil, nil)
	}
}

// fingerprint is what a client can observe of an error answer, with the identifiers it names
// masked: status, content type, header names, problem type, title, detail and extra details.
func fingerprint(r testserver.Reply, ids []string) string {
	var names []string
	for k := range r.Header {
		switch k {
		case "Date", "Content-Length", "X-Request-Id":
		default:
			names = append(names, k+"="+strings.Join(r.Header.Values(k), ","))
		}
	}
	sort.Strings(names)
	body := string(r.Body)
	// The instance is the request id, different on every request.
	if i := strings.Index(body, `"instance":"`); i >= 0 {
		if j := strings.Index(body[i+12:], `"`); j >= 0 {
			body = body[:i+12] + "<instance>" + body[i+12+j:]
		}
	}
	for _, id := range ids {
		if id != "" {
			body = strings.ReplaceAll(body, id, "<id>")
		}
	}
	return fmt.Sprintf("%d %s %s", r.Status, strings.Join(names, " "), body)
}
