package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// TestEveryCommandsHelp: -h and --help of every command print its usage and exit 0, with no
// error line.
func TestEveryCommandsHelp(t *testing.T) {
	usage := regexp.MustCompile(`^([Uu]sage of |usage: vippsmgmt )`)
	for _, name := range []string{"serve", "quickstart", "admin", "report", "healthcheck", "version", "import", "rotate-secret-key"} {
		for _, help := range []string{"-h", "--help"} {
			out, errOut, code := runCLI(t, nil, name, help)
			if code != 0 || strings.Contains(errOut, "vippsmgmt: ") || !usage.MatchString(out+errOut) || !strings.Contains(out+errOut, name) {
				t.Errorf("%s %s: exit %d, output %q", name, help, code, out+errOut)
			}
		}
	}
}

// TestAdminHelpNeedsNoCredentials: help of every operator command works with no admin token and
// no server, and prints that command's usage.
func TestAdminHelpNeedsNoCredentials(t *testing.T) {
	for _, name := range []string{"orders", "order", "view", "submit", "approve", "reject", "create-keys", "revoke-keys", "clock", "fault", "autopilot"} {
		for _, help := range []string{"--help", "-h"} {
			out, errOut, code := runCLI(t, map[string]string{"VIPPSMGMT_BASE_URL": "http://127.0.0.1:1"}, "admin", name, help)
			if code != 0 {
				t.Errorf("admin %s %s: exit %d: %s", name, help, code, errOut)
			}
			if !strings.Contains(out+errOut, "usage: vippsmgmt admin "+name) {
				t.Errorf("admin %s %s printed no usage: %q", name, help, out+errOut)
			}
		}
	}
	// Without help the token is still required, before anything is sent.
	if _, errOut, code := runCLI(t, nil, "admin", "approve", "x"); code != 2 || !strings.Contains(errOut, "--admin-token") {
		t.Errorf("approve without a token: exit %d, %q", code, errOut)
	}
}

// TestQuickstartDetectsMerchantKeys: merchant keys given without --merchant are recognised from
// the token, and the run completes as with --merchant, saying so.
func TestQuickstartDetectsMerchantKeys(t *testing.T) {
	base := startCLITestServer(t)
	mk := fixtures.DemoMerchantKeys
	out, errOut, code := runCLI(t, nil, "quickstart", "--base-url", base,
		"--client-id", mk.ClientID, "--client-secret", mk.ClientSecret, "--subscription-key", mk.SubscriptionKey)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"these are merchant keys (the token says so)", " 7. product orders      not available to merchant keys (403", "Quick start completed."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
