package portal

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// walkConsole follows a console list's "Next page" links from path, running between after each
// page, and returns key of every row, in order. Every page but the last is full.
func (e *env) walkConsole(c *http.Cookie, path string, key func(row *node) string, between func()) []string {
	e.t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 20 {
			e.t.Fatalf("%s: the pages do not end", path)
		}
		w, doc := e.get(path, c)
		wantStatus(e.t, w, http.StatusOK)
		checkPage(e.t, doc)
		rows := doc.Find("tbody tr")
		if len(rows) > pageSize {
			e.t.Fatalf("%s: %d rows on one page, more than %d", path, len(rows), pageSize)
		}
		for _, r := range rows {
			out = append(out, key(r))
		}
		if pages > 0 && len(doc.Find("nav.pager a")) == 0 {
			e.t.Errorf("%s: a later page has no link back to the first", path)
		}
		next := doc.Find("a[rel=next]")
		if len(next) == 0 {
			return out
		}
		if len(rows) != pageSize {
			e.t.Fatalf("%s: %d rows and a next page, want a full page of %d", path, len(rows), pageSize)
		}
		href := next[0].Attr["href"]
		if !strings.HasPrefix(href, "?") {
			e.t.Fatalf("next page link %q", href)
		}
		path = strings.SplitN(path, "?", 2)[0] + href
		if between != nil {
			between()
		}
	}
}

func firstCell(row *node) string { return row.Find("td")[0].Text() }

// TestConsoleListsPage walks the console's lists when they hold more than a page, adding rows
// between pages: every row is shown once, no page holds more than pageSize rows, and the search
// stays with the pages.
func TestConsoleListsPage(t *testing.T) {
	e, c := newConsole(t)
	ctx := context.Background()
	n := 2*pageSize + 3

	var partners []string
	for i := range n {
		id := fmt.Sprintf("p%04d", i)
		must(t, e.store.CreatePartner(ctx, &vippsmgmt.Partner{ID: id, Name: "Paged partner"}))
		partners = append(partners, id)
	}
	added := 0
	got := e.walkConsole(c, "/console/partners?q=paged", firstCell, func() {
		added++
		must(t, e.store.CreatePartner(ctx, &vippsmgmt.Partner{ID: fmt.Sprintf("p%04d-late", added), Name: "Paged partner"}))
	})
	storetest.OnceInOrder(t, "partners", partners, got)
	if slices.Contains(got, partnerID) {
		t.Errorf("the search was lost on a later page: %s listed", partnerID)
	}

	var packages []string
	for i := range n {
		p := &vippsmgmt.PricePackage{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), PartnerID: partnerID, Name: "Paged", Description: "x"}
		must(t, e.store.CreatePricePackage(ctx, p))
		packages = append(packages, p.ID)
	}
	got = e.walkConsole(c, "/console/price-packages?q=paged", func(r *node) string { return r.Find("td small")[0].Text() }, nil)
	storetest.OnceInOrder(t, "price packages", packages, got)

	var merchants, units []string
	for i := range n {
		id, ok := "", false
		for body := 91000000 + i*100; !ok; body++ {
			id, ok = vippsmgmt.CompleteBusinessID("business:NO:ORG", fmt.Sprint(body))
		}
		must(t, e.store.CreateMerchant(ctx, &vippsmgmt.Merchant{BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: id},
			Name: "Paged merchant", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}))
		merchants = append(merchants, id)
		su := &vippsmgmt.SalesUnit{MSN: fmt.Sprintf("7%05d", i), Name: "Paged unit", Status: vippsmgmt.SalesUnitActive,
			Merchant: vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: id}}
		must(t, e.store.CreateSalesUnit(ctx, su))
		units = append(units, su.MSN)
	}
	slices.Sort(merchants) // one name, so the id orders them
	got = e.walkConsole(c, "/console/merchants?q=paged", func(r *node) string { return r.Find("input[name=id]")[0].Attr["value"] }, nil)
	storetest.OnceInOrder(t, "merchants", merchants, got)
	got = e.walkConsole(c, "/console/sales-units?q=paged", firstCell, nil)
	storetest.OnceInOrder(t, "sales units", units, got)

	// Each rejection queues two notifications, newest first in the outbox.
	reject := func() {
		id := e.prefill()
		_, err := e.store.StepProductOrder(ctx, id, vippsmgmt.StepSubmit, nil, "")
		must(t, err)
		_, err = e.store.StepProductOrder(ctx, id, vippsmgmt.StepReject, nil, "no")
		must(t, err)
	}
	for range pageSize/2 + 1 {
		reject()
	}
	all, err := e.store.FindNotifications(ctx, vippsmgmt.Page{})
	must(t, err)
	var outbox []string
	for _, n := range all {
		outbox = append(outbox, "/console/orders/"+n.OrderID+" "+n.Recipient+n.RecipientName)
	}
	got = e.walkConsole(c, "/console/outbox", func(r *node) string {
		return r.Find("td a")[0].Attr["href"] + " " + r.Find("td")[1].Text()
	}, reject)
	storetest.OnceInOrder(t, "outbox", outbox, got)

	var recs []string
	for i := range n {
		id := fmt.Sprintf("req-%04d", i)
		e.requests.Add(httpapi.RequestRecord{RequestID: id, Method: "GET", Route: "GET /management/v1/sales-units", Status: 200})
		recs = append([]string{id}, recs...)
	}
	late := 0
	got = e.walkConsole(c, "/console/requests", func(r *node) string { return strings.TrimPrefix(r.Attr["id"], "r-") }, func() {
		late++
		e.requests.Add(httpapi.RequestRecord{RequestID: fmt.Sprintf("late-%d", late), Method: "GET", Status: 200})
	})
	storetest.OnceInOrder(t, "requests", recs, got)
	for _, id := range got {
		if strings.HasPrefix(id, "late-") {
			t.Errorf("request %s, newer than the first page, was listed", id)
		}
	}

	// A page link that the console did not make is a 400 page, never a 500.
	for _, path := range []string{"/console/partners", "/console/merchants", "/console/sales-units",
		"/console/price-packages", "/console/outbox", "/console/requests"} {
		for _, cursor := range []string{"garbage", vippsmgmt.ProductOrderList.Encode(vippsmgmt.Cursor{int64(1), "x"})} {
			w, doc := e.get(path+"?cursor="+cursor, c)
			wantStatus(t, w, http.StatusBadRequest)
			if h := doc.One(t, "h1").Text(); !strings.Contains(h, "not valid") {
				t.Errorf("%s with a bad cursor: heading %q", path, h)
			}
		}
	}
}

// TestConsoleQueueSaysWhenMoreWait: the queue reads a bounded number of orders and says when more
// are waiting than it shows.
func TestConsoleQueueSaysWhenMoreWait(t *testing.T) {
	e, c := newConsole(t)
	hint := func() bool {
		w, doc := e.get("/console", c)
		wantStatus(t, w, http.StatusOK)
		for _, p := range doc.Find("p.hint") {
			if strings.Contains(p.Text(), "More orders are waiting") {
				return true
			}
		}
		return false
	}
	for range queueLimit {
		e.prefill()
	}
	if hint() {
		t.Error("the queue says more wait while it shows them all")
	}
	e.prefill()
	if !hint() {
		t.Errorf("%d orders wait and the queue does not say that it shows %d", queueLimit+1, queueLimit)
	}
}
