package vippsmgmt

import (
	"testing"
	"time"
)

func TestAutopilotNext(t *testing.T) {
	dur := func(d time.Duration) *time.Duration { return &d }
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	full := &AutopilotPolicy{View: dur(time.Minute), Submit: dur(5 * time.Minute), Decide: dur(10 * time.Minute), Decision: DecisionApprove}
	order := func(status string, edit func(o *ProductOrder)) *ProductOrder {
		o := &ProductOrder{Type: OrderPrefill, Status: status, CreatedAt: t0, UpdatedAt: t0}
		if edit != nil {
			edit(o)
		}
		return o
	}
	tests := []struct {
		name     string
		p        *AutopilotPolicy
		o        *ProductOrder
		now      time.Duration
		wantStep string
		wantDue  time.Duration
	}{
		{"view due after D1", full, order(StatusReceived, nil), 0, StepView, time.Minute},
		{"submit counts from the scheduled view when viewed late", full,
			order(StatusMerchantViewed, func(o *ProductOrder) { o.ViewedAt = at(time.Hour) }), time.Hour, StepSubmit, 6 * time.Minute},
		{"submit counts from a person's earlier view", full,
			order(StatusMerchantViewed, func(o *ProductOrder) { o.ViewedAt = at(10 * time.Second) }), time.Minute, StepSubmit, 10*time.Second + 5*time.Minute},
		{"decide counts from the scheduled submit", full,
			order(StatusOrderSubmitted, func(o *ProductOrder) { o.ViewedAt, o.SubmittedAt = at(time.Hour), at(time.Hour) }), time.Hour, StepApprove, 16 * time.Minute},
		{"decide after a person's submit", full,
			order(StatusOrderSubmitted, func(o *ProductOrder) { o.ViewedAt, o.SubmittedAt = at(0), at(time.Minute) }), time.Minute, StepApprove, 11 * time.Minute},
		{"reject marker", full,
			order(StatusOrderSubmitted, func(o *ProductOrder) {
				o.SubmittedAt = at(0)
				n := "Kiosk [reject]"
				o.Details.SalesUnitName = &n
			}), 0, StepReject, 10 * time.Minute},
		{"no view step: submit from creation", &AutopilotPolicy{Submit: dur(time.Hour), Decision: DecisionApprove},
			order(StatusReceived, nil), 0, StepSubmit, time.Hour},
		{"no submit step: the merchant never submits", &AutopilotPolicy{View: dur(time.Minute), Decision: DecisionApprove},
			order(StatusMerchantViewed, func(o *ProductOrder) { o.ViewedAt = at(time.Minute) }), time.Minute, "", 0},
		{"a submit after expiry never happens", &AutopilotPolicy{View: dur(0), Submit: dur(PrefillLifetime), Decision: DecisionApprove},
			order(StatusMerchantViewed, func(o *ProductOrder) { o.ViewedAt = at(0) }), 0, "", 0},
		{"expired orders are left alone", full, order(StatusReceived, nil), PrefillLifetime, "", 0},
		{"no decide step: a person decides", &AutopilotPolicy{Submit: dur(0), Decision: DecisionApprove},
			order(StatusOrderSubmitted, func(o *ProductOrder) { o.SubmittedAt = at(0) }), 0, "", 0},
		{"decided orders are done", full, order(StatusCompleted, nil), 0, "", 0},
		{"template orders are not prefills", full, order(StatusReceived, func(o *ProductOrder) { o.Type = OrderTemplate }), 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, due, ok := tt.p.Next(tt.o, t0.Add(tt.now))
			if step != tt.wantStep || ok != (tt.wantStep != "") || (ok && !due.Equal(t0.Add(tt.wantDue))) {
				t.Errorf("got %q at %v (%v), want %q at %v", step, due.Sub(t0), ok, tt.wantStep, tt.wantDue)
			}
		})
	}
}

func TestAutopilotOutcome(t *testing.T) {
	name := func(s string) *ProductOrder { return &ProductOrder{Details: OrderDetails{SalesUnitName: &s}} }
	approve := &AutopilotPolicy{Decision: DecisionApprove}
	reject := &AutopilotPolicy{Decision: DecisionReject, RejectReason: "No licence."}
	tests := []struct {
		p         *AutopilotPolicy
		o         *ProductOrder
		step, why string
	}{
		{approve, name("Kiosk"), StepApprove, ""},
		{approve, &ProductOrder{}, StepApprove, ""},
		{approve, name("Kiosk [reject]"), StepReject, DefaultMarkerRejectReason},
		{reject, name("Kiosk"), StepReject, "No licence."},
		{reject, name("Kiosk [approve]"), StepApprove, ""},
	}
	for _, tt := range tests {
		if step, why := tt.p.Outcome(tt.o); step != tt.step || why != tt.why {
			t.Errorf("%s on %v: got %s %q, want %s %q", tt.p.Decision, tt.o.Details.SalesUnitName, step, why, tt.step, tt.why)
		}
	}
	if got := AutopilotApproval(name("Kiosk  [approve] Sentrum")).MerchantName; got != "Kiosk Sentrum" {
		t.Errorf("merchant name: got %q", got)
	}
	o := &ProductOrder{BusinessIdentifier: BusinessIdentifier{Scheme: "business:NO:ORG", ID: "987654325"}}
	if got := AutopilotApproval(o).MerchantName; got != "Merchant 987654325" {
		t.Errorf("merchant name without a sales unit name: got %q", got)
	}
}

func TestAutopilotValidate(t *testing.T) {
	m := time.Minute
	neg := -time.Minute
	huge := MaxAutopilotDelay + time.Hour
	tests := []struct {
		p     AutopilotPolicy
		field string
	}{
		{AutopilotPolicy{View: &m, Decision: DecisionApprove}, ""},
		{AutopilotPolicy{PartnerID: "acme", Decide: &m, Decision: DecisionReject, RejectReason: "x"}, ""},
		{AutopilotPolicy{Decision: DecisionApprove}, "view"},
		{AutopilotPolicy{View: &neg, Decision: DecisionApprove}, "view"},
		{AutopilotPolicy{Submit: &huge, Decision: DecisionApprove}, "submit"},
		{AutopilotPolicy{View: &m, Decision: "maybe"}, "decision"},
		{AutopilotPolicy{View: &m, Decision: DecisionReject}, "rejectReason"},
		{AutopilotPolicy{View: &m, Decision: DecisionReject, RejectReason: "a\x00b"}, "rejectReason"},
		{AutopilotPolicy{PartnerID: "a b", View: &m, Decision: DecisionApprove}, "partnerId"},
	}
	for i, tt := range tests {
		err := tt.p.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%d: got %v, want valid", i, err)
			}
			continue
		}
		e, ok := err.(*Error)
		if !ok || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
			t.Errorf("%d: got %v, want a problem naming %s", i, err, tt.field)
		}
	}
}
