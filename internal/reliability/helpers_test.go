package reliability

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	problemJSON = "application/problem+json"
	jsonUTF8    = "application/json;charset=UTF-8"
)

// httpClient bounds every request: a hung server fails the test instead of the suite's timeout.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// api is a curl-like client: it sends exactly the headers given.
type api struct {
	t      testing.TB
	base   string
	client *http.Client
	// seen, when set, receives every exchange, for the leak checks.
	seen func(method, path string, r reply)
	// trace, when set, follows each request's connection.
	trace *httptrace.ClientTrace
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// problem decodes a problem body and checks the contract's required fields and its status.
func (r reply) problem(t testing.TB) problemBody {
	t.Helper()
	testserver.ProblemFields(t, r.body)
	var p problemBody
	r.json(t, &p)
	if p.Status != r.status {
		t.Errorf("problem status %d, HTTP status %d", p.Status, r.status)
	}
	return p
}

type problemBody struct {
	Type         string `json:"type"`
	Title        string `json:"title"`
	Status       int    `json:"status"`
	Detail       string `json:"detail"`
	Instance     string `json:"instance"`
	ExtraDetails []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"extraDetails"`
}

// send performs one request; it is safe from any goroutine.
func (a api) send(method, path string, body any, headers ...string) (reply, error) {
	ctx := context.Background()
	if a.trace != nil {
		ctx = httptrace.WithClientTrace(ctx, a.trace)
	}
	c := a.client
	if c == nil {
		c = httpClient
	}
	rep, err := testserver.Call(ctx, c, method, a.base+path, body, headers...)
	if err != nil {
		return reply{}, err
	}
	r := reply{rep.Status, rep.Header, rep.Body}
	if a.seen != nil {
		a.seen(method, path, r)
	}
	return r, nil
}

func (a api) do(method, path string, body any, headers ...string) reply {
	a.t.Helper()
	r, err := a.send(method, path, body, headers...)
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

func expect(t testing.TB, r reply, status int, contentType string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if contentType != "" && r.header.Get("Content-Type") != contentType {
		t.Fatalf("Content-Type %q, want %q: %s", r.header.Get("Content-Type"), contentType, r.body)
	}
}

// classicToken fetches a /accesstoken/get token for a key set.
func (a api) classicToken(k fixtures.Keys) string {
	a.t.Helper()
	r := a.do("POST", "/accesstoken/get", "", "client_id", k.ClientID, "client_secret", k.ClientSecret,
		"Ocp-Apim-Subscription-Key", k.SubscriptionKey)
	return a.accessToken(r)
}

// accessToken is the token of a token endpoint's answer, which must be a 200.
func (a api) accessToken(r reply) string {
	a.t.Helper()
	expect(a.t, r, 200, jsonUTF8)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.json(a.t, &tok)
	return tok.AccessToken
}

// classic returns the headers of a Management API call with a classic token.
func (a api) classic(k fixtures.Keys) []string {
	a.t.Helper()
	return []string{"Content-Type", "application/json", "Authorization", "Bearer " + a.classicToken(k),
		"Ocp-Apim-Subscription-Key", k.SubscriptionKey}
}

func basic(k fixtures.Keys) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(k.ClientID+":"+k.ClientSecret))
}

// managementToken fetches a /miami/v1/token token for management keys.
func (a api) managementToken(k fixtures.Keys) string {
	a.t.Helper()
	r := a.do("POST", "/miami/v1/token", "grant_type=client_credentials", "Authorization", basic(k),
		"Content-Type", "application/x-www-form-urlencoded")
	return a.accessToken(r)
}

// management returns the headers of a Management API call with a management token.
func (a api) management(k fixtures.Keys) []string {
	a.t.Helper()
	return []string{"Content-Type", "application/json", "Authorization", "Bearer " + a.managementToken(k)}
}

func adminHeaders(token string) []string {
	return []string{"Authorization", "Bearer " + token, "Content-Type", "application/json"}
}

// admin calls the operator API of a test server and requires the given status.
func (a api) admin(method, path string, body any, status int) reply {
	a.t.Helper()
	r := a.do(method, path, body, adminHeaders(testserver.AdminToken)...)
	if r.status != status {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

// issueKeys creates a key set through the operator API: kind partner or management for a partner,
// or merchant keys for a sales unit (msn != "").
func (a api) issueKeys(kind, partnerID, msn string) fixtures.Keys {
	a.t.Helper()
	var r reply
	if msn != "" {
		r = a.admin("POST", "/admin/v1/sales-units/"+msn+"/keys", map[string]any{}, 201)
	} else {
		r = a.admin("POST", "/admin/v1/partners/"+partnerID+"/keys", map[string]any{"kind": kind}, 201)
	}
	var k struct {
		ClientID        string `json:"clientId"`
		ClientSecret    string `json:"clientSecret"`
		SubscriptionKey string `json:"subscriptionKey"`
	}
	r.json(a.t, &k)
	return fixtures.Keys{ClientID: k.ClientID, ClientSecret: k.ClientSecret, SubscriptionKey: k.SubscriptionKey}
}

// adminOrder is the part of an operator view of an order the tests look at.
type adminOrder struct {
	ProductOrderID     string            `json:"productOrderId"`
	PartnerID          *string           `json:"partnerId"`
	Status             string            `json:"status"`
	ProductType        string            `json:"productType"`
	BusinessIdentifier map[string]string `json:"businessIdentifier"`
	Details            map[string]any    `json:"details"`
	ExpiresAt          *time.Time        `json:"expiresAt"`
}

// adminOrders lists the orders matching query ("" or "?name=value..."), reading every page.
func (a api) adminOrders(query string) []adminOrder {
	a.t.Helper()
	sep := "?"
	if strings.Contains(query, "?") {
		sep = "&"
	}
	var out []adminOrder
	for page := query; ; {
		r := a.admin("GET", "/admin/v1/product-orders"+page, nil, 200)
		var orders []adminOrder
		r.json(a.t, &orders)
		out = append(out, orders...)
		cursor := r.header.Get("Vippsmgmt-Next-Cursor")
		if cursor == "" {
			return out
		}
		page = query + sep + "cursor=" + url.QueryEscape(cursor)
	}
}

// prefillBody is a valid prefill for the business identifier with a unique sales unit name.
func prefillBody(scheme, id, productType, name string) string {
	return fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":%q,"salesUnitName":%q,`+
		`"settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"},"annualTurnover":250000,`+
		`"website":{"url":"https://shop.example","termsUrl":"https://shop.example/terms"},"merchantCategoryCode":"5812"}`,
		scheme, id, productType, name)
}
