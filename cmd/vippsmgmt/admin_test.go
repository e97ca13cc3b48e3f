package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// adminSession is a server with the demo data and a transcript of the `vippsmgmt admin` commands
// run against it, for a golden file.
type adminSession struct {
	t          *testing.T
	base       string
	env        map[string]string
	transcript strings.Builder
}

func startAdminSession(t *testing.T) *adminSession {
	base := startCLITestServer(t)
	return &adminSession{t: t, base: base, env: operatorEnv(base)}
}

// step runs `vippsmgmt admin args...`, fails the test unless it exits with wantCode, adds the
// command and its output to the transcript and returns its stdout.
func (s *adminSession) step(wantCode int, args ...string) string {
	s.t.Helper()
	out, errOut, code := runCLI(s.t, s.env, append([]string{"admin"}, args...)...)
	if code != wantCode {
		s.t.Fatalf("admin %s: exit %d, want %d; stderr %q", strings.Join(args, " "), code, wantCode, errOut)
	}
	fmt.Fprintf(&s.transcript, "$ vippsmgmt admin %s\n%s%s", strings.Join(args, " "), out, errOut)
	return out
}

// golden compares the transcript with testdata/name.
func (s *adminSession) golden(name string) {
	s.t.Helper()
	golden(s.t, name, normalise(s.transcript.String(), s.base))
}

// demoPrefill is a prefill for the demo merchant, as its partner would send it.
var demoPrefill = client.ProductOrderRequest{
	BusinessIdentifier: client.BusinessIdentifier{Scheme: fixtures.DemoMerchant.Scheme, Id: fixtures.DemoMerchant.ID},
	ProductType:        client.ProductTypeCheckout,
}

// demoPartnerClient is a client of the server at base with the demo partner's keys.
func demoPartnerClient(t *testing.T, base string, opts ...client.Option) *client.Client {
	t.Helper()
	k := fixtures.DemoPartnerKeys
	c, err := client.New(base, append([]client.Option{client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAdminGolden drives the operator commands through an order's life and key issuance, and
// compares the transcript with a golden file.
func TestAdminGolden(t *testing.T) {
	s := startAdminSession(t)
	step := s.step

	// A prefill to submit and reject, made the way a partner would.
	res, err := demoPartnerClient(t, s.base).OrderProduct(t.Context(), demoPrefill)
	if err != nil {
		t.Fatal(err)
	}
	prefill := res.PrefilledOrderId.String()

	step(0, "orders")
	step(0, "approve", fixtures.DemoReceivedOrderID, "--msn", "5555555", "--merchant-name", "Fjordkjøkken AS")
	step(1, "approve", fixtures.DemoReceivedOrderID)
	step(0, "view", prefill)
	step(0, "submit", prefill)
	step(0, "reject", prefill, "--reason", "missing documents")
	step(0, "order", prefill)
	step(0, "orders", "--status", "rejected")
	created := step(0, "create-keys", "--partner", fixtures.DemoPartnerID, "--kind", "partner")
	step(0, "create-keys", "--msn", "5555555")
	step(0, "clock")
	step(0, "clock", "advance", "337h")
	m := regexp.MustCompile(`client_id +(\S+)`).FindStringSubmatch(created)
	if m == nil {
		t.Fatalf("no client_id in %q", created)
	}
	step(0, "revoke-keys", m[1])
	step(1, "revoke-keys", "no-such-client")
	s.golden("admin.golden")

	// The revoked keys no longer get tokens.
	sub := regexp.MustCompile(`Ocp-Apim-Subscription-Key +(\S+)`).FindStringSubmatch(created)
	secret := regexp.MustCompile(`client_secret +(\S+)`).FindStringSubmatch(created)
	rc, err := client.New(s.base, client.WithPartnerKeys(m[1], secret[1], sub[1]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Token(t.Context()); err == nil {
		t.Error("revoked keys still get a token")
	}
}

func TestAdminJSON(t *testing.T) {
	base := startCLITestServer(t)
	out, errOut, code := runCLI(t, nil, "admin", "--base-url", base, "--admin-token", cliAdminToken, "--json", "orders", "--status", "COMPLETED")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var orders []client.AdminProductOrder
	if err := json.Unmarshal([]byte(out), &orders); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(orders) != 1 || orders[0].ProductOrderId.String() != fixtures.DemoCompletedOrderID {
		t.Errorf("orders = %+v", orders)
	}
}

func TestAdminUsage(t *testing.T) {
	base := startCLITestServer(t)
	for _, tc := range []struct {
		args []string
		code int
		has  string
	}{
		{[]string{"admin", "--base-url", base, "orders"}, 2, "needs --admin-token"},
		{[]string{"admin", "--admin-token", "x"}, 2, "no command given"},
		{[]string{"admin", "--admin-token", "x", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"admin", "frobnicate"}, 2, `unknown command "frobnicate"`}, // a typo is named before credentials are asked for
		{[]string{"admin", "--admin-token", "x", "approve"}, 2, "want 1 argument(s), got 0"},
		{[]string{"admin", "--admin-token", "x", "approve", "not-a-uuid"}, 2, "not a product order id"},
		{[]string{"admin", "--admin-token", "x", "reject", fixtures.DemoReceivedOrderID}, 2, "--reason is required"},
		{[]string{"admin", "--admin-token", "x", "create-keys"}, 2, "either --partner or --msn"},
		{[]string{"admin", "--admin-token", "x", "create-keys", "--partner", "p", "--kind", "merchant"}, 2, "--kind must be partner or management"},
		{[]string{"admin", "--admin-token", "x", "clock", "advance", "-5h"}, 2, ""},
		{[]string{"admin", "--admin-token", "x", "clock", "advance", "soon"}, 2, "not a positive duration"},
		{[]string{"admin", "--base-url", base, "--admin-token", "x", "fault", "add", "--operation", "*", "--status", "503", "--probability", "NaN"}, 2, "--probability"},
		{[]string{"admin", "--base-url", base, "--admin-token", "x", "fault", "add", "--operation", "*", "--status", "503", "--retry-after", "9223372037"}, 2, "--retry-after"},
		{[]string{"admin", "--base-url", base, "--admin-token", "wrong", "orders"}, 1, "401"},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			_, errOut, code := runCLI(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.has) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.has)
			}
		})
	}
}

// TestAdminOrdersEveryPage: `admin orders` lists every order of a list longer than a page, once,
// in text and in JSON.
func TestAdminOrdersEveryPage(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{NoDemo: true})
	ctx := context.Background()
	if err := srv.App.Store.CreatePartner(ctx, &vippsmgmt.Partner{ID: "many", Name: "Many orders"}); err != nil {
		t.Fatal(err)
	}
	total := 2*vippsmgmt.DefaultPageLimit + 7
	for range total {
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: new("many"), ProductType: "CHECKOUT",
			BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "912345688"}}
		if _, _, err := srv.App.Store.CreateProductOrder(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"admin", "--base-url", srv.URL, "--admin-token", testserver.AdminToken}
	out, errOut, code := runCLI(t, nil, append(args, "orders", "--partner", "many")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if ids := uuidRE.FindAllString(out, -1); len(ids) != total || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != total {
		t.Errorf("text: %d order ids, want %d distinct", len(ids), total)
	}
	if !strings.HasSuffix(out, fmt.Sprintf("\n%d product order(s)\n", total)) {
		t.Errorf("text ends %q", out[max(0, len(out)-40):])
	}
	out, errOut, code = runCLI(t, nil, append(args, "--json", "orders", "--partner", "many")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var orders []client.AdminProductOrder
	if err := json.Unmarshal([]byte(out), &orders); err != nil {
		t.Fatalf("not JSON: %v\n%.300s", err, out)
	}
	seen := map[string]bool{}
	for i, o := range orders {
		if seen[o.ProductOrderId.String()] {
			t.Errorf("%s listed twice", o.ProductOrderId)
		}
		seen[o.ProductOrderId.String()] = true
		if i > 0 && o.CreatedAt.After(orders[i-1].CreatedAt) {
			t.Errorf("order %d is newer than the one before", i)
		}
	}
	if len(orders) != total {
		t.Errorf("JSON: %d orders, want %d", len(orders), total)
	}
}
