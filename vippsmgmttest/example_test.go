package vippsmgmttest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/vippsmgmttest"
)

// A partner's test starts a sandbox with the demo data, finds its partner keys, and drives the
// server with the client package. Every test that calls NewServer gets a server of its own, which
// stops when the test ends.
func ExampleNewServer() {
	var t *testing.T // the *testing.T of a test such as func TestSalesUnits(t *testing.T)

	srv := vippsmgmttest.NewServer(t, vippsmgmttest.WithDemo())
	var keys vippsmgmttest.KeySet
	for _, k := range srv.KeySets() {
		if k.Kind == "partner" && k.PartnerID == "acme-partner" {
			keys = k
		}
	}
	c, err := client.New(srv.URL, client.WithPartnerKeys(keys.ClientID, keys.ClientSecret, keys.SubscriptionKey))
	if err != nil {
		t.Fatal(err)
	}
	units, err := c.GetAllSalesUnits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 3 {
		t.Errorf("got %d sales units, want 3", len(units))
	}
}

// Start runs a server outside a single test, to share one across a package from TestMain. This
// one is driven with plain net/http through the quick start's first two steps, and its clock is
// moved past the token's lifetime.
func ExampleStart() {
	srv, err := vippsmgmttest.Start(vippsmgmttest.WithFixtures(`
partners:
  - partnerId: pos-vendor
    name: POS Vendor AS
    keys:
      - {kind: partner, clientId: pos-client, clientSecret: pos-secret, subscriptionKey: pos-sub}
merchants:
  - businessIdentifier: {scheme: "business:NO:ORG", id: "987654317"}
    name: Kaffebaren AS
    salesUnits:
      - {msn: "555555", name: Kaffebaren Grünerløkka, partnerId: pos-vendor}
`))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	k := srv.KeySets()[0]
	fmt.Println("keys:", k.Kind, k.ClientID, "of", k.PartnerID)

	// Step 2 of the quick start: an access token from the partner keys.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/accesstoken/get", nil)
	req.Header.Set("client_id", k.ClientID)
	req.Header.Set("client_secret", k.ClientSecret)
	req.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
	var token struct {
		AccessToken string `json:"access_token"`
	}
	if err := call(req, &token); err != nil {
		log.Fatal(err)
	}

	// Step 3: the partner's sales units.
	listUnits := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/management/v1/sales-units", nil)
		req.Header.Set("Authorization", "Bearer "+token.AccessToken)
		req.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		return http.DefaultClient.Do(req)
	}
	var units []struct {
		MSN  string `json:"msn"`
		Name string `json:"name"`
	}
	resp, err := listUnits()
	if err != nil {
		log.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&units)
	resp.Body.Close()
	fmt.Println("sales units:", units)

	// A day later the token has expired.
	srv.AdvanceClock(25 * time.Hour)
	resp, err = listUnits()
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("after 25 hours:", resp.Status)

	// Output:
	// keys: partner pos-client of pos-vendor
	// sales units: [{555555 Kaffebaren Grünerløkka}]
	// after 25 hours: 401 Unauthorized
}

func call(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req.WithContext(context.Background()))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
