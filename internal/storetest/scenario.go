package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

func faultRule(id string, count int) *vippsmgmt.FaultRule {
	return &vippsmgmt.FaultRule{ID: id, Match: vippsmgmt.FaultMatch{OperationID: "orderProduct"},
		Effect: vippsmgmt.FaultEffect{Status: 503, RetryAfterSeconds: 2}, Count: ptr(count)}
}

func (e *env) faultIDs() []string {
	e.t.Helper()
	rules, err := e.s.FindFaultRules(e.ctx)
	must(e.t, err)
	ids := []string{}
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	return ids
}

func testFaultRules(t *testing.T, e *env) {
	if got := e.faultIDs(); len(got) != 0 {
		t.Fatalf("new store has rules %v", got)
	}
	delay := &vippsmgmt.FaultRule{ID: "slow", Match: vippsmgmt.FaultMatch{Method: "GET", Path: "/management/v1/sales-units/{msn}", ClientID: "acme-client"},
		Effect: vippsmgmt.FaultEffect{Delay: 1500 * time.Millisecond, Drop: true}, Probability: ptr(0.25)}
	must(t, e.s.CreateFaultRule(e.ctx, faultRule("b-first", 2)))
	e.clock.Advance(time.Second)
	must(t, e.s.CreateFaultRule(e.ctx, delay))
	until := Start.Add(time.Hour)
	must(t, e.s.CreateFaultRule(e.ctx, &vippsmgmt.FaultRule{ID: "a-third", Match: vippsmgmt.FaultMatch{OperationID: "*", PartnerID: "acme"},
		Effect: vippsmgmt.FaultEffect{Status: 401}, Until: &until}))
	// Oldest first, whatever the ids.
	wantSame(t, "order", []string{"b-first", "slow", "a-third"}, e.faultIDs())
	wantCode(t, e.s.CreateFaultRule(e.ctx, faultRule("slow", 1)), vippsmgmt.ECONFLICT)
	wantCode(t, e.s.CreateFaultRule(e.ctx, &vippsmgmt.FaultRule{ID: "bad", Match: vippsmgmt.FaultMatch{OperationID: "*"}}), vippsmgmt.EINVALID)

	rules, err := e.s.FindFaultRules(e.ctx)
	must(t, err)
	got := rules[1]
	want := *delay
	want.CreatedAt = Start.Add(time.Second)
	wantSame(t, "stored rule", &want, got)
	if r := rules[0]; r.Remaining == nil || *r.Remaining != 2 || r.Fired != 0 {
		t.Errorf("count rule: remaining %v fired %d, want 2 and 0", r.Remaining, r.Fired)
	}
	if r := rules[2]; r.Until == nil || !r.Until.Equal(until) {
		t.Errorf("until rule: got %v, want %v", r.Until, until)
	}

	must(t, e.s.DeleteFaultRule(e.ctx, "slow"))
	wantCode(t, e.s.DeleteFaultRule(e.ctx, "slow"), vippsmgmt.ENOTFOUND)
	wantSame(t, "after delete", []string{"b-first", "a-third"}, e.faultIDs())
	fired, err := e.s.FireFaultRule(e.ctx, "slow")
	if err != nil || fired {
		t.Errorf("firing a deleted rule: got %v, %v, want false", fired, err)
	}

	// The number of rules is bounded.
	for i := len(e.faultIDs()); i < vippsmgmt.MaxFaultRules; i++ {
		must(t, e.s.CreateFaultRule(e.ctx, faultRule(fmt.Sprintf("r%d", i), 1)))
	}
	wantCode(t, e.s.CreateFaultRule(e.ctx, faultRule("one-too-many", 1)), vippsmgmt.ECONFLICT)
}

func testFaultBudgets(t *testing.T, e *env) {
	fire := func(id string) bool {
		t.Helper()
		ok, err := e.s.FireFaultRule(e.ctx, id)
		must(t, err)
		return ok
	}
	find := func(id string) *vippsmgmt.FaultRule {
		t.Helper()
		rules, err := e.s.FindFaultRules(e.ctx)
		must(t, err)
		for _, r := range rules {
			if r.ID == id {
				return r
			}
		}
		t.Fatalf("no rule %s", id)
		return nil
	}

	// count: exactly N, then never again.
	must(t, e.s.CreateFaultRule(e.ctx, faultRule("count", 3)))
	var got []bool
	for range 5 {
		got = append(got, fire("count"))
	}
	wantSame(t, "count 3", []bool{true, true, true, false, false}, got)
	if r := find("count"); *r.Remaining != 0 || r.Fired != 3 || !r.Exhausted(e.clock.Now()) {
		t.Errorf("spent count rule: remaining %d fired %d exhausted %v", *r.Remaining, r.Fired, r.Exhausted(e.clock.Now()))
	}

	// until: every request before the time of the store's clock, none after.
	until := Start.Add(time.Minute)
	must(t, e.s.CreateFaultRule(e.ctx, &vippsmgmt.FaultRule{ID: "until", Match: vippsmgmt.FaultMatch{OperationID: "*"},
		Effect: vippsmgmt.FaultEffect{Status: 500}, Until: &until}))
	first, second := fire("until"), fire("until")
	if !first || !second {
		t.Errorf("until rule before its time: fired %v, %v", first, second)
	}
	e.clock.Advance(time.Minute)
	if fire("until") {
		t.Error("until rule fired at its end time")
	}
	if r := find("until"); r.Fired != 2 {
		t.Errorf("until rule fired %d, want 2", r.Fired)
	}

	// probability and no budget: the store only counts; the draw is FaultRule.Fires'.
	must(t, e.s.CreateFaultRule(e.ctx, &vippsmgmt.FaultRule{ID: "prob", Match: vippsmgmt.FaultMatch{OperationID: "*"},
		Effect: vippsmgmt.FaultEffect{Drop: true}, Probability: ptr(0.5)}))
	for range 4 {
		if !fire("prob") {
			t.Fatal("probability rule refused by the store")
		}
	}
	if r := find("prob"); r.Fired != 4 || r.Remaining != nil {
		t.Errorf("probability rule: fired %d remaining %v, want 4 and none", r.Fired, r.Remaining)
	}
}

// testFaultCountConcurrent checks that a count budget is exact under concurrent firing: on
// PostgreSQL the connections run in parallel, as several server processes would.
func testFaultCountConcurrent(t *testing.T, e *env) {
	const count, attempts = 7, 40
	must(t, e.s.CreateFaultRule(e.ctx, faultRule("burst", count)))
	var (
		fired atomic.Int64
		wg    sync.WaitGroup
	)
	for range attempts {
		wg.Go(func() {
			ok, err := e.s.FireFaultRule(e.ctx, "burst")
			if err != nil {
				t.Error(err)
			}
			if ok {
				fired.Add(1)
			}
		})
	}
	wg.Wait()
	if fired.Load() != count {
		t.Errorf("%d concurrent firings took %d from a count of %d", attempts, fired.Load(), count)
	}
}

func testPutFaultRule(t *testing.T, e *env) {
	r := faultRule("fixture", 2)
	must(t, e.s.PutFaultRule(e.ctx, r))
	if ok, err := e.s.FireFaultRule(e.ctx, "fixture"); err != nil || !ok {
		t.Fatalf("fire: %v %v", ok, err)
	}
	// The same definition again (a fixture file loaded at the next start) keeps the spent budget.
	e.clock.Advance(time.Hour)
	must(t, e.s.PutFaultRule(e.ctx, faultRule("fixture", 2)))
	rules, err := e.s.FindFaultRules(e.ctx)
	must(t, err)
	if got := rules[0]; *got.Remaining != 1 || got.Fired != 1 || !got.CreatedAt.Equal(Start) {
		t.Errorf("reloaded rule: remaining %d fired %d created %v, want 1, 1, %v", *got.Remaining, got.Fired, got.CreatedAt, Start)
	}
	// A changed definition starts afresh.
	changed := faultRule("fixture", 5)
	must(t, e.s.PutFaultRule(e.ctx, changed))
	rules, err = e.s.FindFaultRules(e.ctx)
	must(t, err)
	if got := rules[0]; *got.Remaining != 5 || got.Fired != 0 {
		t.Errorf("changed rule: remaining %d fired %d, want 5 and 0", *got.Remaining, got.Fired)
	}
	wantCode(t, e.s.PutFaultRule(e.ctx, &vippsmgmt.FaultRule{ID: "x y"}), vippsmgmt.EINVALID)
}

func testAutopilotPolicies(t *testing.T, e *env) {
	e.partner("acme")
	d := func(s string) *time.Duration {
		v, err := time.ParseDuration(s)
		must(t, err)
		return &v
	}
	all := &vippsmgmt.AutopilotPolicy{View: d("1m"), Submit: d("5m"), Decide: d("10m"), Decision: vippsmgmt.DecisionApprove}
	acme := &vippsmgmt.AutopilotPolicy{PartnerID: "acme", Submit: d("1h"), Decision: vippsmgmt.DecisionReject, RejectReason: "Missing documents."}
	must(t, e.s.PutAutopilotPolicy(e.ctx, acme))
	must(t, e.s.PutAutopilotPolicy(e.ctx, all))
	got, err := e.s.FindAutopilotPolicies(e.ctx, vippsmgmt.Page{})
	must(t, err)
	want := []*vippsmgmt.AutopilotPolicy{
		{View: d("1m"), Submit: d("5m"), Decide: d("10m"), Decision: "approve", UpdatedAt: Start},
		{PartnerID: "acme", Submit: d("1h"), Decision: "reject", RejectReason: "Missing documents.", UpdatedAt: Start},
	}
	wantSame(t, "policies", want, got)

	// PUT replaces.
	e.clock.Advance(time.Minute)
	must(t, e.s.PutAutopilotPolicy(e.ctx, &vippsmgmt.AutopilotPolicy{PartnerID: "acme", Decide: d("0s"), Decision: vippsmgmt.DecisionApprove}))
	got, err = e.s.FindAutopilotPolicies(e.ctx, vippsmgmt.Page{})
	must(t, err)
	if p := got[1]; p.Submit != nil || p.Decide == nil || *p.Decide != 0 || p.Decision != "approve" || !p.UpdatedAt.Equal(Start.Add(time.Minute)) {
		t.Errorf("replaced policy: %+v", p)
	}

	err = e.s.PutAutopilotPolicy(e.ctx, &vippsmgmt.AutopilotPolicy{PartnerID: "nobody", View: d("1m"), Decision: "approve"})
	wantCode(t, err, vippsmgmt.EINVALID)
	if e, ok := err.(*vippsmgmt.Error); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "partnerId" {
		t.Errorf("unknown partner: got %v, want a problem naming partnerId", err)
	}
	wantCode(t, e.s.PutAutopilotPolicy(e.ctx, &vippsmgmt.AutopilotPolicy{View: d("-1m"), Decision: "approve"}), vippsmgmt.EINVALID)

	must(t, e.s.DeleteAutopilotPolicy(e.ctx, ""))
	wantCode(t, e.s.DeleteAutopilotPolicy(e.ctx, ""), vippsmgmt.ENOTFOUND)
	must(t, e.s.DeleteAutopilotPolicy(e.ctx, "acme"))
	wantCode(t, e.s.DeleteAutopilotPolicy(e.ctx, "acme"), vippsmgmt.ENOTFOUND)
	if got, _ := e.s.FindAutopilotPolicies(e.ctx, vippsmgmt.Page{}); len(got) != 0 {
		t.Errorf("after deletes: %v", got)
	}
}
