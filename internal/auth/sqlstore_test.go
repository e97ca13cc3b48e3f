package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/auth"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// TestWithSQLStore runs both flows against the real store on a SQLite file: keys issued the way
// the admin API issues them, two server processes sharing the signing key, and a revocation.
func TestWithSQLStore(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store := sqlitetest.Open(t, clk)

	hasher, err := auth.LoadHasher(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	bi := vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "987654317"}
	if err := store.UpsertPartner(ctx, &vippsmgmt.Partner{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertMerchant(ctx, &vippsmgmt.Merchant{BusinessIdentifier: bi, Name: "Shop AS", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertSalesUnit(ctx, &vippsmgmt.SalesUnit{MSN: "123456", Name: "Shop", Status: vippsmgmt.SalesUnitActive, Merchant: bi}); err != nil {
		t.Fatal(err)
	}
	merchant, err := credentials.Issue(ctx, store, hasher, vippsmgmt.KeyMerchant, "", "123456", "")
	if err != nil {
		t.Fatal(err)
	}
	partner, err := credentials.Issue(ctx, store, hasher, vippsmgmt.KeyPartner, "acme", "", "")
	if err != nil {
		t.Fatal(err)
	}
	mgmt, err := credentials.Issue(ctx, store, hasher, vippsmgmt.KeyManagement, "acme", "", "")
	if err != nil {
		t.Fatal(err)
	}

	// Two processes on one database: tokens of one are accepted by the other.
	a, err := auth.New(ctx, store, clk, hasher, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.New(ctx, store, clk, hasher, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() {
		t.Fatal("processes on one database use different signing keys")
	}
	mux := http.NewServeMux()
	a.Routes(mux)

	// issue serves a token request r, which must succeed, and decodes the answer into body.
	issue := func(r *http.Request, body any) {
		t.Helper()
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", r.URL.Path, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), body); err != nil {
			t.Fatal(err)
		}
	}
	classic := func(k *credentials.Issued) string {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "/accesstoken/get", nil)
		r.Header.Set("client_id", k.ClientID)
		r.Header.Set("client_secret", k.ClientSecret)
		r.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		var body auth.AuthorizationTokenResponse
		issue(r, &body)
		return body.AccessToken
	}
	r := httptest.NewRequest(http.MethodPost, "/miami/v1/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(mgmt.ClientID+":"+mgmt.ClientSecret)))
	var mgmtBody auth.TokenResponse
	issue(r, &mgmtBody)

	var got vippsmgmt.Caller
	handler := b.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = vippsmgmt.CallerFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	call := func(tok, sub string) int {
		r := httptest.NewRequest(http.MethodGet, "/management/v1/sales-units", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if sub != "" {
			r.Header.Set("Ocp-Apim-Subscription-Key", sub)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		return rec.Code
	}

	merchantTok := classic(merchant)
	if code := call(merchantTok, merchant.SubscriptionKey); code != http.StatusNoContent {
		t.Fatalf("merchant call: %d", code)
	}
	if got.Kind != vippsmgmt.KeyMerchant || got.MSN != "123456" || got.Merchant != bi || got.ClientID != merchant.ClientID {
		t.Errorf("merchant caller %+v", got)
	}
	partnerTok := classic(partner)
	if code := call(partnerTok, partner.SubscriptionKey); code != http.StatusNoContent || got.PartnerID != "acme" || !got.IsPartner() {
		t.Errorf("partner call: %d, caller %+v", code, got)
	}
	if code := call(partnerTok, merchant.SubscriptionKey); code != http.StatusUnauthorized {
		t.Errorf("partner token with the merchant's subscription key: %d", code)
	}
	if code := call(mgmtBody.AccessToken, ""); code != http.StatusNoContent || got.Kind != vippsmgmt.KeyManagement {
		t.Errorf("management call: %d, caller %+v", code, got)
	}

	// Revoked in the database: b notices within the cache lifetime, at once after Forget.
	if err := store.RevokeAPIKey(ctx, partner.ClientID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if code := call(partnerTok, partner.SubscriptionKey); code != http.StatusUnauthorized {
		t.Errorf("revoked partner after the cache lifetime: %d", code)
	}
	if code := call(merchantTok, merchant.SubscriptionKey); code != http.StatusNoContent {
		t.Errorf("merchant after another key set's revocation: %d", code)
	}
	if err := store.RevokeAPIKey(ctx, merchant.ClientID); err != nil {
		t.Fatal(err)
	}
	b.Forget(merchant.ClientID)
	if code := call(merchantTok, merchant.SubscriptionKey); code != http.StatusUnauthorized {
		t.Errorf("revoked merchant after Forget: %d", code)
	}
}
