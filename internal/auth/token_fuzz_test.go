package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAccessTokenHeaders sends POST /accesstoken/get with arbitrary header values (each mixed
// with a valid credential of the test key sets, so the fuzzer reaches every check) and arbitrary
// Authorization headers to the Management API middleware. Nothing may panic or answer 5xx, a
// token is issued only for the exact registered credentials, and every refusal has a JSON body.
func FuzzAccessTokenHeaders(f *testing.F) {
	f.Add(partnerID, partnerSecret, partnerSub, "", "", "Bearer x")
	f.Add(merchantID, merchantSecret, merchantSub, "123456", "acme", "Bearer a.b.c")
	f.Add(mgmtID, mgmtSecret, "", "", "", "")
	f.Add(partnerID, "wrong", partnerSub, "12a", strings.Repeat("x", 31), "bearer x")
	f.Add("\x00", "\xff", "\n", "", "é", "Basic Og==")
	fx := newFixture(f, Config{Rate: 1e9, Burst: 1 << 30})
	mw := fx.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	valid := map[[3]string]bool{{partnerID, partnerSecret, partnerSub}: true, {merchantID, merchantSecret, merchantSub}: true}

	f.Fuzz(func(t *testing.T, clientID, secret, sub, msn, system, authorization string) {
		r := httptest.NewRequest(http.MethodPost, "/accesstoken/get", nil)
		// Direct map writes keep values the header API would refuse, as a raw client can send them.
		r.Header["Client_id"] = []string{clientID}
		r.Header["Client_secret"] = []string{secret}
		r.Header["Ocp-Apim-Subscription-Key"] = []string{sub}
		r.Header["Merchant-Serial-Number"] = []string{msn}
		r.Header["Vipps-System-Name"] = []string{system}
		rec := fx.answer(t, r)
		switch {
		case rec.Code == http.StatusOK:
			if !valid[[3]string{clientID, secret, sub}] {
				t.Fatalf("token issued for %q %q %q", clientID, secret, sub)
			}
		case !json.Valid(rec.Body.Bytes()):
			t.Fatalf("refusal %d without a JSON body: %q", rec.Code, rec.Body)
		}

		m := httptest.NewRequest(http.MethodGet, "/management/v1/sales-units", nil)
		m.Header["Authorization"] = []string{authorization}
		m.Header["Ocp-Apim-Subscription-Key"] = []string{sub}
		rec = httptest.NewRecorder()
		mw.ServeHTTP(rec, m)
		if rec.Code != http.StatusUnauthorized {
			// Only a token this service signed gets through, and the fuzzer cannot make one.
			t.Fatalf("Authorization %q: status %d", authorization, rec.Code)
		}
	})
}

// FuzzMiamiForm sends POST /miami/v1/token with arbitrary form bodies, content types and Basic
// credentials. Nothing may panic or answer 5xx, a token is issued only to the management keys,
// and every refusal is an OAuth error.
func FuzzMiamiForm(f *testing.F) {
	f.Add("grant_type=client_credentials", "application/x-www-form-urlencoded; charset=utf-8", mgmtID, mgmtSecret, "")
	f.Add("grant_type=client_credentials&scope=donations:read", "application/x-www-form-urlencoded", mgmtID, "mgmt%2Bsecret%2Fx%3D%3D", "")
	f.Add("grant_type=client_credentials&grant_type=client_credentials", "application/x-www-form-urlencoded", mgmtID, mgmtSecret, "")
	f.Add("grant_type=password", "application/x-www-form-urlencoded", partnerID, partnerSecret, partnerSub)
	f.Add("%zz", "application/x-www-form-urlencoded", "", "", "")
	f.Add(`{"grant_type":"client_credentials"}`, "application/json", revokedMgmtID, revokedMgmtSecret, "")
	fx := newFixture(f, Config{Rate: 1e9, Burst: 1 << 30})

	f.Fuzz(func(t *testing.T, body, contentType, user, pass, sub string) {
		r := httptest.NewRequest(http.MethodPost, "/miami/v1/token", strings.NewReader(body))
		r.Header["Content-Type"] = []string{contentType}
		if user != "" || pass != "" {
			r.SetBasicAuth(user, pass)
		}
		if sub != "" {
			r.Header["Ocp-Apim-Subscription-Key"] = []string{sub}
		}
		rec := fx.answer(t, r)
		switch {
		case rec.Code == http.StatusOK:
			// The server reads the Basic user as sent or form-decoded (RFC 6749 section 2.3.1).
			got, _, _ := r.BasicAuth()
			if decoded, _ := url.QueryUnescape(got); got != mgmtID && decoded != mgmtID {
				t.Fatalf("token issued to %q", got)
			}
		default:
			var e OAuthError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("refusal %d is not an OAuth error: %q", rec.Code, rec.Body)
			}
		}
	})
}
