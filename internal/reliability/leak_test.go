package reliability

import (
	"encoding/base64"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestSecretsNeverLeak drives every endpoint, failures included, with the demo secrets, tokens,
// subscription keys and the admin token, also in the wrong places (swapped headers, a secret as
// the client id, a token as the admin token), then searches the captured log, /metrics, the
// request log and every error body for each of them. None may appear.
func TestSecretsNeverLeak(t *testing.T) {
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Some packages log through the default logger (internal errors); capture it too.
	prev := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(prev) })

	srv := testserver.Start(t, "sqlite", testserver.Options{Logger: logger})
	var (
		mu        sync.Mutex
		errBodies []string
		requests  int
	)
	a := testserver.Client{T: t, URL: srv.URL, Seen: func(method, path string, r testserver.Reply) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		if r.Status >= 400 {
			errBodies = append(errBodies, method+" "+path+" "+string(r.Body))
		}
	}}

	keySets := []fixtures.Keys{fixtures.DemoPartnerKeys, fixtures.DemoManagementKeys, fixtures.DemoMerchantKeys, fixtures.DemoOtherPartnerKeys}
	keySets = append(keySets, issueKeys(a, "partner", fixtures.DemoOtherPartnerID, ""), issueKeys(a, "management", fixtures.DemoPartnerID, ""),
		issueKeys(a, "merchant", "", fixtures.DemoMSN))
	var secrets []string
	addSecret := func(s string) {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	for _, k := range keySets {
		addSecret(k.ClientSecret)
		addSecret(k.SubscriptionKey)
		addSecret(strings.TrimPrefix(testserver.Basic(k), "Basic "))
	}
	addSecret(testserver.AdminToken)

	partner, mgmt, merchant, other := keySets[0], keySets[1], keySets[2], keySets[3]
	tokenOf := map[string]string{}
	for _, k := range keySets {
		if k.SubscriptionKey == "" {
			tokenOf[k.ClientID] = a.ManagementToken(k)
		} else {
			tokenOf[k.ClientID] = a.ClassicToken(k)
		}
		tok := tokenOf[k.ClientID]
		addSecret(tok)
		// The signature alone identifies a token; the header segment is common to all.
		addSecret(tok[strings.LastIndex(tok, ".")+1:])
	}

	std := func(k fixtures.Keys) []string {
		return []string{"Authorization", "Bearer " + tokenOf[k.ClientID], "Ocp-Apim-Subscription-Key", k.SubscriptionKey, "Content-Type", "application/json"}
	}
	miami := func(k fixtures.Keys) []string {
		return []string{"Authorization", "Bearer " + tokenOf[k.ClientID], "Content-Type", "application/json"}
	}
	form := "application/x-www-form-urlencoded"

	// Token endpoints: right and wrong, with secrets in the places people put them by mistake.
	tokenCalls := [][]string{
		{"client_id", partner.ClientID, "client_secret", other.ClientSecret, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey},
		{"client_id", partner.ClientSecret, "client_secret", partner.ClientID, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey},
		{"client_id", partner.SubscriptionKey, "client_secret", partner.ClientSecret, "Ocp-Apim-Subscription-Key", partner.ClientID},
		{"client_id", partner.SubscriptionKey, "client_secret", partner.ClientSecret, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey},
		{"client_id", partner.ClientID, "client_secret", partner.ClientSecret, "Ocp-Apim-Subscription-Key", other.SubscriptionKey},
		{"client_id", partner.ClientID, "client_secret", partner.ClientSecret, "Ocp-Apim-Subscription-Key", partner.ClientSecret},
		{"client_id", mgmt.ClientID, "client_secret", mgmt.ClientSecret, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey},
		{"client_id", partner.ClientID, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey, "Authorization", testserver.Basic(partner)},
		{"client_id", tokenOf[partner.ClientID], "client_secret", partner.ClientSecret, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey},
		{"client_id", merchant.ClientID, "client_secret", merchant.ClientSecret, "Ocp-Apim-Subscription-Key", merchant.SubscriptionKey, "Merchant-Serial-Number", merchant.ClientSecret},
		{"client_id", partner.ClientID, "client_secret", partner.ClientSecret, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey, "Vipps-System-Name", "acme"},
	}
	for _, h := range tokenCalls {
		a.Do("POST", "/accesstoken/get", "", h...)
		a.Do("POST", "/accessToken/get", `{"client_secret":"`+partner.ClientSecret+`"}`, append(h, "Content-Type", "application/json")...)
	}
	swapped := base64.StdEncoding.EncodeToString([]byte(mgmt.ClientSecret + ":" + mgmt.ClientID))
	for _, c := range []struct{ body, auth, ct string }{
		{"grant_type=client_credentials", testserver.Basic(mgmt), form},
		{"grant_type=client_credentials", "Basic " + swapped, form},
		{"grant_type=client_credentials", testserver.Basic(fixtures.Keys{ClientID: mgmt.ClientID, ClientSecret: partner.ClientSecret}), form},
		{"grant_type=client_credentials", testserver.Basic(partner), form},
		{"grant_type=client_credentials&client_id=" + url.QueryEscape(mgmt.ClientID) + "&client_secret=" + url.QueryEscape(mgmt.ClientSecret), "", form},
		{"grant_type=password&password=" + url.QueryEscape(mgmt.ClientSecret), testserver.Basic(mgmt), form},
		{"", testserver.Basic(mgmt), form},
		{`{"client_secret":"` + mgmt.ClientSecret + `"}`, testserver.Basic(mgmt), "application/json"},
		{"grant_type=client_credentials", "Bearer " + tokenOf[mgmt.ClientID], form},
		{"grant_type=client_credentials", "Basic " + mgmt.ClientSecret, form},
	} {
		h := []string{"Content-Type", c.ct}
		if c.auth != "" {
			h = append(h, "Authorization", c.auth)
		}
		a.Do("POST", "/miami/v1/token", c.body, h...)
		a.Do("POST", "/miami/v1/token", c.body, append(h, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey)...)
	}

	// Management API: every operation with each key set, plus wrong combinations.
	var orderID string
	for i, k := range keySets {
		h := std(k)
		if k.SubscriptionKey == "" {
			h = miami(k)
		}
		for _, p := range []string{"/management/v1/sales-units", "/management/v1/sales-units/123456", "/management/v1/sales-units/99999999",
			"/management/v1/merchants/business:NO:ORG/987654325", "/management/v1/merchants/business:NO:ORG/987654325/sales-units",
			"/management/v1/merchants/business:NO:ORG/999999999", "/management/v1/partners/price-packages",
			"/management/v2/product-orders?includeExpired=true", "/management/v2/product-orders/" + fixtures.DemoReceivedOrderID + "/details",
			"/management/v1/product-orders/" + fixtures.DemoReceivedOrderID + "/details", "/management/v2/product-orders/not-a-uuid/details",
			"/management/v1/sales-units?access_token=" + url.QueryEscape(tokenOf[k.ClientID])} {
			a.Do("GET", p, nil, h...)
		}
		r := a.Do("POST", "/management/v1/product-orders", prefillBody("business:NO:ORG", "987654325", "CHECKOUT", "Leak test"),
			append(h, "Idempotency-Key", "leak-"+string(rune('a'+i)))...)
		if r.Status == 201 {
			var c struct{ PrefilledOrderID string }
			r.JSON(t, &c)
			orderID = c.PrefilledOrderID
		}
		a.Do("POST", "/management/v1/product-orders", `{"businessIdentifier":`, append(h, "Idempotency-Key", "leak-bad")...)
		a.Do("POST", "/management/v1/product-orders", `{"salesUnitName":"`+k.ClientSecret+`"}`, append(h, "Idempotency-Key", "leak-bad2")...)
		a.Do("POST", "/management/v1/product-orders", "{}", h...)
		a.Do("DELETE", "/management/v1/product-orders/00000000-0000-0000-0000-000000000000", nil, h...)
		// Wrong combinations: another key set's subscription key, the token as the subscription
		// key, the secret as the token, lower-case scheme, Basic credentials.
		a.Do("GET", "/management/v1/sales-units", nil, "Authorization", "Bearer "+tokenOf[k.ClientID], "Ocp-Apim-Subscription-Key", other.SubscriptionKey)
		a.Do("GET", "/management/v1/sales-units", nil, "Authorization", "Bearer "+tokenOf[k.ClientID], "Ocp-Apim-Subscription-Key", tokenOf[k.ClientID])
		a.Do("GET", "/management/v1/sales-units", nil, "Authorization", "Bearer "+k.ClientSecret, "Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		a.Do("GET", "/management/v1/sales-units", nil, "Authorization", "bearer "+tokenOf[k.ClientID], "Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		a.Do("GET", "/management/v1/sales-units", nil, "Authorization", testserver.Basic(k), "Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		a.Do("GET", "/management/v1/sales-units", nil, "Authorization", tokenOf[k.ClientID])
		a.Do("PUT", "/management/v1/sales-units", nil, h...)
		a.Do("GET", "/management/v1/nothing", nil, h...)
	}
	if orderID != "" {
		a.Do("DELETE", "/management/v1/product-orders/"+orderID, nil, std(partner)...)
	}

	// Operator API: right, and with partner credentials or secrets in place of the admin token.
	for _, tok := range []string{testserver.AdminToken, partner.ClientSecret, tokenOf[partner.ClientID], testserver.Basic(partner)} {
		h := testserver.AdminHeaders(tok)
		if strings.HasPrefix(tok, "Basic ") {
			h = []string{"Authorization", tok}
		}
		for _, p := range []string{"/admin/v1/partners", "/admin/v1/product-orders", "/admin/v1/sales-units", "/admin/v1/merchants",
			"/admin/v1/notifications", "/admin/v1/clock", "/admin/v1/partners/" + fixtures.DemoPartnerID + "/keys",
			"/admin/v1/partners/nobody/keys", "/admin/v1/product-orders/" + fixtures.DemoReceivedOrderID} {
			a.Do("GET", p, nil, h...)
		}
		// Not a valid partner id (it has a '/'): refused, and the refusal must not echo it.
		a.Do("POST", "/admin/v1/partners", `{"partnerId":"`+mgmt.ClientSecret+`","name":"x"}`, h...)
		a.Do("POST", "/admin/v1/partners", `{"partnerId":`, h...)
		a.Do("POST", "/admin/v1/partners/"+fixtures.DemoPartnerID+"/keys", `{"kind":"partner","clientId":"`+partner.ClientID+`"}`, h...)
		a.Do("POST", "/admin/v1/keys/no-such-client/revoke", nil, h...)
		a.Do("POST", "/admin/v1/clock", `{"advance":"`+partner.ClientSecret+`"}`, h...)
	}
	for _, p := range []string{"/healthz", "/readyz", "/.well-known/jwks.json", "/openapi.yaml", "/nothing"} {
		a.Do("GET", p, nil, "Authorization", "Bearer "+tokenOf[partner.ClientID])
	}

	// The operator console: sign-in with wrong tokens and the right one, then the pages that show
	// keys and the request log.
	console := consolePages(t, a, []string{partner.ClientSecret, tokenOf[partner.ClientID], testserver.Basic(partner)})
	if console.session != "" {
		addSecret(console.session)
	}

	metrics := string(a.Do("GET", "/metrics", nil).Body)
	requestLog := string(a.Admin("GET", "/admin/v1/requests?limit=1000", nil, 200).Body)
	logText := logs.String()
	if !strings.Contains(requestLog, "/accesstoken/get") || !strings.Contains(logText, `"msg":"request"`) {
		t.Fatalf("nothing captured: request log %d bytes, log %d bytes", len(requestLog), len(logText))
	}

	mu.Lock()
	defer mu.Unlock()
	type place struct{ name, text string }
	places := []place{{"log", logText}, {"metrics", metrics}, {"request log", requestLog}}
	for name, page := range console.pages {
		places = append(places, place{"console page " + name, page})
	}
	for _, b := range errBodies {
		method, rest, _ := strings.Cut(b, " ")
		path, _, _ := strings.Cut(rest, " ")
		places = append(places, place{"error body of " + method + " " + path, b})
	}
	found := 0
	for _, s := range secrets {
		for _, p := range places {
			for _, f := range []string{s, url.QueryEscape(s)} {
				if strings.Contains(p.text, f) {
					found++
					t.Errorf("secret %.12s... appears in the %s", s, p.name)
					break
				}
			}
		}
	}
	t.Logf("%d requests, %d secrets and tokens searched in %d bytes of log, %d of metrics, %d of request log and %d error bodies; %d found",
		requests, len(secrets), len(logText), len(metrics), len(requestLog), len(errBodies), found)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type consoleVisit struct {
	session string            // the session cookie's value, a secret too
	pages   map[string]string // operator pages that list requests and keys
}

// consolePages signs in to the operator console with each wrong token and then the right one, and
// fetches the pages that show the request log and the key sets.
func consolePages(t *testing.T, a testserver.Client, wrong []string) consoleVisit {
	t.Helper()
	out := consoleVisit{pages: map[string]string{}}
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := a
	c.HTTP = noRedirect
	login := func(token string) testserver.Reply {
		page := c.Do("GET", "/console/login", nil)
		m := csrfRE.FindStringSubmatch(string(page.Body))
		if m == nil {
			t.Fatalf("no sign-in form token on /console/login: %.300s", page.Body)
		}
		form := url.Values{"csrf": {html.UnescapeString(m[1])}, "token": {token}}
		return c.Do("POST", "/console/login", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	}
	for _, w := range wrong {
		if r := login(w); r.Status < 400 {
			t.Errorf("console sign-in with a wrong token: %d", r.Status)
		}
	}
	r := login(testserver.AdminToken)
	var cookie string
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Value != "" {
			cookie, out.session = ck.Name+"="+ck.Value, ck.Value
		}
	}
	if cookie == "" {
		t.Fatalf("console sign-in set no cookie: %d", r.Status)
	}
	for _, p := range []string{"/console", "/console/requests", "/console/partners/" + fixtures.DemoPartnerID, "/console/sales-units/" + fixtures.DemoMerchantKeysMSN, "/console/outbox"} {
		out.pages[p] = string(c.Do("GET", p, nil, "Cookie", cookie).Body)
	}
	return out
}
