package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

const cliAdminToken = testserver.AdminToken

// operatorEnv is the environment of operator commands against the test server at base.
func operatorEnv(base string) map[string]string {
	return map[string]string{"VIPPSMGMT_BASE_URL": base, "VIPPSMGMT_ADMIN_TOKEN": cliAdminToken}
}

// startCLITestServer runs a complete server with the demo data on loopback and returns its URL.
func startCLITestServer(t *testing.T) string {
	t.Helper()
	return testserver.Start(t, "sqlite", testserver.Options{}).URL
}

// runCLI runs the program as main would and returns its output and exit status.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	// Secrets in create-keys output.
	secretRE = regexp.MustCompile(`(client_secret|Ocp-Apim-Subscription-Key)( +)\S+`)
)

// normalise replaces what changes from run to run: the server's address, ids and times.
func normalise(s, base string) string {
	s = strings.ReplaceAll(s, base, "BASE_URL")
	s = uuidRE.ReplaceAllString(s, "<uuid>")
	s = timeRE.ReplaceAllString(s, "<time>")
	return secretRE.ReplaceAllString(s, "$1$2<secret>")
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}

func partnerArgs(base string) []string {
	k := fixtures.DemoPartnerKeys
	return []string{"quickstart", "--base-url", base, "--client-id", k.ClientID, "--client-secret", k.ClientSecret, "--subscription-key", k.SubscriptionKey}
}

func TestQuickstartGolden(t *testing.T) {
	base := startCLITestServer(t)
	m, mk := fixtures.DemoManagementKeys, fixtures.DemoMerchantKeys
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"partner", partnerArgs(base), nil},
		{"management", []string{"quickstart", "--base-url", base, "--management", "--client-id", m.ClientID, "--client-secret", m.ClientSecret}, nil},
		{"merchant", []string{"quickstart", "--merchant"}, map[string]string{
			"VIPPSMGMT_BASE_URL": base, "VIPPSMGMT_CLIENT_ID": mk.ClientID, "VIPPSMGMT_CLIENT_SECRET": mk.ClientSecret, "VIPPSMGMT_SUBSCRIPTION_KEY": mk.SubscriptionKey,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.env, tc.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, "quickstart-"+tc.name+".golden", normalise(out, base))
		})
	}
}

func TestQuickstartJSON(t *testing.T) {
	base := startCLITestServer(t)
	out, errOut, code := runCLI(t, nil, append(partnerArgs(base), "--json")...)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var doc quickstartResult
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatal("more than one JSON document")
	}
	switch {
	case doc.Token.ExpiresIn < 23*3600, len(doc.SalesUnits) == 0, doc.SalesUnit == nil, doc.Merchant == nil,
		doc.Prefill == nil, doc.ProductOrder == nil, doc.Deleted == nil || *doc.Deleted != doc.Prefill.PrefilledOrderId,
		len(doc.PricePackages) == 0:
		t.Errorf("incomplete document: %s", out)
	}
	// The lifetime left depends on the second the token was issued in.
	out = regexp.MustCompile(`"expiresIn": \d+`).ReplaceAllString(out, `"expiresIn": <seconds>`)
	golden(t, "quickstart-partner-json.golden", normalise(out, base))
}

func TestQuickstartErrors(t *testing.T) {
	base := startCLITestServer(t)
	k := fixtures.DemoPartnerKeys
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stderrHas  string
		oneLineErr bool
	}{
		{"wrong secret", []string{"quickstart", "--base-url", base, "--client-id", k.ClientID, "--client-secret", "wrong", "--subscription-key", k.SubscriptionKey},
			1, "vippsmgmt: step 2 (access token): POST " + base + "/accesstoken/get: 401 invalid_client: ", true},
		{"wrong subscription key", []string{"quickstart", "--base-url", base, "--client-id", k.ClientID, "--client-secret", k.ClientSecret, "--subscription-key", "nope"},
			1, "vippsmgmt: step 2 (access token): ", true},
		{"wrong management keys", []string{"quickstart", "--base-url", base, "--management", "--client-id", k.ClientID, "--client-secret", "wrong"},
			1, "vippsmgmt: step 2 (access token): POST " + base + "/miami/v1/token: 401 invalid_client", true},
		{"no keys", []string{"quickstart", "--base-url", base}, 2, "vippsmgmt: quickstart needs --client-id", true},
		{"no subscription key", []string{"quickstart", "--base-url", base, "--client-id", "a", "--client-secret", "b"}, 2, "--subscription-key", true},
		{"bad base url", []string{"quickstart", "--base-url", "ftp://x", "--client-id", "a", "--client-secret", "b", "--management"}, 2, "must be an http or https URL", true},
		{"stray argument", append(partnerArgs(base), "extra"), 2, "takes no arguments", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.stderrHas) {
				t.Errorf("stderr %q lacks %q", errOut, tc.stderrHas)
			}
			if tc.oneLineErr && strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr has %d lines, want one: %q", strings.Count(errOut, "\n"), errOut)
			}
			if strings.Contains(out, " 3. ") {
				t.Errorf("steps after a failure were printed: %q", out)
			}
		})
	}
}

// Help never prints a key or token that the environment holds: flag defaults are shown by -h, so
// no command may take them from the environment before parsing.
func TestHelpNeverShowsSecretsFromTheEnvironment(t *testing.T) {
	env := map[string]string{
		"VIPPSMGMT_CLIENT_ID":        "env-client-id-4f1c",
		"VIPPSMGMT_CLIENT_SECRET":    "env-client-secret-9b2e",
		"VIPPSMGMT_SUBSCRIPTION_KEY": "env-subscription-key-7d3a",
		"VIPPSMGMT_ADMIN_TOKEN":      "env-admin-token-5e8c-0123456789",
	}
	for _, args := range [][]string{
		{"quickstart", "-h"}, {"import", "-h"}, {"report", "-h"}, {"admin", "-h"}, {"admin", "orders", "-h"},
	} {
		stdout, stderr, _ := runCLI(t, env, args...)
		if !strings.Contains(stdout+stderr, "-") {
			t.Errorf("%v printed no help", args)
		}
		for name, secret := range env {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("%v shows %s from the environment:\n%s%s", args, name, stdout, stderr)
			}
		}
	}
	// The environment still supplies what the flags leave out, and a flag wins over it.
	c, err := parseQuickstart(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.clientID != env["VIPPSMGMT_CLIENT_ID"] || c.clientSecret != env["VIPPSMGMT_CLIENT_SECRET"] || c.subscriptionKey != env["VIPPSMGMT_SUBSCRIPTION_KEY"] {
		t.Errorf("quickstart from the environment: %+v, %v", c, err)
	}
	c, err = parseQuickstart([]string{"--client-secret", "flag"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.clientSecret != "flag" {
		t.Errorf("the flag must win over the environment: %+v, %v", c, err)
	}
}
