package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// TestAdminScenariosGolden drives fault rules and the autopilot from the command line: a rule
// fails a partner's prefill, and a policy completes an order when the clock moves.
func TestAdminScenariosGolden(t *testing.T) {
	s := startAdminSession(t)
	step := s.step
	step(0, "fault", "add", "--id", "two-503s", "--operation", "orderProduct", "--status", "503", "--retry-after", "2", "--count", "2")
	step(0, "fault", "add", "--id", "slow-units", "--method", "GET", "--path", "/management/v1/sales-units/{msn}",
		"--partner", fixtures.DemoPartnerID, "--delay", "10ms", "--probability", "0.5")
	step(1, "fault", "add", "--operation", "adminListFaults", "--status", "503")
	step(1, "fault", "add", "--operation", "*", "--status", "418")

	pc := demoPartnerClient(t, s.base, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 1}))
	for range 2 {
		var p *client.Problem
		if _, err := pc.OrderProduct(t.Context(), demoPrefill); !errors.As(err, &p) || p.Status != 503 {
			t.Fatalf("prefill under the rule: %v", err)
		}
	}
	step(0, "fault", "list")
	step(0, "fault", "delete", "slow-units")
	step(1, "fault", "delete", "slow-units")

	step(0, "autopilot", "set", "--view", "1m", "--submit", "5m", "--decide", "10m", "--decision", "approve")
	step(0, "autopilot", "set", "--partner", fixtures.DemoOtherPartnerID, "--decide", "1h", "--decision", "reject", "--reject-reason", "No licence.")
	step(1, "autopilot", "set", "--decision", "reject", "--view", "1m")
	step(0, "autopilot", "list")
	o, err := pc.OrderProduct(t.Context(), demoPrefill)
	if err != nil {
		t.Fatal(err)
	}
	step(0, "clock", "advance", "20m")
	out := step(0, "order", o.PrefilledOrderId.String())
	if !strings.Contains(out, "status COMPLETED") {
		t.Errorf("the autopilot did not complete the order: %s", out)
	}
	step(0, "autopilot", "delete", "--partner", fixtures.DemoOtherPartnerID)
	step(0, "autopilot", "delete")
	step(1, "autopilot", "delete")
	s.golden("admin-scenarios.golden")
}
