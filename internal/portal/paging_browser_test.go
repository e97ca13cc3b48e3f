package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/portal"
)

// TestBrowserConsoleNextPage pages through the partner list in Chromium: the first page shows
// portal.PageSize rows, "Next page" the rest, "First page" the start again.
func TestBrowserConsoleNextPage(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	ctx := context.Background()
	for i := range portal.PageSize + 5 {
		if err := s.App.Store.CreatePartner(ctx, &vippsmgmt.Partner{ID: fmt.Sprintf("zz%04d", i), Name: "Many"}); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.signIn(s.URL, browserAdmin); st != http.StatusOK {
		b.fail("sign-in: status %d", st)
	}
	if st := b.load("open the partners", chromedp.Navigate(s.URL+"/console/partners?q=zz")); st != http.StatusOK {
		b.fail("partners: status %d", st)
	}
	if n := b.count("tbody tr"); n != portal.PageSize {
		b.fail("first page: %d rows, want %d", n, portal.PageSize)
	}
	if st := b.load("next page", chromedp.Click(chromedp.CSS("a[rel=next]"))); st != http.StatusOK {
		b.fail("next page: status %d", st)
	}
	if n := b.count("tbody tr"); n != 5 {
		b.fail("second page: %d rows, want 5", n)
	}
	if first := b.text("tbody tr td"); first != fmt.Sprintf("zz%04d", portal.PageSize) {
		b.fail("second page starts at %q", first)
	}
	if n := b.count("a[rel=next]"); n != 0 {
		b.fail("the last page links to a next one")
	}
	if !strings.Contains(b.location(), "q=zz") {
		b.fail("the search was lost: %s", b.location())
	}
	if st := b.load("first page", chromedp.Click(chromedp.CSS("nav.pager a"))); st != http.StatusOK {
		b.fail("first page: status %d", st)
	}
	if first := b.text("tbody tr td"); first != "zz0000" {
		b.fail("first page starts at %q", first)
	}
}
