package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestReportCommand: an integration that sends no Vipps-System-* headers gets a warning, which
// fails the command with --fail-on warning but not with --fail-on error.
func TestReportCommand(t *testing.T) {
	base := startCLITestServer(t)
	env := operatorEnv(base)
	k := fixtures.DemoPartnerKeys

	out, errOut, code := runCLI(t, env, "report")
	if code != 0 || !strings.Contains(out, "No requests from a known caller") {
		t.Fatalf("empty report: exit %d, %q %q", code, out, errOut)
	}

	requestID := testserver.RequestToken(t, base, k).Header.Get("X-Request-Id")

	out, errOut, code = runCLI(t, env, "report")
	if code != 0 || !strings.Contains(out, k.ClientID+" (partner keys of "+fixtures.DemoPartnerID+"): 1 request, 1 finding") ||
		!strings.Contains(out, "WARNING  no-system-headers: 1,") || !strings.Contains(out, requestID) {
		t.Errorf("report: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = runCLI(t, env, "report", "--fail-on", "error"); code != 0 {
		t.Errorf("--fail-on error: exit %d, %s", code, errOut)
	}
	if _, errOut, code = runCLI(t, env, "report", "--fail-on", "warning"); code != 1 || !strings.Contains(errOut, "1 finding at or above warning") {
		t.Errorf("--fail-on warning: exit %d, %q", code, errOut)
	}

	out, _, code = runCLI(t, env, "report", "--json", "--client-id", k.ClientID)
	var rep struct {
		Callers []struct {
			ClientID  string `json:"clientId"`
			PartnerID string `json:"partnerId"`
			Requests  int    `json:"requests"`
			Findings  []struct {
				Code, Severity, ExampleRequestID, Explanation string
				Count                                         int
			} `json:"findings"`
		} `json:"callers"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if len(rep.Callers) != 1 || rep.Callers[0].PartnerID != fixtures.DemoPartnerID || rep.Callers[0].Requests != 1 ||
		len(rep.Callers[0].Findings) != 1 || rep.Callers[0].Findings[0].ExampleRequestID != requestID || rep.Callers[0].Findings[0].Explanation == "" {
		t.Errorf("--json: %+v", rep)
	}

	if _, errOut, code = runCLI(t, env, "report", "--client-id", "no-such-client"); code != 1 || !strings.Contains(errOut, "no requests from client id no-such-client") {
		t.Errorf("unknown client id: exit %d, %q", code, errOut)
	}
	if _, _, code = runCLI(t, env, "report", "--fail-on", "sometimes"); code != 2 {
		t.Errorf("--fail-on sometimes: exit %d, want 2", code)
	}
	if _, _, code = runCLI(t, map[string]string{"VIPPSMGMT_BASE_URL": base}, "report"); code != 2 {
		t.Errorf("no admin token: exit %d, want 2", code)
	}
	if _, errOut, code = runCLI(t, map[string]string{"VIPPSMGMT_BASE_URL": base}, "report", "--admin-token", "wrong"); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("wrong admin token: exit %d, %q", code, errOut)
	}
}

// TestQuickstartLeavesACleanReport: the quick start as `vippsmgmt quickstart` runs it, with both
// kinds of partner keys, passes `report --fail-on warning`, as a partner's CI job would use it.
func TestQuickstartLeavesACleanReport(t *testing.T) {
	base := startCLITestServer(t)
	p, m := fixtures.DemoPartnerKeys, fixtures.DemoManagementKeys
	for _, args := range [][]string{
		{"quickstart", "--base-url", base, "--client-id", p.ClientID, "--client-secret", p.ClientSecret, "--subscription-key", p.SubscriptionKey},
		{"quickstart", "--base-url", base, "--management", "--client-id", m.ClientID, "--client-secret", m.ClientSecret},
	} {
		if _, errOut, code := runCLI(t, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, errOut)
		}
	}
	env := operatorEnv(base)
	out, errOut, code := runCLI(t, env, "report", "--fail-on", "warning")
	if code != 0 || !strings.Contains(out, p.ClientID) || !strings.Contains(out, m.ClientID) {
		t.Errorf("report after the quick start: exit %d\n%s%s", code, out, errOut)
	}
}
