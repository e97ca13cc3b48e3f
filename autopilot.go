package vippsmgmt

import (
	"fmt"
	"strings"
	"time"
)

// AutopilotPolicy moves prefilled orders by itself, as a merchant and an operator would: the
// merchant opens the link View after the prefill, submits Submit after that, and the operator
// decides Decide after the submit. A nil delay leaves that step to a person (and the autopilot
// stops there). Each delay counts from when the step before happened or was due, whichever was
// first, so moving the sandbox clock past all of them applies all of them.
type AutopilotPolicy struct {
	PartnerID    string // "" applies to every partner without a policy of its own
	View         *time.Duration
	Submit       *time.Duration
	Decide       *time.Duration
	Decision     string // DecisionApprove or DecisionReject
	RejectReason string // required for DecisionReject; the reason of orders marked RejectMarker
	UpdatedAt    time.Time
}

// Decisions of an autopilot policy.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// Markers in an order's salesUnitName that pick the autopilot's decision for that order, so one
// fixture serves both paths.
const (
	RejectMarker  = "[reject]"
	ApproveMarker = "[approve]"
)

// MaxAutopilotDelay bounds each delay of a policy.
const MaxAutopilotDelay = 366 * 24 * time.Hour

// DefaultMarkerRejectReason is the reason of an order rejected for its RejectMarker when the
// policy names none.
const DefaultMarkerRejectReason = "Rejected automatically: the sales unit name is marked " + RejectMarker + "."

// Validate checks a policy before it is stored; ENOTFOUND for an unknown partner is the store's.
func (p *AutopilotPolicy) Validate() error {
	var errs []FieldError
	if p.PartnerID != "" && !partnerIDRE.MatchString(p.PartnerID) {
		errs = append(errs, FieldError{"partnerId", "must be 1 to 64 letters, digits, dots, dashes or underscores"})
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
	}{{"view", p.View}, {"submit", p.Submit}, {"decide", p.Decide}} {
		if d.v != nil && (*d.v < 0 || *d.v > MaxAutopilotDelay) {
			errs = append(errs, FieldError{d.name, fmt.Sprintf("must be a duration from 0s to %s", MaxAutopilotDelay)})
		}
	}
	if p.View == nil && p.Submit == nil && p.Decide == nil {
		errs = append(errs, FieldError{"view", "give at least one of view, submit and decide"})
	}
	switch p.Decision {
	case DecisionApprove:
	case DecisionReject:
		if p.RejectReason == "" {
			errs = append(errs, FieldError{"rejectReason", "is required when decision is reject"})
		}
	default:
		errs = append(errs, FieldError{"decision", "must be approve or reject"})
	}
	// Given, it is the reason orders are rejected with: the store would refuse what this lets by.
	if p.RejectReason != "" {
		if msg := rejectionReasonProblem(p.RejectReason); msg != "" {
			errs = append(errs, FieldError{"rejectReason", msg})
		}
	}
	return InvalidFields(errs)
}

// SameDefinition reports whether p and o drive orders alike.
func (p *AutopilotPolicy) SameDefinition(o *AutopilotPolicy) bool {
	eq := func(a, b *time.Duration) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return p.PartnerID == o.PartnerID && eq(p.View, o.View) && eq(p.Submit, o.Submit) && eq(p.Decide, o.Decide) &&
		p.Decision == o.Decision && p.RejectReason == o.RejectReason
}

// AutopilotFor returns the policy that drives the orders of partnerID: the partner's own, else
// the one for every partner, else nil.
func AutopilotFor(policies []*AutopilotPolicy, partnerID *string) *AutopilotPolicy {
	var all *AutopilotPolicy
	for _, p := range policies {
		switch {
		case p.PartnerID == "":
			all = p
		case partnerID != nil && p.PartnerID == *partnerID:
			return p
		}
	}
	return all
}

// Next returns the step the autopilot takes next on o and when it is due, or ok false when it
// takes none: o is not an open prefill, the policy leaves the step to a person, or the merchant
// would not act before the order expires (then it expires as it would without the autopilot).
func (p *AutopilotPolicy) Next(o *ProductOrder, now time.Time) (step string, due time.Time, ok bool) {
	if o.Type != OrderPrefill {
		return "", time.Time{}, false
	}
	switch o.StatusAt(now) {
	case StatusReceived:
		if p.View != nil {
			return p.beforeExpiry(o, StepView, o.CreatedAt.Add(*p.View))
		}
		if p.Submit != nil {
			return p.beforeExpiry(o, StepSubmit, o.CreatedAt.Add(*p.Submit))
		}
	case StatusMerchantViewed:
		if p.Submit != nil {
			return p.beforeExpiry(o, StepSubmit, p.viewed(o).Add(*p.Submit))
		}
	case StatusOrderSubmitted:
		if p.Decide != nil {
			step, _ := p.Outcome(o)
			return step, p.submitted(o).Add(*p.Decide), true
		}
	}
	return "", time.Time{}, false
}

func (p *AutopilotPolicy) beforeExpiry(o *ProductOrder, step string, due time.Time) (string, time.Time, bool) {
	if !due.Before(o.ExpiresAt()) {
		return "", time.Time{}, false
	}
	return step, due, true
}

// viewed is when the order was opened, or was due to be if the autopilot opened it late.
func (p *AutopilotPolicy) viewed(o *ProductOrder) time.Time {
	t := o.CreatedAt
	if o.ViewedAt != nil {
		t = *o.ViewedAt
	}
	if p.View != nil {
		if sched := o.CreatedAt.Add(*p.View); sched.Before(t) {
			t = sched
		}
	}
	return t
}

// submitted is when the order was submitted, or was due to be if the autopilot submitted it late.
func (p *AutopilotPolicy) submitted(o *ProductOrder) time.Time {
	t := o.UpdatedAt
	if o.SubmittedAt != nil {
		t = *o.SubmittedAt
	}
	if p.Submit != nil {
		if sched := p.viewed(o).Add(*p.Submit); sched.Before(t) {
			t = sched
		}
	}
	return t
}

// Outcome is the autopilot's decision on o: the policy's, unless the order's salesUnitName carries
// RejectMarker or ApproveMarker. reason is set for a rejection.
func (p *AutopilotPolicy) Outcome(o *ProductOrder) (step, reason string) {
	decision := p.Decision
	if name := o.Details.SalesUnitName; name != nil {
		switch {
		case strings.Contains(*name, RejectMarker):
			decision = DecisionReject
		case strings.Contains(*name, ApproveMarker):
			decision = DecisionApprove
		}
	}
	if decision == DecisionApprove {
		return StepApprove, ""
	}
	reason = strings.TrimSpace(p.RejectReason)
	if reason == "" {
		reason = DefaultMarkerRejectReason
	}
	return StepReject, reason
}

// AutopilotApproval is what the autopilot decides on approving o: the next free MSN and, for a
// merchant not known yet, a name taken from the order (the sales unit's name without markers, or
// one made from the business identifier).
func AutopilotApproval(o *ProductOrder) Approval {
	name := ""
	if n := o.Details.SalesUnitName; n != nil {
		name = strings.Join(strings.Fields(strings.NewReplacer(RejectMarker, "", ApproveMarker, "").Replace(*n)), " ")
	}
	if name == "" {
		name = "Merchant " + o.BusinessIdentifier.ID
	}
	return Approval{MerchantName: name}
}
