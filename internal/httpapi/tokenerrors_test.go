package httpapi_test

import (
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestTokenErrorsHaveTheContractsContentType: the official Access Token contract declares one
// content type, application/json;charset=UTF-8, and a client that branches on it must see the same
// for every answer of an endpoint, whichever layer (gateway, identity provider, OAuth) refused.
func TestTokenErrorsHaveTheContractsContentType(t *testing.T) {
	a := startAPI(t)
	p, m := fixtures.DemoPartnerKeys, fixtures.DemoManagementKeys
	basic, wrongBasic := testserver.Basic(m), testserver.Basic(fixtures.Keys{ClientID: m.ClientID, ClientSecret: "wrong"})
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, path, body string
		headers          []string
		status           int
	}{
		{"standard: no subscription key", "/accesstoken/get", "", []string{"client_id", p.ClientID, "client_secret", p.ClientSecret}, 401},
		{"standard: unknown subscription key", "/accesstoken/get", "", []string{"client_id", p.ClientID, "client_secret", p.ClientSecret, "Ocp-Apim-Subscription-Key", "nope"}, 401},
		{"standard: no client_id", "/accesstoken/get", "", []string{"client_secret", p.ClientSecret, "Ocp-Apim-Subscription-Key", p.SubscriptionKey}, 400},
		{"standard: wrong secret", "/accessToken/get", "", []string{"client_id", p.ClientID, "client_secret", "wrong", "Ocp-Apim-Subscription-Key", p.SubscriptionKey}, 401},
		{"standard: success", "/accesstoken/get", "", []string{"Content-Type", "application/json", "client_id", p.ClientID, "client_secret", p.ClientSecret, "Ocp-Apim-Subscription-Key", p.SubscriptionKey}, 200},
		{"management: json body", "/miami/v1/token", `{}`, []string{"Authorization", basic, "Content-Type", "application/json"}, 400},
		{"management: no grant_type", "/miami/v1/token", "", []string{"Authorization", basic, "Content-Type", form}, 400},
		{"management: wrong secret", "/miami/v1/token", "grant_type=client_credentials", []string{"Authorization", wrongBasic, "Content-Type", form}, 401},
		{"management: subscription key sent", "/miami/v1/token", "grant_type=client_credentials", []string{"Authorization", basic, "Content-Type", form, "Ocp-Apim-Subscription-Key", "x"}, 401},
		{"management: body over every limit", "/miami/v1/token", "grant_type=client_credentials&x=" + strings.Repeat("a", 3<<20), []string{"Authorization", basic, "Content-Type", form}, 413},
		{"management: success", "/miami/v1/token", "grant_type=client_credentials", []string{"Authorization", basic, "Content-Type", form}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Do("POST", tc.path, tc.body, tc.headers...)
			r.Expect(t, tc.status, jsonUTF8)
		})
	}

	t.Run("rate limited", func(t *testing.T) {
		srv := testserver.Start(t, "sqlite", testserver.Options{TokenRate: 0.001, TokenBurst: 1})
		a := srv.Client(t)
		for _, path := range []string{"/accesstoken/get", "/miami/v1/token"} {
			headers := []string{"client_id", p.ClientID, "client_secret", "wrong", "Ocp-Apim-Subscription-Key", p.SubscriptionKey}
			body := ""
			if path == "/miami/v1/token" {
				headers, body = []string{"Authorization", wrongBasic, "Content-Type", form}, "grant_type=client_credentials"
			}
			a.Do("POST", path, body, headers...)
			a.Do("POST", path, body, headers...).Expect(t, 429, jsonUTF8)
		}
	})
}

// TestAccessTokenPathInAnyCase: the contract matches the standard flow's path case-insensitively,
// so a spelling the route table does not list reaches the token endpoint, not a 404.
func TestAccessTokenPathInAnyCase(t *testing.T) {
	a := startAPI(t)
	p := fixtures.DemoPartnerKeys
	for _, path := range []string{"/ACCESSTOKEN/GET", "/AccessToken/Get", "/accesstoken/Get"} {
		t.Run(path, func(t *testing.T) {
			a.Do("POST", path, "", "client_id", p.ClientID, "client_secret", p.ClientSecret,
				"Ocp-Apim-Subscription-Key", p.SubscriptionKey).Expect(t, 200, jsonUTF8)
			a.Do("POST", path, "", "client_id", p.ClientID, "client_secret", "wrong",
				"Ocp-Apim-Subscription-Key", p.SubscriptionKey).Expect(t, 401, jsonUTF8)
		})
	}
}
