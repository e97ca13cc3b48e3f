package auth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

func jwkPublicKey(k JWK) (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return nil, err
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
}

// callerHandler records the caller the middleware hands on.
func callerHandler(got *vippsmgmt.Caller, called *bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := vippsmgmt.CallerFromContext(r.Context())
		if !ok {
			http.Error(w, "no caller", http.StatusTeapot)
			return
		}
		*got, *called = c, true
		w.WriteHeader(http.StatusNoContent)
	})
}

func managementRequest(auth, sub string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/management/v1/sales-units", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	if sub != "" {
		r.Header.Set("Ocp-Apim-Subscription-Key", sub)
	}
	return r
}

func (f *fixture) serveManagement(r *http.Request) (*httptest.ResponseRecorder, vippsmgmt.Caller, bool) {
	var c vippsmgmt.Caller
	var called bool
	rec := httptest.NewRecorder()
	f.svc.Middleware(callerHandler(&c, &called)).ServeHTTP(rec, r)
	return rec, c, called
}

func TestMiddlewareSuccess(t *testing.T) {
	f := newFixture(t, Config{})
	partnerTok := f.classicToken(t, partnerID, partnerSecret, partnerSub)
	merchantTok := f.classicToken(t, merchantID, merchantSecret, merchantSub)
	mgmtTok := f.managementToken(t)
	tests := []struct {
		name string
		auth string
		sub  string
		want vippsmgmt.Caller
	}{
		{"classic partner", "Bearer " + partnerTok, partnerSub, vippsmgmt.Caller{ClientID: partnerID, Kind: vippsmgmt.KeyPartner, PartnerID: "acme", Label: "partner:" + partnerID}},
		{"classic merchant", "Bearer " + merchantTok, merchantSub, vippsmgmt.Caller{ClientID: merchantID, Kind: vippsmgmt.KeyMerchant, MSN: merchantMSN, Merchant: merchantBI, Label: "merchant:" + merchantID}},
		{"management", "Bearer " + mgmtTok, "", vippsmgmt.Caller{ClientID: mgmtID, Kind: vippsmgmt.KeyManagement, PartnerID: "acme", Label: "management:" + mgmtID}},
		{"management ignores a subscription key", "Bearer " + mgmtTok, "some-other-key", vippsmgmt.Caller{ClientID: mgmtID, Kind: vippsmgmt.KeyManagement, PartnerID: "acme", Label: "management:" + mgmtID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 2 { // second round served from the caches
				rec, got, called := f.serveManagement(managementRequest(tt.auth, tt.sub))
				if !called || rec.Code != http.StatusNoContent {
					t.Fatalf("round %d: status %d body %s", i, rec.Code, rec.Body)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("round %d: caller (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// signWith signs claims with key under alg, with the service's kid unless kid is given.
func signWith(t *testing.T, m jwt.SigningMethod, key any, c jwt.Claims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMiddlewareRejects(t *testing.T) {
	f := newFixture(t, Config{})
	now := f.clock.Now()
	kid := f.svc.KeyID()
	partnerTok := f.classicToken(t, partnerID, partnerSecret, partnerSub)
	mgmtTok := f.managementToken(t)
	revokedTok, err := f.svc.IssueClassic(&vippsmgmt.APIKey{ClientID: revokedID, Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	goneTok, err := f.svc.IssueClassic(&vippsmgmt.APIKey{ClientID: "deleted-1", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	ownerChangedTok, err := f.svc.IssueClassic(&vippsmgmt.APIKey{ClientID: partnerID, Kind: vippsmgmt.KeyPartner, PartnerID: ptr("other-partner")})
	if err != nil {
		t.Fatal(err)
	}

	claims := func(edit func(*Claims)) *Claims {
		c := &Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: "vippsmgmt", Subject: partnerID, ID: "jti-1",
				IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
			},
			Kind: vippsmgmt.KeyPartner, PartnerID: "acme", Flow: FlowClassic,
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	// Sanity: the hand-made claims are accepted when signed properly.
	if rec, _, _ := f.serveManagement(managementRequest("Bearer "+signWith(t, jwt.SigningMethodRS256, testKey, claims(nil), kid), partnerSub)); rec.Code != http.StatusNoContent {
		t.Fatalf("control token refused: %d %s", rec.Code, rec.Body)
	}

	// Payload edited after signing: the partner id is changed, the signature kept.
	parts := strings.Split(partnerTok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	edited := strings.Replace(string(payload), `"acme"`, `"evil"`, 1)
	editedTok := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(edited)) + "." + parts[2]
	// Header edited to alg none but the RS256 signature kept.
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + kid + `"}`))

	tests := []struct {
		name   string
		auth   string
		sub    string
		detail string // substring of the problem detail
	}{
		{"missing Authorization", "", partnerSub, "missing"},
		{"lower-case bearer", "bearer " + partnerTok, partnerSub, `"bearer" is refused`},
		{"upper-case BEARER", "BEARER " + partnerTok, partnerSub, "refused"},
		{"no scheme", partnerTok, partnerSub, "Bearer"},
		{"Basic scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte(partnerID+":"+partnerSecret)), partnerSub, "Bearer"},
		{"empty token", "Bearer ", partnerSub, "no access token"},
		{"malformed", "Bearer not.a.jwt", partnerSub, "malformed"},
		{"garbage", "Bearer abc", partnerSub, "malformed"},
		{"huge token", "Bearer " + strings.Repeat("a", maxTokenLen+1), partnerSub, "malformed"},
		{"other RSA key", "Bearer " + signWith(t, jwt.SigningMethodRS256, otherKey, claims(nil), kid), partnerSub, "signature"},
		{"unknown kid", "Bearer " + signWith(t, jwt.SigningMethodRS256, testKey, claims(nil), "other-kid"), partnerSub, "signature"},
		{"alg none", "Bearer " + signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil), kid), partnerSub, "signature"},
		{"alg none header on a real signature", "Bearer " + noneHeader + "." + parts[1] + "." + parts[2], partnerSub, "signature"},
		{"HS256 with the public key as secret", "Bearer " + signWith(t, jwt.SigningMethodHS256, testPublicKeyPEM, claims(nil), kid), partnerSub, "signature"},
		{"RS512 with the right key", "Bearer " + signWith(t, jwt.SigningMethodRS512, testKey, claims(nil), kid), partnerSub, "signature"},
		{"edited payload", "Bearer " + editedTok, partnerSub, "signature"},
		{"signature stripped", "Bearer " + parts[0] + "." + parts[1] + ".", partnerSub, "signature"},
		{"expired", "Bearer " + signWith(t, jwt.SigningMethodRS256, testKey, claims(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second)) }), kid), partnerSub, "expired"},
		{"not yet valid", "Bearer " + signWith(t, jwt.SigningMethodRS256, testKey, claims(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }), kid), partnerSub, "not valid yet"},
		{"no expiry", "Bearer " + signWith(t, jwt.SigningMethodRS256, testKey, claims(func(c *Claims) { c.ExpiresAt = nil }), kid), partnerSub, "not valid"},
		{"other issuer", "Bearer " + signWith(t, jwt.SigningMethodRS256, testKey, claims(func(c *Claims) { c.Issuer = "someone-else" }), kid), partnerSub, "not issued by this server"},
		{"flow and kind mismatch", "Bearer " + signWith(t, jwt.SigningMethodRS256, testKey, claims(func(c *Claims) { c.Flow = FlowManagement }), kid), "", "not valid"},
		{"no subject", "Bearer " + signWith(t, jwt.SigningMethodRS256, testKey, claims(func(c *Claims) { c.Subject = "" }), kid), partnerSub, "not valid"},
		{"revoked key set", "Bearer " + revokedTok.AccessToken, revokedSub, "revoked"},
		{"deleted key set", "Bearer " + goneTok.AccessToken, partnerSub, "no longer exist"},
		{"owner changed since issue", "Bearer " + ownerChangedTok.AccessToken, partnerSub, "changed"},
		{"classic without subscription key", "Bearer " + partnerTok, "", "Ocp-Apim-Subscription-Key"},
		{"classic with another key set's subscription key", "Bearer " + partnerTok, merchantSub, "does not belong"},
		{"classic with an unknown subscription key", "Bearer " + partnerTok, "made-up", "does not belong"},
		{"lower-case scheme with a management token", "bearer " + mgmtTok, "", "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := managementRequest(tt.auth, tt.sub)
			r = r.WithContext(problem.WithRequestID(r.Context(), "0b9f8c1e-1111-4a4a-9999-123456789abc"))
			rec, _, called := f.serveManagement(r)
			if called {
				t.Fatal("handler called")
			}
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate %q, want Bearer", got)
			}
			if got := rec.Header().Get("Content-Type"); got != problem.ProblemJSON {
				t.Errorf("content type %q", got)
			}
			var p problem.Detail
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Title != "Not authorized" || p.Status != 401 || p.Instance != "urn:uuid:0b9f8c1e-1111-4a4a-9999-123456789abc" || p.Type == "" {
				t.Errorf("problem %+v", p)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q, want it to mention %q", p.Detail, tt.detail)
			}
			if strings.Contains(rec.Body.String(), partnerTok[:40]) {
				t.Error("body echoes the token")
			}
		})
	}
}

func TestTokenExpiryFollowsClock(t *testing.T) {
	f := newFixture(t, Config{ClassicTTL: time.Hour})
	tok := f.classicToken(t, partnerID, partnerSecret, partnerSub)
	mgmt := f.managementToken(t)
	check := func(auth, sub string, want int) {
		t.Helper()
		rec, _, _ := f.serveManagement(managementRequest("Bearer "+auth, sub))
		if rec.Code != want {
			t.Errorf("at %v: status %d, want %d; %s", f.clock.Now(), rec.Code, want, rec.Body)
		}
	}
	check(tok, partnerSub, http.StatusNoContent) // verified and cached
	check(mgmt, "", http.StatusNoContent)
	f.clock.Advance(ManagementTTL - time.Second)
	check(mgmt, "", http.StatusNoContent)
	f.clock.Advance(time.Second)
	check(mgmt, "", http.StatusUnauthorized) // cached, but expired now
	check(tok, partnerSub, http.StatusNoContent)
	f.clock.Advance(time.Hour - ManagementTTL)
	check(tok, partnerSub, http.StatusUnauthorized)

	// A clock set back before not_before (issue time - 300 s) refuses the cached token too.
	f2 := newFixture(t, Config{})
	tok2 := f2.classicToken(t, partnerID, partnerSecret, partnerSub)
	f2.clock.Advance(-299 * time.Second)
	if rec, _, _ := f2.serveManagement(managementRequest("Bearer "+tok2, partnerSub)); rec.Code != http.StatusNoContent {
		t.Errorf("within skew: status %d", rec.Code)
	}
	f2.clock.Advance(-2 * time.Second)
	if rec, _, _ := f2.serveManagement(managementRequest("Bearer "+tok2, partnerSub)); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "not valid yet") {
		t.Errorf("before not_before: status %d %s", rec.Code, rec.Body)
	}
}

func TestRevocationHonoured(t *testing.T) {
	f := newFixture(t, Config{})
	tok := f.classicToken(t, partnerID, partnerSecret, partnerSub)
	serve := func() int {
		rec, _, _ := f.serveManagement(managementRequest("Bearer "+tok, partnerSub))
		return rec.Code
	}
	if got := serve(); got != http.StatusNoContent {
		t.Fatalf("status %d", got)
	}
	f.store.revoke(partnerID)
	if got := serve(); got != http.StatusNoContent {
		t.Errorf("within the cache TTL: status %d, want 204 (cached)", got)
	}
	f.clock.Advance(keyInfoTTL)
	if got := serve(); got != http.StatusUnauthorized {
		t.Errorf("after the cache TTL: status %d, want 401", got)
	}

	// Forget makes it immediate.
	f2 := newFixture(t, Config{})
	mgmt := f2.managementToken(t)
	if rec, _, _ := f2.serveManagement(managementRequest("Bearer "+mgmt, "")); rec.Code != http.StatusNoContent {
		t.Fatalf("status %d", rec.Code)
	}
	f2.store.revoke(mgmtID)
	f2.svc.Forget(mgmtID)
	if rec, _, _ := f2.serveManagement(managementRequest("Bearer "+mgmt, "")); rec.Code != http.StatusUnauthorized {
		t.Errorf("after Forget: status %d, want 401", rec.Code)
	}
	// And a revoked key set gets no new token.
	if rec := f2.do(miamiRequest(mgmtID, mgmtSecret, "grant_type=client_credentials")); rec.Code != http.StatusUnauthorized {
		t.Errorf("token for revoked keys: status %d", rec.Code)
	}
}

func TestKeyInfoIsCached(t *testing.T) {
	f := newFixture(t, Config{})
	tok := f.classicToken(t, merchantID, merchantSecret, merchantSub)
	before := f.store.lookups.Load()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			rec, _, _ := f.serveManagement(managementRequest("Bearer "+tok, merchantSub))
			if rec.Code != http.StatusNoContent {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if n := f.store.lookups.Load() - before; n < 1 || n > 2 {
		t.Errorf("%d key lookups for 50 requests, want 1 (2 if racing the first)", n)
	}
}

func TestMiddlewareStoreFailure(t *testing.T) {
	f := newFixture(t, Config{})
	tok := f.classicToken(t, partnerID, partnerSecret, partnerSub)
	f.store.setFail(errStoreDown)
	rec, _, called := f.serveManagement(managementRequest("Bearer "+tok, partnerSub))
	if called || rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "refused") {
		t.Errorf("status %d body %s", rec.Code, rec.Body)
	}
	_, err := f.svc.Authenticate(managementRequest("Bearer "+tok, partnerSub))
	if err == nil || IsUnauthorized(err) || !errors.Is(err, errStoreDown) {
		t.Errorf("Authenticate error %v, want the store's", err)
	}
	// A bad token is still a 401, not a 500, with the store down.
	rec, _, _ = f.serveManagement(managementRequest("Bearer x.y.z", partnerSub))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("bad token with store down: %d", rec.Code)
	}
}

func TestRequireAdmin(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name  string
		token string
		auth  string
		want  int
	}{
		{"right token", "s3cret-admin", "Bearer s3cret-admin", 204},
		{"wrong token", "s3cret-admin", "Bearer s3cret-admiN", 401},
		{"prefix of the token", "s3cret-admin", "Bearer s3cret", 401},
		{"missing header", "s3cret-admin", "", 401},
		{"lower-case scheme", "s3cret-admin", "bearer s3cret-admin", 401},
		{"Basic", "s3cret-admin", "Basic czNjcmV0LWFkbWlu", 401},
		{"admin API disabled", "", "Bearer ", 401},
		{"admin API disabled, any token", "", "Bearer x", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/admin/v1/partners", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			RequireAdmin(tt.token)(ok).ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.want == 401 {
				if rec.Header().Get("WWW-Authenticate") != "Bearer" || rec.Header().Get("Content-Type") != problem.ProblemJSON {
					t.Errorf("headers %v", rec.Header())
				}
				if strings.Contains(rec.Body.String(), "s3cret") {
					t.Error("body echoes the token")
				}
			}
		})
	}
}

func TestIssueRefusesWrongKind(t *testing.T) {
	f := newFixture(t, Config{})
	if _, err := f.svc.IssueClassic(&vippsmgmt.APIKey{ClientID: mgmtID, Kind: vippsmgmt.KeyManagement, PartnerID: ptr("acme")}); err == nil {
		t.Error("classic token for management keys")
	}
	if _, err := f.svc.IssueManagement(&vippsmgmt.APIKey{ClientID: partnerID, Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme")}); err == nil {
		t.Error("management token for partner keys")
	}
	if _, err := f.svc.IssueClassic(&vippsmgmt.APIKey{ClientID: "x", Kind: vippsmgmt.KeyMerchant}); err == nil {
		t.Error("merchant token without an MSN")
	}
}
