package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt"
)

// walk reads a list page by page as the operator API does: each cursor goes out in its opaque
// form and comes back through ParsePage. between runs after each page, before the next is read.
// It returns the pages' items in order.
func walk[T any](t *testing.T, l vippsmgmt.List[T], limit int, find func(vippsmgmt.Page) ([]T, error), between func(page int)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for page := 1; ; page++ {
		if page > 1000 {
			t.Fatal("walk: the list does not end")
		}
		p, err := l.ParsePage(&limit, &cursor)
		must(t, err)
		items, err := find(p.Fetch())
		must(t, err)
		items, next := l.Cut(p, items)
		if len(items) > limit {
			t.Fatalf("page %d: %d items, limit %d", page, len(items), limit)
		}
		if next != "" && len(items) != limit {
			t.Fatalf("page %d: %d items and a next cursor, want a full page of %d", page, len(items), limit)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		cursor = next
		if between != nil {
			between(page)
		}
	}
}

// OnceInOrder fails t unless got lists every key of want exactly once, in want's order, and no key
// twice. got may hold other keys among them: rows added while a list was walked page by page.
func OnceInOrder(t testing.TB, what string, want, got []string) {
	t.Helper()
	seen := map[string]bool{}
	var kept []string
	for _, k := range got {
		if seen[k] {
			t.Errorf("%s: %s listed twice", what, k)
		}
		seen[k] = true
		if slices.Contains(want, k) {
			kept = append(kept, k)
		}
	}
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("%s: the rows wanted, once each and in order (-want +got):\n%s", what, diff)
	}
}

// testPageProductOrders walks the newest-first order list in pages while orders are created
// between pages, several within one microsecond, so the id breaks the ties.
func testPageProductOrders(t *testing.T, e *env) {
	e.partner("acme")
	var want []string // newest first
	for i := range 23 {
		if i%4 == 0 {
			e.clock.Advance(1)
		}
		want = append([]string{e.prefill("acme", "912345688").ID}, want...)
	}
	// The list sorts ties by id, descending.
	all, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	want = want[:0]
	for _, o := range all {
		want = append(want, o.ID)
	}
	for _, limit := range []int{1, 5, 7, 23, 100} {
		var added []string
		got := walk(t, vippsmgmt.ProductOrderList, limit, func(p vippsmgmt.Page) ([]*vippsmgmt.ProductOrder, error) {
			return e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true, WithoutDetails: true, Limit: p.Limit, After: p.After})
		}, func(int) {
			e.clock.Advance(1)
			added = append(added, e.prefill("acme", "987654317").ID)
		})
		var ids []string
		for _, o := range got {
			ids = append(ids, o.ID)
			if slices.Contains(added, o.ID) {
				t.Errorf("limit %d: order %s created during the walk is newer than the first page, yet listed", limit, o.ID)
			}
		}
		OnceInOrder(t, fmt.Sprintf("limit %d", limit), want, ids)
		// The next walk starts from a list that includes what this one added.
		all, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
		must(t, err)
		want = want[:0]
		for _, o := range all {
			want = append(want, o.ID)
		}
	}
}

// testPageLists walks every other paged list with rows added between pages before and after the
// cursor: each row that existed at the start is listed once, in the list's order.
func testPageLists(t *testing.T, e *env) {
	for _, id := range []string{"p10", "p20", "p30", "p40", "p50", "p60", "p70"} {
		e.partner(id)
	}
	partners := walk(t, vippsmgmt.PartnerList, 2, func(p vippsmgmt.Page) ([]*vippsmgmt.Partner, error) {
		return e.s.FindPartners(e.ctx, vippsmgmt.PartnerFilter{Limit: p.Limit, After: p.After})
	}, func(page int) {
		// One partner before the cursor, one after it.
		e.partner(fmt.Sprintf("p%d5", page-1))
		e.partner(fmt.Sprintf("p%d5", page+3))
	})
	var ids []string
	for _, p := range partners {
		ids = append(ids, p.ID)
	}
	OnceInOrder(t, "partners", []string{"p10", "p20", "p30", "p40", "p50", "p60", "p70"}, ids)
	if !slices.IsSorted(ids) {
		t.Errorf("partners: not in id order: %v", ids)
	}
	matching, err := e.s.FindPartners(e.ctx, vippsmgmt.PartnerFilter{Query: "P5"})
	must(t, err)
	filtered := walk(t, vippsmgmt.PartnerList, 1, func(p vippsmgmt.Page) ([]*vippsmgmt.Partner, error) {
		return e.s.FindPartners(e.ctx, vippsmgmt.PartnerFilter{Query: "P5", Limit: p.Limit, After: p.After})
	}, nil)
	if len(matching) < 2 {
		t.Errorf("partners matching P5: got %d, want at least 2", len(matching))
	}
	if diff := cmp.Diff(matching, filtered); diff != "" {
		t.Errorf("partners matching P5 in pages of 1 (-all at once +paged):\n%s", diff)
	}

	// Merchants sort by name, then business id; equal names must not lose a row at a page edge.
	var wantMerchants []string
	for i := range 5 {
		id := orgNumber(i)
		m := &vippsmgmt.Merchant{BusinessIdentifier: bid(id), Name: "Same name", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}
		must(t, e.s.UpsertMerchant(e.ctx, m))
		wantMerchants = append(wantMerchants, id)
	}
	merchants := walk(t, vippsmgmt.MerchantList, 2, func(p vippsmgmt.Page) ([]*vippsmgmt.Merchant, error) {
		return e.s.FindMerchants(e.ctx, vippsmgmt.MerchantFilter{Query: "same", Limit: p.Limit, After: p.After})
	}, func(page int) {
		m := &vippsmgmt.Merchant{BusinessIdentifier: bid(orgNumber(10 + page)), Name: "Same name", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}
		must(t, e.s.UpsertMerchant(e.ctx, m))
	})
	ids = ids[:0]
	for _, m := range merchants {
		ids = append(ids, m.BusinessIdentifier.ID)
	}
	OnceInOrder(t, "merchants", wantMerchants, ids)

	var wantUnits []string
	for i := range 6 {
		wantUnits = append(wantUnits, e.unit(fmt.Sprintf("100%02d", i*2), orgNumber(0), ptr("p10"), vippsmgmt.SalesUnitActive).MSN)
	}
	units := walk(t, vippsmgmt.SalesUnitList, 4, func(p vippsmgmt.Page) ([]*vippsmgmt.SalesUnit, error) {
		return e.s.FindSalesUnits(e.ctx, vippsmgmt.SalesUnitFilter{Limit: p.Limit, After: p.After})
	}, func(int) { e.unit("10001", orgNumber(0), nil, vippsmgmt.SalesUnitActive) })
	ids = ids[:0]
	for _, u := range units {
		ids = append(ids, u.MSN)
	}
	OnceInOrder(t, "sales units", wantUnits, ids)

	var wantPackages []string
	for range 5 {
		wantPackages = append(wantPackages, e.pricePackage("p20").ID)
	}
	slices.Sort(wantPackages) // one name, so the id orders them
	packages := walk(t, vippsmgmt.PricePackageList, 2, func(p vippsmgmt.Page) ([]*vippsmgmt.PricePackage, error) {
		return e.s.FindPricePackages(e.ctx, vippsmgmt.PricePackageFilter{PartnerID: "p20", Limit: p.Limit, After: p.After})
	}, func(int) { e.pricePackage("p20") })
	ids = ids[:0]
	for _, p := range packages {
		ids = append(ids, p.ID)
	}
	OnceInOrder(t, "price packages", wantPackages, ids)

	var wantKeys []string
	for i := range 5 {
		k := &vippsmgmt.APIKey{ClientID: fmt.Sprintf("client-%d", i), Kind: vippsmgmt.KeyPartner, PartnerID: ptr("p30"),
			SecretHash: []byte{byte(i)}, SubscriptionKeyHash: []byte{0xee, byte(i)}}
		must(t, e.s.UpsertAPIKey(e.ctx, k))
		wantKeys = append(wantKeys, k.ClientID)
	}
	keys := walk(t, vippsmgmt.APIKeyList, 3, func(p vippsmgmt.Page) ([]*vippsmgmt.APIKey, error) {
		return e.s.FindAPIKeys(e.ctx, "p30", "", p)
	}, nil)
	ids = ids[:0]
	for _, k := range keys {
		ids = append(ids, k.ClientID)
	}
	OnceInOrder(t, "keys", wantKeys, ids)

	wantPolicies := []string{"", "p10", "p20", "p30"}
	for _, id := range wantPolicies {
		must(t, e.s.PutAutopilotPolicy(e.ctx, &vippsmgmt.AutopilotPolicy{PartnerID: id, View: ptr(time.Minute), Decision: vippsmgmt.DecisionApprove}))
	}
	policies := walk(t, vippsmgmt.AutopilotPolicyList, 3, func(p vippsmgmt.Page) ([]*vippsmgmt.AutopilotPolicy, error) {
		return e.s.FindAutopilotPolicies(e.ctx, p)
	}, nil)
	ids = ids[:0]
	for _, p := range policies {
		ids = append(ids, p.PartnerID)
	}
	OnceInOrder(t, "autopilot policies", wantPolicies, ids)
}

// testPageNotifications walks the newest-first outbox while decisions queue more e-mails.
func testPageNotifications(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	reject := func() {
		o := e.submitted("acme", "912345688")
		_, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "no")
		must(t, err)
	}
	for range 4 {
		reject()
	}
	before, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{})
	must(t, err)
	var want []string
	for _, n := range before {
		want = append(want, fmt.Sprint(n.ID))
	}
	got := walk(t, vippsmgmt.NotificationList, 3, func(p vippsmgmt.Page) ([]*vippsmgmt.Notification, error) {
		return e.s.FindNotifications(e.ctx, p)
	}, func(int) { reject() })
	var ids []string
	for _, n := range got {
		ids = append(ids, fmt.Sprint(n.ID))
	}
	wantSame(t, "notifications", want, ids)
}

// orgNumber is the i-th of a series of distinct Norwegian organisation numbers with valid check
// digits.
func orgNumber(i int) string {
	for body := 91000000 + i*100; ; body++ {
		if id, ok := vippsmgmt.CompleteBusinessID("business:NO:ORG", fmt.Sprint(body)); ok {
			return id
		}
	}
}
