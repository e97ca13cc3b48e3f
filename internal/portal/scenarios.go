package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/fault"
)

// The sandbox's scenario control in the console: fault rules and autopilot policies, doing what
// /admin/v1/faults and /admin/v1/autopilot do. Outside sandbox mode the pages are not found.

type scenariosPage struct {
	Rules    []faultRow
	Policies []*vippsmgmt.AutopilotPolicy
	Partners []*vippsmgmt.Partner
	// PartnerTyped asks for partner ids as text: there are too many for a drop-down.
	PartnerTyped bool
	MorePolicies bool // more policies than the page shows
	Operations   []fault.Operation
	Statuses     []int
	FaultForm    url.Values
	PolicyForm   url.Values
}

type faultRow struct {
	*vippsmgmt.FaultRule
	Active bool
	Budget string
}

var scenarioDone = map[string]string{
	"fault-added":    "The fault rule was added; every server process applies it within a second.",
	"fault-deleted":  "The fault rule was deleted.",
	"policy-set":     "The autopilot policy was saved.",
	"policy-deleted": "The autopilot policy was removed.",
}

func (p *Portal) scenariosAvailable(w http.ResponseWriter, r *http.Request) bool {
	if p.faults == nil {
		p.handleNotFound(w, r)
		return false
	}
	return true
}

// handleScenarios serves GET /console/scenarios.
func (p *Portal) handleScenarios(w http.ResponseWriter, r *http.Request, s *session) {
	if p.scenariosAvailable(w, r) {
		p.showScenarios(w, r, s, http.StatusOK, "", nil, nil)
	}
}

func (p *Portal) showScenarios(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, faultForm, policyForm url.Values) {
	ctx := r.Context()
	rules, err := p.store.FindFaultRules(ctx)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	pg := scenariosPage{Operations: p.faults.Catalog().Operations(), Statuses: vippsmgmt.FaultStatuses, FaultForm: faultForm, PolicyForm: policyForm}
	now := p.clock.Now()
	for _, rule := range rules {
		pg.Rules = append(pg.Rules, faultRow{FaultRule: rule, Active: !rule.Exhausted(now), Budget: budgetText(rule)})
	}
	if pg.Policies, err = p.store.FindAutopilotPolicies(ctx, vippsmgmt.Page{Limit: pageSize + 1}); err != nil {
		p.serverError(w, r, err)
		return
	}
	pg.Policies, pg.MorePolicies = firstRows(pg.Policies)
	if pg.Partners, pg.PartnerTyped, err = p.partnerChoices(ctx); err != nil {
		p.serverError(w, r, err)
		return
	}
	v := p.consoleView(s, "scenarios", "Faults and autopilot", pg)
	v.Error = msg
	if status == http.StatusOK {
		v.Flash = scenarioDone[r.URL.Query().Get("done")]
	}
	p.render(w, r, status, "scenarios", v)
}

func budgetText(r *vippsmgmt.FaultRule) string {
	switch {
	case r.Count != nil:
		return strconv.Itoa(*r.Remaining) + " of " + strconv.Itoa(*r.Count) + " left"
	case r.Probability != nil:
		return "probability " + strconv.FormatFloat(*r.Probability, 'g', -1, 64)
	case r.Until != nil:
		return "until " + r.Until.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return "until deleted"
}

// handleFaultCreate serves POST /console/faults.
func (p *Portal) handleFaultCreate(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.scenariosAvailable(w, r) {
		return
	}
	retry := func(status int, msg string) { p.showScenarios(w, r, s, status, msg, r.PostForm, nil) }
	rule, err := faultFromForm(r.PostForm)
	if err == nil {
		err = p.faults.Catalog().Check(rule)
	}
	if err == nil {
		err = p.store.CreateFaultRule(r.Context(), rule)
	}
	if err != nil {
		p.failed(w, r, err, retry)
		return
	}
	p.refreshFaults(r)
	redirect(w, r, "/console/scenarios", "fault-added")
}

// faultFromForm reads a rule from the console's form, naming the field of a value it cannot read.
func faultFromForm(f url.Values) (*vippsmgmt.FaultRule, error) {
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	r := &vippsmgmt.FaultRule{ID: get("id")}
	if r.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		r.ID = id.String()
	}
	r.Match = vippsmgmt.FaultMatch{OperationID: get("operationId"), Method: get("method"), Path: get("path"),
		ClientID: get("clientId"), PartnerID: get("partnerId")}
	var errs []vippsmgmt.FieldError
	bad := func(field, problem string) { errs = append(errs, vippsmgmt.FieldError{Field: field, Problem: problem}) }
	atoi := func(field string) int {
		v := get(field)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad(field, "must be a whole number")
		}
		return n
	}
	r.Effect.Status = atoi("status")
	r.Effect.RetryAfterSeconds = atoi("retryAfterSeconds")
	switch get("drop") {
	case "":
	case "on":
		r.Effect.Drop = true
	default:
		bad("effect.drop", "must be on or not sent")
	}
	if v := get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			bad("effect.delay", "must be a duration such as 250ms or 2s")
		}
		r.Effect.Delay = d
	}
	switch get("budget") {
	case "count":
		n := atoi("count")
		r.Count = &n
	case "probability":
		v, err := strconv.ParseFloat(get("probability"), 64)
		if err != nil {
			bad("probability", "must be a number from 0 to 1")
		}
		r.Probability = &v
	case "until":
		t, err := time.Parse(time.RFC3339, get("until"))
		if err != nil {
			bad("until", "must be an RFC 3339 time such as 2026-12-03T10:00:00Z")
		}
		r.Until = &t
	case "":
	default:
		bad("budget", "must be count, probability, until or empty")
	}
	if err := vippsmgmt.InvalidFields(errs); err != nil {
		return nil, err
	}
	return r, nil
}

// handleFaultDelete serves POST /console/faults/{id}/delete.
func (p *Portal) handleFaultDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.scenariosAvailable(w, r) {
		return
	}
	if err := p.store.DeleteFaultRule(r.Context(), r.PathValue("id")); err != nil {
		p.failed(w, r, err, func(status int, msg string) { p.showScenarios(w, r, s, status, msg, nil, nil) })
		return
	}
	p.refreshFaults(r)
	redirect(w, r, "/console/scenarios", "fault-deleted")
}

func (p *Portal) refreshFaults(r *http.Request) {
	if err := p.faults.Refresh(r.Context()); err != nil {
		p.logger.WarnContext(r.Context(), "fault rules could not be reloaded", "error", err)
	}
}

// handleAutopilotSet serves POST /console/autopilot.
func (p *Portal) handleAutopilotSet(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.scenariosAvailable(w, r) {
		return
	}
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	pol := &vippsmgmt.AutopilotPolicy{PartnerID: get("partnerId"), Decision: get("decision"), RejectReason: get("rejectReason")}
	var errs []vippsmgmt.FieldError
	for _, d := range []struct {
		name string
		out  **time.Duration
	}{{"view", &pol.View}, {"submit", &pol.Submit}, {"decide", &pol.Decide}} {
		v := get(d.name)
		if v == "" {
			continue
		}
		x, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, vippsmgmt.FieldError{Field: d.name, Problem: "must be a duration such as 90s, 5m or 24h"})
			continue
		}
		*d.out = &x
	}
	err := vippsmgmt.InvalidFields(errs)
	if err == nil {
		err = p.store.PutAutopilotPolicy(r.Context(), pol)
	}
	if err != nil {
		p.failed(w, r, err, func(status int, msg string) { p.showScenarios(w, r, s, status, msg, nil, f) })
		return
	}
	redirect(w, r, "/console/scenarios", "policy-set")
}

// handleAutopilotDelete serves POST /console/autopilot/delete.
func (p *Portal) handleAutopilotDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.scenariosAvailable(w, r) {
		return
	}
	if err := p.store.DeleteAutopilotPolicy(r.Context(), strings.TrimSpace(r.PostFormValue("partnerId"))); err != nil {
		p.failed(w, r, err, func(status int, msg string) { p.showScenarios(w, r, s, status, msg, nil, nil) })
		return
	}
	redirect(w, r, "/console/scenarios", "policy-deleted")
}
