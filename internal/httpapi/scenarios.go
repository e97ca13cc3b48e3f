package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// Scenario control of a sandbox: the clock, fault rules and autopilot policies (/admin/v1/clock,
// /admin/v1/faults, /admin/v1/autopilot). Outside sandbox mode every route answers 404.

// clockControl moves the sandbox clock, which needs neither the fault rules nor the autopilot.
const clockControl = "The clock control exists"

// sandboxOnly says, of each operation that exists only in sandbox mode, what it controls.
var sandboxOnly = map[string]string{
	"AdminGetClock": clockControl, "AdminAdvanceClock": clockControl,
	"AdminListFaults": "Fault rules exist", "AdminCreateFault": "Fault rules exist", "AdminDeleteFault": "Fault rules exist",
	"AdminListAutopilot": "Autopilot policies exist", "AdminPutAutopilot": "Autopilot policies exist", "AdminDeleteAutopilot": "Autopilot policies exist",
}

// sandboxGate answers the operations of sandboxOnly 404 outside sandbox mode, so their handlers
// may take the clock control, the fault rules and the autopilot as there.
func (s *Server) sandboxGate(next openapi.StrictHandlerFunc, operationID string) openapi.StrictHandlerFunc {
	what, ok := sandboxOnly[operationID]
	if !ok {
		return next
	}
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		if !s.cfg.Sandbox || what != clockControl && (s.faults == nil || s.autopilot == nil) {
			return nil, vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "%s only in sandbox mode (--sandbox).", what)
		}
		return next(ctx, w, r, req)
	}
}

// advanceClock moves the sandbox clock, stopping at every autopilot step due on the way.
func (s *Server) advanceClock(ctx context.Context, d time.Duration) error {
	if s.autopilot != nil {
		_, err := s.autopilot.Advance(ctx, d)
		return err
	}
	_, err := s.clock.Advance(ctx, s.store, d)
	return err
}

// faultRuleIn maps a rule from the wire, naming the field of a value it cannot read.
func faultRuleIn(in *openapi.AdminFaultRuleInput) (*vippsmgmt.FaultRule, error) {
	r := &vippsmgmt.FaultRule{Count: in.Count, Probability: in.Probability, Until: in.Until}
	if in.Id != nil {
		r.ID = *in.Id
	} else {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		r.ID = id.String()
	}
	m := in.Match
	r.Match = vippsmgmt.FaultMatch{OperationID: deref(m.OperationId), Path: deref(m.Path), ClientID: deref(m.ClientId), PartnerID: deref(m.PartnerId)}
	if m.Method != nil {
		r.Match.Method = string(*m.Method)
	}
	e := in.Effect
	if e.Status != nil {
		r.Effect.Status = int(*e.Status)
	}
	if e.RetryAfterSeconds != nil {
		r.Effect.RetryAfterSeconds = *e.RetryAfterSeconds
	}
	if e.Drop != nil {
		r.Effect.Drop = *e.Drop
	}
	if e.Delay != nil {
		d, err := time.ParseDuration(*e.Delay)
		if err != nil {
			return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "effect.delay: must be a duration such as 250ms or 2s")
		}
		r.Effect.Delay = d
	}
	return r, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) faultRuleOut(r *vippsmgmt.FaultRule, now time.Time) openapi.AdminFaultRule {
	out := openapi.AdminFaultRule{
		Id: r.ID, Count: r.Count, Remaining: r.Remaining, Probability: r.Probability, Until: r.Until,
		Fired: r.Fired, Active: !r.Exhausted(now), CreatedAt: r.CreatedAt,
		Match: openapi.AdminFaultMatch{OperationId: nonEmpty(r.Match.OperationID), Path: nonEmpty(r.Match.Path),
			ClientId: nonEmpty(r.Match.ClientID), PartnerId: nonEmpty(r.Match.PartnerID)},
	}
	if r.Match.Method != "" {
		m := openapi.AdminFaultMatchMethod(r.Match.Method)
		out.Match.Method = &m
	}
	e := r.Effect
	if e.Status != 0 {
		st := openapi.AdminFaultEffectStatus(e.Status)
		out.Effect.Status = &st
	}
	if e.RetryAfterSeconds != 0 {
		out.Effect.RetryAfterSeconds = &e.RetryAfterSeconds
	}
	if e.Delay != 0 {
		d := e.Delay.String()
		out.Effect.Delay = &d
	}
	if e.Drop {
		out.Effect.Drop = &e.Drop
	}
	return out
}

// refreshFaults makes a change of this process apply here at once; other processes follow within
// fault.RefreshEvery.
func (s *Server) refreshFaults(ctx context.Context) {
	if err := s.faults.Refresh(context.WithoutCancel(ctx)); err != nil {
		s.logger.WarnContext(ctx, "fault rules could not be reloaded", "error", err)
	}
}

// AdminListFaults serves GET /admin/v1/faults.
func (s *Server) AdminListFaults(ctx context.Context, _ openapi.AdminListFaultsRequestObject) (openapi.AdminListFaultsResponseObject, error) {
	rules, err := s.store.FindFaultRules(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := make(openapi.AdminListFaults200JSONResponse, 0, len(rules))
	for _, r := range rules {
		out = append(out, s.faultRuleOut(r, now))
	}
	return out, nil
}

// AdminCreateFault serves POST /admin/v1/faults.
func (s *Server) AdminCreateFault(ctx context.Context, req openapi.AdminCreateFaultRequestObject) (openapi.AdminCreateFaultResponseObject, error) {
	r, err := faultRuleIn(req.Body)
	if err != nil {
		return nil, err
	}
	if err := s.faults.Catalog().Check(r); err != nil {
		return nil, err
	}
	if err := s.store.CreateFaultRule(ctx, r); err != nil {
		return nil, err
	}
	s.refreshFaults(ctx)
	return openapi.AdminCreateFault201JSONResponse(s.faultRuleOut(r, s.clock.Now())), nil
}

// AdminDeleteFault serves DELETE /admin/v1/faults/{faultId}.
func (s *Server) AdminDeleteFault(ctx context.Context, req openapi.AdminDeleteFaultRequestObject) (openapi.AdminDeleteFaultResponseObject, error) {
	if err := s.store.DeleteFaultRule(ctx, req.FaultId); err != nil {
		return nil, err
	}
	s.refreshFaults(ctx)
	return openapi.AdminDeleteFault204Response{}, nil
}

func autopilotIn(in *openapi.AdminAutopilotPolicyInput) (*vippsmgmt.AutopilotPolicy, error) {
	p := &vippsmgmt.AutopilotPolicy{PartnerID: deref(in.PartnerId), Decision: string(in.Decision), RejectReason: deref(in.RejectReason)}
	var errs []vippsmgmt.FieldError
	for _, d := range []struct {
		name string
		in   *string
		out  **time.Duration
	}{{"view", in.View, &p.View}, {"submit", in.Submit, &p.Submit}, {"decide", in.Decide, &p.Decide}} {
		if d.in == nil {
			continue
		}
		v, err := time.ParseDuration(*d.in)
		if err != nil {
			errs = append(errs, vippsmgmt.FieldError{Field: d.name, Problem: "must be a duration such as 90s, 5m or 24h"})
			continue
		}
		*d.out = &v
	}
	if err := vippsmgmt.InvalidFields(errs); err != nil {
		return nil, err
	}
	return p, nil
}

func autopilotOut(p *vippsmgmt.AutopilotPolicy) openapi.AdminAutopilotPolicy {
	str := func(d *time.Duration) *string {
		if d == nil {
			return nil
		}
		s := d.String()
		return &s
	}
	return openapi.AdminAutopilotPolicy{
		PartnerId: nonEmpty(p.PartnerID), View: str(p.View), Submit: str(p.Submit), Decide: str(p.Decide),
		Decision: openapi.AdminAutopilotPolicyDecision(p.Decision), RejectReason: nonEmpty(p.RejectReason), UpdatedAt: p.UpdatedAt,
	}
}

// AdminListAutopilot serves GET /admin/v1/autopilot.
func (s *Server) AdminListAutopilot(ctx context.Context, req openapi.AdminListAutopilotRequestObject) (openapi.AdminListAutopilotResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.AutopilotPolicy, error) {
		return s.store.FindAutopilotPolicies(ctx, p)
	}
	body, next, err := listPage(vippsmgmt.AutopilotPolicyList, req.Params.Limit, req.Params.Cursor, find, infallible(autopilotOut))
	return openapi.AdminListAutopilot200JSONResponse{Body: body, Headers: openapi.AdminListAutopilot200ResponseHeaders{VippsmgmtNextCursor: next}}, err
}

// AdminPutAutopilot serves PUT /admin/v1/autopilot.
func (s *Server) AdminPutAutopilot(ctx context.Context, req openapi.AdminPutAutopilotRequestObject) (openapi.AdminPutAutopilotResponseObject, error) {
	p, err := autopilotIn(req.Body)
	if err != nil {
		return nil, err
	}
	if err := s.store.PutAutopilotPolicy(ctx, p); err != nil {
		return nil, err
	}
	return openapi.AdminPutAutopilot200JSONResponse(autopilotOut(p)), nil
}

// AdminDeleteAutopilot serves DELETE /admin/v1/autopilot.
func (s *Server) AdminDeleteAutopilot(ctx context.Context, req openapi.AdminDeleteAutopilotRequestObject) (openapi.AdminDeleteAutopilotResponseObject, error) {
	if err := s.store.DeleteAutopilotPolicy(ctx, deref(req.Params.PartnerId)); err != nil {
		return nil, err
	}
	return openapi.AdminDeleteAutopilot204Response{}, nil
}

// injectedOut marks injected requests and leaves the field out of the others.
func injectedOut(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}
