package vippsmgmttest_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/vippsmgmttest"
)

func TestNewServerWithDemo(t *testing.T) {
	t.Parallel()
	srv := vippsmgmttest.NewServer(t, vippsmgmttest.WithDemo())
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(srv.URL) {
		t.Errorf("URL %q", srv.URL)
	}
	var kinds []string
	var partner vippsmgmttest.KeySet
	for _, k := range srv.KeySets() {
		kinds = append(kinds, k.Kind+" "+k.PartnerID+k.MSN)
		if k.Kind == "partner" && k.PartnerID == "acme-partner" {
			partner = k
		}
	}
	want := []string{"partner acme-partner", "management acme-partner", "partner nordic-pos", "merchant 123457"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("key sets (-want +got):\n%s", diff)
	}

	c := clientFor(t, srv, partner)
	units, err := c.GetAllSalesUnits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 3 {
		t.Errorf("acme-partner sees %d sales units, want 3", len(units))
	}
	order, err := c.OrderProduct(t.Context(), client.ProductOrderRequest{
		BusinessIdentifier: client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654325"},
		ProductType:        client.ProductTypeCheckout,
	})
	if err != nil {
		t.Fatal(err)
	}

	// Past the 336 hours a prefill lives, and past the token's 24 hours: the client fetches a
	// new token and finds the order expired.
	before := srv.Now()
	after := srv.AdvanceClock(337 * time.Hour)
	if d := after.Sub(before); d < 337*time.Hour || d > 338*time.Hour {
		t.Errorf("clock moved %s, want 337h", d)
	}
	details, err := c.GetProductOrderDetails(t.Context(), order.PrefilledOrderId)
	if err != nil {
		t.Fatal(err)
	}
	if details.Status != client.StatusExpired {
		t.Errorf("status %s after 337h, want EXPIRED", details.Status)
	}

	// The landing page through the whole server: HTML for a browser, the 404 problem for the API.
	for accept, want := range map[string]string{"text/html": "200 text/html; charset=utf-8", "application/json": "404 application/problem+json"} {
		resp := get(t, srv.URL+"/", "Accept", accept)
		if got := fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("Content-Type")); got != want {
			t.Errorf("GET / with Accept %s: %s, want %s", accept, got, want)
		}
	}

	// The admin token works on the operator API, with plain net/http.
	if resp := get(t, srv.URL+"/admin/v1/clock", "Authorization", "Bearer "+srv.AdminToken); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /admin/v1/clock with the admin token: %s", resp.Status)
	}
}

// get sends GET url with the headers given as name, value pairs and returns the answer, its body
// closed.
func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// clientFor is a client of srv with the key set k.
func clientFor(t *testing.T, srv *vippsmgmttest.Server, k vippsmgmttest.KeySet) *client.Client {
	t.Helper()
	var opt client.Option
	switch k.Kind {
	case "partner":
		opt = client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey)
	case "management":
		opt = client.WithManagementKeys(k.ClientID, k.ClientSecret)
	case "merchant":
		opt = client.WithMerchantKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey)
	default:
		t.Fatalf("key set of kind %q", k.Kind)
	}
	c, err := client.New(srv.URL, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const vendorFixture = `
partners:
  - partnerId: pos-vendor
    name: POS Vendor AS
    keys:
      - {kind: partner, clientId: pos-client, clientSecret: pos-secret, subscriptionKey: pos-sub}
      - {kind: management, clientId: pos-mgmt, clientSecret: pos-mgmt-secret}
merchants:
  - businessIdentifier: {scheme: "business:NO:ORG", id: "987654317"}
    name: Kaffebaren AS
    salesUnits:
      - msn: "555555"
        name: Kaffebaren Grünerløkka
        partnerId: pos-vendor
        keys:
          - {kind: merchant, clientId: cafe-client, clientSecret: cafe-secret, subscriptionKey: cafe-sub}
`

// TestNewServerWithFixtures: text and file fixtures load in order (a later key set with the same
// client id replaces the earlier one, as loading does), and the demo stays out unless asked for.
func TestNewServerWithFixtures(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "rotated.yaml")
	rotated := strings.Replace(strings.SplitN(vendorFixture, "merchants:", 2)[0], "pos-secret", "rotated-secret", 1)
	if err := os.WriteFile(file, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := vippsmgmttest.NewServer(t, vippsmgmttest.WithFixtures(vendorFixture), vippsmgmttest.WithFixtureFile(file),
		vippsmgmttest.WithAdminToken("ci-admin-token"))
	want := []vippsmgmttest.KeySet{
		{Kind: "partner", ClientID: "pos-client", ClientSecret: "rotated-secret", SubscriptionKey: "pos-sub", PartnerID: "pos-vendor"},
		{Kind: "management", ClientID: "pos-mgmt", ClientSecret: "pos-mgmt-secret", PartnerID: "pos-vendor"},
		{Kind: "merchant", ClientID: "cafe-client", ClientSecret: "cafe-secret", SubscriptionKey: "cafe-sub", MSN: "555555"},
	}
	if diff := cmp.Diff(want, srv.KeySets()); diff != "" {
		t.Errorf("key sets (-want +got):\n%s", diff)
	}
	if srv.AdminToken != "ci-admin-token" {
		t.Errorf("admin token %q", srv.AdminToken)
	}
	for _, k := range srv.KeySets() {
		su, err := clientFor(t, srv, k).GetMsn(t.Context(), "555555")
		if err != nil {
			t.Errorf("%s keys: %v", k.Kind, err)
		} else if su.Name != "Kaffebaren Grünerløkka" {
			t.Errorf("%s keys: sales unit %q", k.Kind, su.Name)
		}
	}
	// No demo data: its keys are unknown here.
	c, _ := client.New(srv.URL, client.WithPartnerKeys("8d12d329-28d6-47da-9502-0cc730f8c573", "Ej4ONmV27KEnufwiwmAT3ss9leboMI5DcKmxEHcJ", "bd485d5374e29f20a3efc10abf43a22d"))
	var p *client.Problem
	if _, err := c.GetAllSalesUnits(t.Context()); !errors.As(err, &p) || p.Status != http.StatusUnauthorized {
		t.Errorf("demo keys without WithDemo: %v, want a 401 problem", err)
	}
}

// TestServerStopsWithTheTest: after the test, nothing listens on its URL any more.
func TestServerStopsWithTheTest(t *testing.T) {
	t.Parallel()
	var url string
	t.Run("sub", func(t *testing.T) {
		url = vippsmgmttest.NewServer(t).URL
		get(t, url+"/readyz")
	})
	if resp, err := http.Get(url + "/readyz"); err == nil {
		resp.Body.Close()
		t.Errorf("the server still answers after its test: %s", resp.Status)
	}
}

// TestStartRefusesBadFixtures: a fixture that does not load is an error naming its line.
func TestStartRefusesBadFixtures(t *testing.T) {
	t.Parallel()
	_, err := vippsmgmttest.Start(vippsmgmttest.WithFixtures("partners:\n  - partnerId: p1\n    name: P One\n    colour: blue\n"))
	if err == nil || !regexp.MustCompile(`fixtures-1\.yaml:4: partners\[0\]\.colour: `).MatchString(err.Error()) {
		t.Errorf("error %v, want one naming fixtures-1.yaml:4", err)
	}
	_, err = vippsmgmttest.Start(vippsmgmttest.WithFixtureFile(filepath.Join(t.TempDir(), "missing.yaml")))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("error %v, want one naming missing.yaml", err)
	}
}
