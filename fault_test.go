package vippsmgmt

import (
	"testing"
	"time"
)

func TestFaultRuleValidate(t *testing.T) {
	one, half, two := 1, 0.5, 1.5
	until := t0.Add(time.Hour)
	ok := func() FaultRule {
		return FaultRule{ID: "r1", Match: FaultMatch{OperationID: "orderProduct"}, Effect: FaultEffect{Status: 503, RetryAfterSeconds: 2}, Count: &one}
	}
	tests := []struct {
		name  string
		edit  func(r *FaultRule)
		field string // "" = valid
	}{
		{"valid", func(*FaultRule) {}, ""},
		{"every operation", func(r *FaultRule) { r.Match.OperationID = AllOperations }, ""},
		{"method and path", func(r *FaultRule) { r.Match = FaultMatch{Method: "GET", Path: "/management/v1/sales-units"} }, ""},
		{"path alone", func(r *FaultRule) { r.Match = FaultMatch{Path: "/management/v1/sales-units"} }, ""},
		{"no route", func(r *FaultRule) { r.Match = FaultMatch{ClientID: "x"} }, "match.operationId"},
		{"method without path", func(r *FaultRule) { r.Match = FaultMatch{Method: "GET"} }, "match.path"},
		{"both route kinds", func(r *FaultRule) { r.Match.Path = "/management/v1/sales-units" }, "match.operationId"},
		{"odd method", func(r *FaultRule) { r.Match = FaultMatch{Method: "TRACE", Path: "/x"} }, "match.method"},
		{"bad client id", func(r *FaultRule) { r.Match.ClientID = "a b" }, "match.clientId"},
		{"bad partner id", func(r *FaultRule) { r.Match.PartnerID = "-x" }, "match.partnerId"},
		{"bad id", func(r *FaultRule) { r.ID = "" }, "id"},
		{"no effect", func(r *FaultRule) { r.Effect = FaultEffect{} }, "effect"},
		{"status outside the list", func(r *FaultRule) { r.Effect = FaultEffect{Status: 418} }, "effect.status"},
		{"400 is the caller's doing", func(r *FaultRule) { r.Effect = FaultEffect{Status: 400} }, "effect.status"},
		{"status and drop", func(r *FaultRule) { r.Effect = FaultEffect{Status: 500, Drop: true} }, "effect.drop"},
		{"delay and drop", func(r *FaultRule) { r.Effect = FaultEffect{Delay: time.Second, Drop: true} }, ""},
		{"negative delay", func(r *FaultRule) { r.Effect = FaultEffect{Delay: -time.Second} }, "effect.delay"},
		{"huge delay", func(r *FaultRule) { r.Effect = FaultEffect{Delay: time.Hour} }, "effect.delay"},
		{"longest delay", func(r *FaultRule) { r.Effect = FaultEffect{Delay: MaxFaultDelay} }, ""},
		{"Retry-After on a 500", func(r *FaultRule) { r.Effect = FaultEffect{Status: 500, RetryAfterSeconds: 1} }, "effect.retryAfterSeconds"},
		{"Retry-After too long", func(r *FaultRule) { r.Effect = FaultEffect{Status: 429, RetryAfterSeconds: 7200} }, "effect.retryAfterSeconds"},
		{"count zero", func(r *FaultRule) { r.Count = new(int) }, "count"},
		{"probability above 1", func(r *FaultRule) { r.Count, r.Probability = nil, &two }, "probability"},
		{"probability", func(r *FaultRule) { r.Count, r.Probability = nil, &half }, ""},
		{"count and probability", func(r *FaultRule) { r.Probability = &half }, "probability"},
		{"count and until", func(r *FaultRule) { r.Until = &until }, "until"},
		{"no budget", func(r *FaultRule) { r.Count = nil }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok()
			tt.edit(&r)
			err := r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			e, isDomain := err.(*Error)
			if !isDomain || e.Code != EINVALID {
				t.Fatalf("got %v, want EINVALID naming %s", err, tt.field)
			}
			for _, f := range e.Fields {
				if f.Field == tt.field {
					return
				}
			}
			t.Errorf("got fields %v, want one naming %s", e.Fields, tt.field)
		})
	}
}

func TestFaultRuleFires(t *testing.T) {
	zero, two, quarter := 0, 2, 0.25
	until := t0.Add(time.Minute)
	tests := []struct {
		name string
		r    FaultRule
		at   time.Duration
		roll float64
		want bool
	}{
		{"no budget", FaultRule{}, 0, 0.99, true},
		{"count left", FaultRule{Count: &two, Remaining: &two}, 0, 0.99, true},
		{"count spent", FaultRule{Count: &two, Remaining: &zero}, 0, 0, false},
		{"before until", FaultRule{Until: &until}, 59 * time.Second, 0, true},
		{"at until", FaultRule{Until: &until}, time.Minute, 0, false},
		{"probability hit", FaultRule{Probability: &quarter}, 0, 0.2, true},
		{"probability miss", FaultRule{Probability: &quarter}, 0, 0.25, false},
	}
	for _, tt := range tests {
		if got := tt.r.Fires(t0.Add(tt.at), tt.roll); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
