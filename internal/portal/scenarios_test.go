package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/fault"
)

func TestConsoleScenarios(t *testing.T) {
	e, c := newConsole(t)
	ctx := context.Background()

	// Outside sandbox mode the page does not exist and the navigation does not offer it.
	w, _ := e.get("/console/scenarios", c)
	wantStatus(t, w, http.StatusNotFound)
	if _, doc := e.get("/console", c); len(doc.Find("a[href=/console/scenarios]")) != 0 {
		t.Error("a production console links to the scenario page")
	}

	catalog, err := fault.DefaultCatalog()
	must(t, err)
	e.portal.faults = fault.NewInjector(e.store, e.clock, catalog, nil, nil)
	w, doc := e.get("/console/scenarios", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	doc.One(t, "a[href=/console/scenarios]")

	// Add a rule: it is stored and this process applies it at once.
	v := formValues(doc.One(t, "form[action=/console/faults]"))
	v.Set("operationId", "orderProduct")
	v.Set("status", "503")
	v.Set("retryAfterSeconds", "2")
	v.Set("budget", "count")
	v.Set("count", "2")
	v.Set("id", "two-503s")
	w = e.do(req{method: "POST", path: "/console/faults", cookie: c, form: v})
	wantStatus(t, w, http.StatusSeeOther)
	if r := e.portal.faults.Fire(ctx, fault.Request{Operation: "orderProduct"}); r == nil || r.ID != "two-503s" {
		t.Errorf("the new rule does not fire here: %v", r)
	}
	w, doc = e.get("/console/scenarios?done=fault-added", c)
	wantStatus(t, w, http.StatusOK)
	row := doc.One(t, "#fault-two-503s")
	if txt := row.Text(); !strings.Contains(txt, "503 (Retry-After 2)") || !strings.Contains(txt, "1 of 2 left") {
		t.Errorf("rule row: %q", txt)
	}
	doc.One(t, "p.flash")

	// Bad input is answered on the page, naming the field, with the form kept.
	v.Set("id", "")
	v.Set("delay", "1h")
	w = e.do(req{method: "POST", path: "/console/faults", cookie: c, form: v})
	wantStatus(t, w, http.StatusBadRequest)
	doc = parseHTML(t, w.Body.String())
	checkPage(t, doc)
	if msg := doc.One(t, "p.alert").Text(); !strings.Contains(msg, "effect.delay") {
		t.Errorf("error: %q", msg)
	}
	if got := doc.One(t, "input#delay").Attr["value"]; got != "1h" {
		t.Errorf("form lost the delay: %q", got)
	}
	v.Set("delay", "")
	v.Set("status", "418")
	w = e.do(req{method: "POST", path: "/console/faults", cookie: c, form: v})
	wantStatus(t, w, http.StatusBadRequest)
	v.Set("status", "")
	v.Set("operationId", "adminListFaults")
	w = e.do(req{method: "POST", path: "/console/faults", cookie: c, form: v})
	wantStatus(t, w, http.StatusBadRequest)

	// Delete it.
	_, doc = e.get("/console/scenarios", c)
	dv := formValues(doc.One(t, "form[action=/console/faults/two-503s/delete]"))
	w = e.do(req{method: "POST", path: "/console/faults/two-503s/delete", cookie: c, form: dv})
	wantStatus(t, w, http.StatusSeeOther)
	if r := e.portal.faults.Fire(ctx, fault.Request{Operation: "orderProduct"}); r != nil {
		t.Errorf("a deleted rule still fires: %v", r)
	}
	w = e.do(req{method: "POST", path: "/console/faults/two-503s/delete", cookie: c, form: dv})
	wantStatus(t, w, http.StatusNotFound)

	// Autopilot: set, show, refuse a reject without reason, remove.
	pv := formValues(doc.One(t, "form[action=/console/autopilot]"))
	pv.Set("partnerId", partnerID)
	pv.Set("view", "1m")
	pv.Set("decide", "10m")
	pv.Set("decision", "reject")
	w = e.do(req{method: "POST", path: "/console/autopilot", cookie: c, form: pv})
	wantStatus(t, w, http.StatusBadRequest)
	if msg := parseHTML(t, w.Body.String()).One(t, "p.alert").Text(); !strings.Contains(msg, "rejectReason") {
		t.Errorf("error: %q", msg)
	}
	pv.Set("rejectReason", "Missing documents.")
	w = e.do(req{method: "POST", path: "/console/autopilot", cookie: c, form: pv})
	wantStatus(t, w, http.StatusSeeOther)
	ps, err := e.store.FindAutopilotPolicies(ctx, vippsmgmt.Page{})
	must(t, err)
	if len(ps) != 1 || ps[0].PartnerID != partnerID || ps[0].Submit != nil || ps[0].RejectReason != "Missing documents." {
		t.Fatalf("policies %+v", ps)
	}
	_, doc = e.get("/console/scenarios", c)
	if txt := doc.One(t, "section[aria-labelledby=autopilot-h] tbody").Text(); !strings.Contains(txt, "reject after 10m0s") || !strings.Contains(txt, "a person") {
		t.Errorf("policy row: %q", txt)
	}
	rv := formValues(doc.One(t, "form[action=/console/autopilot/delete]"))
	w = e.do(req{method: "POST", path: "/console/autopilot/delete", cookie: c, form: rv})
	wantStatus(t, w, http.StatusSeeOther)
	if ps, _ := e.store.FindAutopilotPolicies(ctx, vippsmgmt.Page{}); len(ps) != 0 {
		t.Errorf("policy not removed: %+v", ps)
	}
}
