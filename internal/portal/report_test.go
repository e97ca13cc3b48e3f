package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// TestConsoleWithoutReport: without the integration report the console neither links to it nor
// serves it.
func TestConsoleWithoutReport(t *testing.T) {
	e, c := newConsole(t)
	w, doc := e.get("/console", c)
	wantStatus(t, w, http.StatusOK)
	for _, a := range doc.Find("nav a") {
		if strings.HasPrefix(a.Attr["href"], "/console/report") {
			t.Errorf("the console links to %s without a report", a.Attr["href"])
		}
	}
	w, _ = e.get("/console/report", c)
	wantStatus(t, w, http.StatusNotFound)
}

func TestConsoleReport(t *testing.T) {
	e := newEnv(t)
	rep := report.New(report.Config{Store: e.store, ClassicTTL: 24 * time.Hour, ManagementTTL: 15 * time.Minute})
	e.portal.reporter = rep
	c := e.login()

	at := storetest.Start.Add(time.Second)
	observe := func(client, id, route string, status int, headers bool) {
		method, path, _ := strings.Cut(route, " ")
		rep.Observe(report.Observation{RequestFacts: vippsmgmt.RequestFacts{Time: at, RequestID: id, ClientID: client,
			Kind: vippsmgmt.KeyPartner, Method: method, Route: route, Path: path, Status: status, SystemName: headers, SystemVersion: headers}})
		at = at.Add(time.Second)
	}
	observe("calm-client", "calm-1", "GET /management/v1/sales-units", 200, true)
	observe("sloppy-client", "sloppy-1", "GET /management/v1/sales-units", 200, false)
	observe("sloppy-client", "sloppy-2", vippsmgmt.RouteOrderDetailsV1, 200, true)

	w, doc := e.get("/console/report", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	sections := doc.Find("section.card")
	if len(sections) != 2 || !strings.Contains(sections[0].Text(), "sloppy-client") || !strings.Contains(sections[1].Text(), "No findings") {
		t.Fatalf("callers are not worst first: %d sections, first %q", len(sections), sections[0].Text())
	}
	rows := sections[0].Find("tbody tr")
	if len(rows) != 2 {
		t.Fatalf("%d findings for sloppy-client, want 2", len(rows))
	}
	for _, r := range rows {
		if !strings.Contains(r.Text(), "warning") {
			t.Errorf("finding row %q lacks its severity", r.Text())
		}
	}
	links := map[string]bool{}
	for _, a := range sections[0].Find("a") {
		links[a.Attr["href"]] = true
	}
	for _, want := range []string{"/console/requests?id=sloppy-1", "/console/requests?id=sloppy-2", "/console/report?clientId=sloppy-client"} {
		if !links[want] {
			t.Errorf("no link to %s among %v", want, links)
		}
	}

	// One caller.
	w, doc = e.get("/console/report?clientId=calm-client", c)
	wantStatus(t, w, http.StatusOK)
	if n := len(doc.Find("section.card")); n != 1 || strings.Contains(w.Body.String(), "sloppy-client") {
		t.Errorf("?clientId=calm-client shows %d callers:\n%s", n, w.Body.String())
	}

	// A request no longer in the log says so.
	w, _ = e.get("/console/requests?id=sloppy-1", c)
	wantStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), "no longer in this server") {
		t.Error("the request log does not say that the example is gone")
	}

	// A new window, through the form.
	form := doc.One(t, `form[action="/console/report/reset"]`)
	w = e.do(req{method: "POST", path: "/console/report/reset", cookie: c, form: formValues(form)})
	wantStatus(t, w, http.StatusSeeOther)
	w, doc = e.get(w.Header().Get("Location"), c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	if len(doc.Find("section.card")) != 0 || !strings.Contains(w.Body.String(), "new report window") {
		t.Errorf("after reset:\n%s", w.Body.String())
	}
	// Without the form token nothing is reset.
	wantStatus(t, e.do(req{method: "POST", path: "/console/report/reset", cookie: c, form: url.Values{}}), http.StatusForbidden)
	if r, err := rep.Report(context.Background(), ""); err != nil || len(r.Callers) != 0 {
		t.Errorf("report after reset: %+v, %v", r, err)
	}
}
