package reliability

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// jwtParts splits a compact JWT and decodes its header and claims.
func jwtParts(t testing.TB, tok string) (header, claims map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWT", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims, parts[2]
}

func seg(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// signRS256 signs header.claims with key, as a forger holding some RSA key would.
func signRS256(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	tok.Header = header
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signHS256(t testing.TB, secret []byte, header, claims map[string]any) string {
	t.Helper()
	in := seg(t, header) + "." + seg(t, claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestForgedTokens sends forged, altered, expired, premature, revoked and mismatched credentials
// through the HTTP server; every one must get 401 problem+json with a Bearer challenge.
func TestForgedTokens(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	a := srv.Client(t)
	ctx := context.Background()
	partner, other, merchant := fixtures.DemoPartnerKeys, fixtures.DemoOtherPartnerKeys, fixtures.DemoMerchantKeys

	good := a.ClassicToken(partner)
	mgmt := a.ManagementToken(fixtures.DemoManagementKeys)
	merchantTok := a.ClassicToken(merchant)
	header, claims, _ := jwtParts(t, good)
	mHeader, mClaims, _ := jwtParts(t, mgmt)

	// The public key as any client can fetch it, in the forms an HS256 confusion attack would
	// use as the HMAC secret.
	var jwks struct {
		Keys []struct{ Kid, N, E string }
	}
	a.Do("GET", "/.well-known/jwks.json", nil).JSON(t, &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kid != header["kid"] {
		t.Fatalf("jwks %+v does not publish the token's kid %v", jwks, header["kid"])
	}
	nBytes, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].N)
	eBytes, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nBytes), E: int(new(big.Int).SetBytes(eBytes).Int64())}
	pkix, _ := x509.MarshalPKIXPublicKey(pub)
	pkixPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	jwksRaw := a.Do("GET", "/.well-known/jwks.json", nil).Body

	// The server's own key, read from its database: tokens signed with it test the claim checks
	// that come after the signature.
	stored, err := srv.App.Store.Setting(ctx, "jwt_signing_key")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(stored))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	serverKey := k.(*rsa.PrivateKey)
	forgerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()

	// A token from another vippsmgmt (another database, so another signing key) for the same
	// demo keys.
	elsewhere := testserver.Start(t, "sqlite", testserver.Options{})
	foreign := elsewhere.Client(t).ClassicToken(partner)

	swap := func(tok string, i int, part string) string {
		p := strings.Split(tok, ".")
		p[i] = part
		return strings.Join(p, ".")
	}
	_, _, goodSig := jwtParts(t, good)
	classic := func(tok string) []string {
		return []string{"Authorization", "Bearer " + tok, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey}
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	// Reference answers: the genuine credentials work.
	for name, h := range map[string][]string{"classic": classic(good), "management": bearer(mgmt),
		"merchant": {"Authorization", "Bearer " + merchantTok, "Ocp-Apim-Subscription-Key", merchant.SubscriptionKey}} {
		if r := a.Do("GET", "/management/v1/sales-units", nil, h...); r.Status != 200 {
			t.Fatalf("genuine %s token: %d %s", name, r.Status, r.Body)
		}
	}

	type forged struct {
		name    string
		headers []string
	}
	cases := []forged{
		{"signed by another RSA key with the server's kid", classic(signRS256(t, forgerKey, header, claims))},
		{"signed by another RSA key without kid", classic(signRS256(t, forgerKey, with(header, "kid", nil), claims))},
		{"issued by another vippsmgmt", classic(foreign)},
		{"alg none", classic(seg(t, with(header, "alg", "none")) + "." + seg(t, claims) + ".")},
		{"alg None with the original signature", classic(seg(t, with(header, "alg", "None")) + "." + seg(t, claims) + "." + goodSig)},
		{"alg NONE management", bearer(seg(t, with(mHeader, "alg", "NONE")) + "." + seg(t, mClaims) + ".")},
		{"HS256 keyed with the PKIX PEM from the JWKS", classic(signHS256(t, pkixPEM, with(header, "alg", "HS256"), claims))},
		{"HS256 keyed with the PKCS#1 PEM", classic(signHS256(t, pkcs1PEM, with(header, "alg", "HS256"), claims))},
		{"HS256 keyed with the DER", classic(signHS256(t, pkix, with(header, "alg", "HS256"), claims))},
		{"HS256 keyed with the JWKS document", classic(signHS256(t, jwksRaw, with(header, "alg", "HS256"), claims))},
		{"HS256 keyed with the modulus", classic(signHS256(t, nBytes, with(header, "alg", "HS256"), claims))},
		{"claims edited: partner_id", classic(swap(good, 1, seg(t, with(claims, "partner_id", fixtures.DemoOtherPartnerID))))},
		{"claims edited: sub", classic(swap(good, 1, seg(t, with(claims, "sub", other.ClientID))))},
		{"claims edited: exp a year on", classic(swap(good, 1, seg(t, with(claims, "exp", now+365*86400))))},
		{"claims edited: management flow", bearer(swap(good, 1, seg(t, with(claims, "flow", "management", "key_kind", "management"))))},
		{"header edited: kid", classic(swap(good, 0, seg(t, with(header, "kid", "other"))))},
		{"signature of another token", classic(swap(good, 2, strings.Split(merchantTok, ".")[2]))},
		{"signature cut short", classic(good[:len(good)-8])},
		{"server key, not yet valid", classic(signRS256(t, serverKey, header, with(claims, "nbf", now+3600, "iat", now+3600)))},
		{"server key, expired", classic(signRS256(t, serverKey, header, with(claims, "exp", now-1)))},
		{"server key, no exp", classic(signRS256(t, serverKey, header, with(claims, "exp", nil)))},
		{"server key, other issuer", classic(signRS256(t, serverKey, header, with(claims, "iss", "someone-else")))},
		{"server key, B's partner id on A's key set", classic(signRS256(t, serverKey, header, with(claims, "partner_id", fixtures.DemoOtherPartnerID)))},
		{"server key, unknown key set", classic(signRS256(t, serverKey, header, with(claims, "sub", "00000000-0000-0000-0000-000000000000")))},
		{"server key, management flow for partner keys", bearer(signRS256(t, serverKey, header, with(claims, "flow", "management")))},
		{"server key, no jti", classic(signRS256(t, serverKey, header, with(claims, "jti", nil)))},
		{"classic token with B's subscription key", []string{"Authorization", "Bearer " + good, "Ocp-Apim-Subscription-Key", other.SubscriptionKey}},
		{"classic token with the merchant's subscription key", []string{"Authorization", "Bearer " + good, "Ocp-Apim-Subscription-Key", merchant.SubscriptionKey}},
		{"merchant token with A's subscription key", []string{"Authorization", "Bearer " + merchantTok, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey}},
		{"classic token without subscription key", bearer(good)},
		{"classic token with an unknown subscription key", []string{"Authorization", "Bearer " + good, "Ocp-Apim-Subscription-Key", "0123456789abcdef0123456789abcdef"}},
		{"lower-case bearer", []string{"Authorization", "bearer " + good, "Ocp-Apim-Subscription-Key", partner.SubscriptionKey}},
		{"Basic credentials instead of a token", []string{"Authorization", testserver.Basic(partner), "Ocp-Apim-Subscription-Key", partner.SubscriptionKey}},
		{"client secret as the token", classic(partner.ClientSecret)},
		{"empty bearer", classic("")},
		{"oversized token", classic(good + strings.Repeat("A", 9000))},
		{"no Authorization", []string{"Ocp-Apim-Subscription-Key", partner.SubscriptionKey}},
	}

	// Revocation and expiry change server state, so they come after the stateless cases.
	var tried, refused int
	check := func(c forged) {
		t.Helper()
		for _, path := range []string{"/management/v1/sales-units", "/management/v2/product-orders", "/management/v1/sales-units/123456"} {
			tried++
			r := a.Do("GET", path, nil, c.headers...)
			if r.Status != 401 || r.Header.Get("Content-Type") != problemJSON || r.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s on %s: %d %q %q %s", c.name, path, r.Status, r.Header.Get("Content-Type"), r.Header.Get("WWW-Authenticate"), r.Body)
				continue
			}
			r.Problem(t)
			refused++
		}
	}
	for _, c := range cases {
		check(c)
	}

	// A key set that worked is revoked: its tokens stop working and it gets no new ones.
	keys := issueKeys(a, "partner", fixtures.DemoOtherPartnerID, "")
	mkeys := issueKeys(a, "management", fixtures.DemoOtherPartnerID, "")
	revTok, revMgmt := a.ClassicToken(keys), a.ManagementToken(mkeys)
	revHeaders := []string{"Authorization", "Bearer " + revTok, "Ocp-Apim-Subscription-Key", keys.SubscriptionKey}
	a.Do("GET", "/management/v1/sales-units", nil, revHeaders...).Expect(t, 200, jsonUTF8)
	a.Do("GET", "/management/v1/sales-units", nil, bearer(revMgmt)...).Expect(t, 200, jsonUTF8)
	a.Admin("POST", "/admin/v1/keys/"+keys.ClientID+"/revoke", nil, 200)
	a.Admin("POST", "/admin/v1/keys/"+mkeys.ClientID+"/revoke", nil, 200)
	check(forged{"token of a revoked key set", revHeaders})
	check(forged{"management token of a revoked key set", bearer(revMgmt)})
	if r := a.Do("POST", "/accesstoken/get", "", "client_id", keys.ClientID, "client_secret", keys.ClientSecret,
		"Ocp-Apim-Subscription-Key", keys.SubscriptionKey); r.Status != 401 {
		t.Errorf("revoked keys got a token: %d %s", r.Status, r.Body)
	}
	if r := a.Do("POST", "/miami/v1/token", "grant_type=client_credentials", "Authorization", testserver.Basic(mkeys),
		"Content-Type", "application/x-www-form-urlencoded"); r.Status != 401 {
		t.Errorf("revoked management keys got a token: %d %s", r.Status, r.Body)
	}

	// The sandbox clock moves past both lifetimes: 15 minutes for management tokens, then 24 hours.
	a.Admin("POST", "/admin/v1/clock", map[string]string{"advance": "16m"}, 200)
	check(forged{"management token after 16 minutes", bearer(mgmt)})
	a.Do("GET", "/management/v1/sales-units", nil, classic(good)...).Expect(t, 200, jsonUTF8)
	a.Admin("POST", "/admin/v1/clock", map[string]string{"advance": "24h"}, 200)
	check(forged{"classic token after 24 hours", classic(good)})
	check(forged{"merchant token after 24 hours", []string{"Authorization", "Bearer " + merchantTok, "Ocp-Apim-Subscription-Key", merchant.SubscriptionKey}})
	// A fresh token works again: the refusals were about the tokens, not the keys.
	a.Do("GET", "/management/v1/sales-units", nil, classic(a.ClassicToken(partner))...).Expect(t, 200, jsonUTF8)
	t.Logf("%d forged or stale credential uses tried, %d refused with 401 problem+json", tried, refused)
}
