package client

import (
	"context"
	"net/http"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client/internal/openapi"
)

// Scenario control of a sandbox vippsmgmt server: fault rules that make the API fail on purpose,
// and autopilot policies that move product orders without a person. A server started with
// --sandbox=false answers these calls 404.

// AdminFaultRule is a stored fault rule with how often it fired.
type AdminFaultRule = openapi.AdminFaultRule

// AdminFaultMatch is the requests a stored rule applies to.
type AdminFaultMatch = openapi.AdminFaultMatch

// AdminFaultEffect is what a stored rule does.
type AdminFaultEffect = openapi.AdminFaultEffect

// AdminAutopilotPolicy is a stored autopilot policy.
type AdminAutopilotPolicy = openapi.AdminAutopilotPolicy

// FaultRule describes a fault rule to add. Give the route as OperationID (an operationId of the
// Management API or a token endpoint, such as "orderProduct" or "fetchAuthorizationTokenUsingPost",
// or "*" for all) or as Method and Path ("GET", "/management/v1/sales-units/{msn}"); ClientID or
// PartnerID narrow it to one caller. The effect is Status (401, 429, 500, 502, 503 or 504, with
// the real API's error body for it), Delay before the answer, or Drop the connection. At most one
// budget: Count requests, each with Probability, or Until a time of the server's clock; none
// means every matching request until the rule is deleted.
type FaultRule struct {
	ID                  string // optional; generated when empty
	OperationID         string
	Method, Path        string
	ClientID, PartnerID string

	Status     int
	RetryAfter time.Duration // Retry-After of a 429 or 503, whole seconds
	Delay      time.Duration
	Drop       bool

	Count       int
	Probability *float64
	Until       time.Time
}

func (f FaultRule) input() openapi.AdminFaultRuleInput {
	in := openapi.AdminFaultRuleInput{Id: optional(f.ID), Probability: f.Probability}
	in.Match = openapi.AdminFaultMatch{OperationId: optional(f.OperationID), Method: optional(openapi.AdminFaultMatchMethod(f.Method)),
		Path: optional(f.Path), ClientId: optional(f.ClientID), PartnerId: optional(f.PartnerID)}
	in.Effect = openapi.AdminFaultEffect{Status: optional(openapi.AdminFaultEffectStatus(f.Status)), Drop: optional(f.Drop)}
	if f.Delay > 0 {
		in.Effect.Delay = optional(f.Delay.String())
	}
	if f.RetryAfter > 0 {
		secs := int(f.RetryAfter / time.Second)
		in.Effect.RetryAfterSeconds = &secs
	}
	if f.Count > 0 {
		in.Count = &f.Count
	}
	if !f.Until.IsZero() {
		in.Until = &f.Until
	}
	return in
}

// AddFault adds a fault rule (POST /admin/v1/faults). Every server process on the database
// applies it within a second; the one that answered at once.
func (a *Admin) AddFault(ctx context.Context, rule FaultRule) (*AdminFaultRule, error) {
	in := rule.input()
	return adminDo[AdminFaultRule](ctx, a, http.MethodPost, withArg(openapi.NewAdminCreateFaultRequest, in))
}

// ListFaults lists the fault rules, oldest first, with how often each fired. There are at most
// 100, in one answer.
func (a *Admin) ListFaults(ctx context.Context) ([]AdminFaultRule, error) {
	p, err := adminDo[[]AdminFaultRule](ctx, a, http.MethodGet, openapi.NewAdminListFaultsRequest)
	if err != nil {
		return nil, err
	}
	return *p, nil
}

// DeleteFault deletes a fault rule.
func (a *Admin) DeleteFault(ctx context.Context, id string) error {
	return a.c.do(ctx, call{method: http.MethodDelete, auth: authAdmin, build: withArg(openapi.NewAdminDeleteFaultRequest, id)}, nil)
}

// Autopilot describes an autopilot policy: after a prefill the merchant opens the link View
// later, submits Submit after that, and the operator decides Decide after the submit. A nil delay
// leaves that step to a person. Decision is "approve" or "reject" (with RejectReason); an order
// whose salesUnitName contains "[reject]" is rejected whatever it says. PartnerID empty sets the
// policy of every partner without one of its own.
type Autopilot struct {
	PartnerID            string
	View, Submit, Decide *time.Duration
	Decision             string
	RejectReason         string
}

// SetAutopilot sets a partner's (or every partner's) autopilot policy (PUT /admin/v1/autopilot).
func (a *Admin) SetAutopilot(ctx context.Context, p Autopilot) (*AdminAutopilotPolicy, error) {
	dur := func(d *time.Duration) *string {
		if d == nil {
			return nil
		}
		s := d.String()
		return &s
	}
	in := openapi.AdminAutopilotPolicyInput{View: dur(p.View), Submit: dur(p.Submit), Decide: dur(p.Decide),
		Decision: openapi.AdminAutopilotPolicyInputDecision(p.Decision), PartnerId: optional(p.PartnerID), RejectReason: optional(p.RejectReason)}
	return adminDo[AdminAutopilotPolicy](ctx, a, http.MethodPut, withArg(openapi.NewAdminPutAutopilotRequest, in))
}

// ListAutopilot lists the autopilot policies, the one for every partner first, reading all pages.
func (a *Admin) ListAutopilot(ctx context.Context) ([]AdminAutopilotPolicy, error) {
	return adminAll[AdminAutopilotPolicy](ctx, a, autopilotPages)
}

// ListAutopilotPage reads one page of ListAutopilot.
func (a *Admin) ListAutopilotPage(ctx context.Context, p PageRequest) (*Page[AdminAutopilotPolicy], error) {
	return adminPage[AdminAutopilotPolicy](ctx, a, p, autopilotPages)
}

func autopilotPages(base string, limit *int, cursor *string) (*http.Request, error) {
	return openapi.NewAdminListAutopilotRequest(base, &openapi.AdminListAutopilotParams{Limit: limit, Cursor: cursor})
}

// DeleteAutopilot removes a partner's autopilot policy ("" for the one of every partner).
func (a *Admin) DeleteAutopilot(ctx context.Context, partnerID string) error {
	params := &openapi.AdminDeleteAutopilotParams{PartnerId: optional(partnerID)}
	return a.c.do(ctx, call{method: http.MethodDelete, auth: authAdmin, build: withArg(openapi.NewAdminDeleteAutopilotRequest, params)}, nil)
}

// Duration returns a pointer to d, for the delays of Autopilot.
func Duration(d time.Duration) *time.Duration { return &d }
