package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

const nextCursorHeader = "Vippsmgmt-Next-Cursor"

// adminGet reads an operator list page as a script would.
func adminGet(a testserver.Client, path string) testserver.Reply {
	a.T.Helper()
	return a.Do("GET", path, nil, "Authorization", "Bearer "+testserver.AdminToken)
}

// walkPages follows a list's cursors from its first page, running between after each page, and
// returns the value of field of every item, in order.
func walkPages(t *testing.T, a testserver.Client, path string, limit int, field string, between func()) []string {
	t.Helper()
	var out []string
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := path + sep + "limit=" + fmt.Sprint(limit)
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("%s: the pages do not end", path)
		}
		r := adminGet(a, next)
		r.Expect(t, 200, "application/json")
		var items []map[string]any
		r.JSON(t, &items)
		if len(items) > limit {
			t.Fatalf("%s: %d items in a page of %d", next, len(items), limit)
		}
		for _, it := range items {
			out = append(out, fmt.Sprint(it[field]))
		}
		cursor := r.Header.Get(nextCursorHeader)
		if cursor == "" {
			return out
		}
		if len(items) != limit {
			t.Fatalf("%s: %d items and a next cursor, want a full page of %d", next, len(items), limit)
		}
		next = path + sep + "limit=" + fmt.Sprint(limit) + "&cursor=" + url.QueryEscape(cursor)
		if between != nil {
			between()
		}
	}
}

// TestAdminListsWalkWhileRowsAreAdded walks the operator lists page by page over HTTP, on both
// databases, while rows are added between the pages: every row that existed is listed once, in
// the list's order.
func TestAdminListsWalkWhileRowsAreAdded(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, backend, testserver.Options{NoDemo: true})
			a := srv.Client(t)
			ctx := context.Background()
			store := srv.App.Store

			for _, id := range []string{"b", "d", "f", "h", "j", "l", "n"} {
				if err := store.CreatePartner(ctx, &vippsmgmt.Partner{ID: id, Name: "Partner " + id}); err != nil {
					t.Fatal(err)
				}
			}
			added := 0
			got := walkPages(t, a, "/admin/v1/partners", 2, "partnerId", func() {
				// One partner sorts before the pages read so far, one after.
				added++
				for _, id := range []string{fmt.Sprintf("a%d", added), fmt.Sprintf("m%d", added)} {
					if err := store.CreatePartner(ctx, &vippsmgmt.Partner{ID: id, Name: "Partner " + id}); err != nil {
						t.Fatal(err)
					}
				}
			})
			storetest.OnceInOrder(t, "partners", []string{"b", "d", "f", "h", "j", "l", "n"}, got)
			if !slices.IsSorted(got) {
				t.Errorf("partners not by id: %v", got)
			}

			order := func() string {
				o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: new("b"), ProductType: "CHECKOUT",
					BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "912345688"},
					Details:            vippsmgmt.OrderDetails{SalesUnitName: new("Kiosk")}}
				id, _, err := store.CreateProductOrder(ctx, o, nil)
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			var orders []string // newest first
			for range 11 {
				orders = append([]string{order()}, orders...)
			}
			var during []string
			got = walkPages(t, a, "/admin/v1/product-orders?partnerId=b", 3, "productOrderId", func() { during = append(during, order()) })
			// Orders created in one microsecond sort by id; compare with the list read at once.
			r := adminGet(a, "/admin/v1/product-orders?partnerId=b&limit=1000")
			var all []map[string]any
			r.JSON(t, &all)
			var want []string
			for _, o := range all {
				if id := fmt.Sprint(o["productOrderId"]); !slices.Contains(during, id) {
					want = append(want, id)
				}
			}
			if len(want) != len(orders) {
				t.Fatalf("%d orders listed at once, want %d", len(want), len(orders))
			}
			storetest.OnceInOrder(t, "product orders", want, got)
			for _, id := range during {
				if slices.Contains(got, id) {
					t.Errorf("order %s, created after the first page, is newer than it and was listed", id)
				}
			}

			// The request log: requests made between pages are newer, so never listed.
			call := func(id string) {
				a.Do("GET", "/management/v1/sales-units/123456", nil, "X-Request-Id", id)
			}
			var wantRequests []string
			for i := range 10 {
				id := fmt.Sprintf("walk-%02d", i)
				call(id)
				wantRequests = append([]string{id}, wantRequests...)
			}
			n := 0
			got = walkPages(t, a, "/admin/v1/requests", 4, "requestId", func() { n++; call(fmt.Sprintf("during-%d", n)) })
			storetest.OnceInOrder(t, "requests", wantRequests, got)
			for _, id := range got {
				if strings.HasPrefix(id, "during-") {
					t.Errorf("request %s, made after the first page, was listed", id)
				}
			}
		})
	}
}

// TestAdminListAnswersAtMostAPage: a list longer than the largest page answers at most that many
// items and a cursor; without a limit, the default page. The Go client still lists everything.
func TestAdminListAnswersAtMostAPage(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{NoDemo: true})
	a := srv.Client(t)
	ctx := context.Background()
	total := vippsmgmt.MaxPageLimit + 1
	for i := range total {
		if err := srv.App.Store.CreatePartner(ctx, &vippsmgmt.Partner{ID: fmt.Sprintf("p%05d", i), Name: "Partner"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"", vippsmgmt.DefaultPageLimit},
		{fmt.Sprintf("?limit=%d", vippsmgmt.MaxPageLimit), vippsmgmt.MaxPageLimit},
		{"?limit=1", 1},
	} {
		r := adminGet(a, "/admin/v1/partners"+c.query)
		r.Expect(t, 200, "application/json")
		var items []map[string]any
		r.JSON(t, &items)
		if len(items) != c.want || r.Header.Get(nextCursorHeader) == "" {
			t.Errorf("%q: %d items, cursor %q; want %d and a cursor", c.query, len(items), r.Header.Get(nextCursorHeader), c.want)
		}
	}
	// The last page has no cursor.
	r := adminGet(a, fmt.Sprintf("/admin/v1/partners?limit=%d", vippsmgmt.MaxPageLimit))
	r = adminGet(a, fmt.Sprintf("/admin/v1/partners?limit=%d&cursor=%s", vippsmgmt.MaxPageLimit, url.QueryEscape(r.Header.Get(nextCursorHeader))))
	var last []map[string]any
	r.JSON(t, &last)
	if len(last) != 1 || last[0]["partnerId"] != fmt.Sprintf("p%05d", total-1) || r.Header.Get(nextCursorHeader) != "" {
		t.Errorf("last page: %d items, cursor %q; want p%05d alone and no cursor", len(last), r.Header.Get(nextCursorHeader), total-1)
	}

	c, err := client.New(srv.URL, client.WithAdminToken(testserver.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.Admin().ListPartners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != total || all[0].PartnerId != "p00000" || all[total-1].PartnerId != fmt.Sprintf("p%05d", total-1) {
		t.Errorf("client ListPartners: %d partners, want all %d in order", len(all), total)
	}
	page, err := c.Admin().ListPartnersPage(ctx, client.PageRequest{Limit: 10})
	if err != nil || len(page.Items) != 10 || page.NextCursor == "" {
		t.Fatalf("ListPartnersPage: %v, %+v", err, page)
	}
	page, err = c.Admin().ListPartnersPage(ctx, client.PageRequest{Limit: 10, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 10 || page.Items[0].PartnerId != "p00010" {
		t.Fatalf("second ListPartnersPage: %v, %+v", err, page)
	}
}

// TestAdminListBadPage: a limit outside 1..MaxPageLimit or not an integer, and a cursor the list
// did not give out, are 400 problems naming the parameter, on every paged list.
func TestAdminListBadPage(t *testing.T) {
	a := startAPI(t)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	lists := []string{
		"/admin/v1/product-orders", "/admin/v1/partners", "/admin/v1/partners/acme/keys",
		"/admin/v1/partners/acme/price-packages", "/admin/v1/merchants", "/admin/v1/sales-units",
		"/admin/v1/notifications", "/admin/v1/requests", "/admin/v1/autopilot",
	}
	bad := []struct{ query, param string }{
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{fmt.Sprintf("limit=%d", vippsmgmt.MaxPageLimit+1), "limit"},
		{"limit=99999999999999999999", "limit"},
		{"limit=ten", "limit"},
		{"limit=1.5", "limit"},
		{"cursor=not%20a%20cursor", "cursor"},
		{"cursor=" + b64("not json"), "cursor"},
		{"cursor=" + b64(`["no-such-list","x"]`), "cursor"},
		{"cursor=" + b64(`["partners"]`), "cursor"},
		{"cursor=" + b64(`["product-orders","soon","x"]`), "cursor"},
		{"cursor=" + b64("[\"partners\",\"a\\u0000b\"]"), "cursor"},
		{"cursor=" + b64(`["partners","a","b"]`), "cursor"},
		{"cursor=" + strings.Repeat("A", vippsmgmt.MaxCursorBytes+1), "cursor"},
	}
	for _, path := range lists {
		// A cursor of another list is refused too: each list's name is in its cursors.
		other := vippsmgmt.MerchantList.Encode(vippsmgmt.Cursor{"a", "b", "c"})
		if path == "/admin/v1/merchants" {
			other = vippsmgmt.PartnerList.Encode(vippsmgmt.Cursor{"a"})
		}
		for _, c := range append(bad, struct{ query, param string }{"cursor=" + other, "cursor"}) {
			r := adminGet(a, path+"?"+c.query)
			if r.Status != 400 || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s?%.60s: %d %s %.200s, want a 400 problem", path, c.query, r.Status, r.Header.Get("Content-Type"), r.Body)
				continue
			}
			named := false
			for _, ed := range r.Problem(t).ExtraDetails {
				if ed.Key == c.param {
					named = true
				}
			}
			if !named {
				t.Errorf("%s?%.60s: the problem does not name %s: %s", path, c.query, c.param, r.Body)
			}
		}
	}
}
