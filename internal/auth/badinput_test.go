package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBadInputNeverServerError throws odd header and body values at every endpoint; none may
// answer 5xx.
func TestBadInputNeverServerError(t *testing.T) {
	f := newFixture(t, Config{Rate: 1e9, Burst: 1 << 30})
	values := []string{
		"", " ", "\x00", "\xff\xfe", "é", strings.Repeat("a", 10000), "Bearer", "Bearer  ", "Basic", "Basic ===",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("\xff:\xfe")), "Bearer a.b.c", "Bearer ..", "Bearer e30.e30.e30",
		"Bearer eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiJzb29uIn0.AAAA", "%", "%zz", "a:b:c", "'\"<>",
	}
	headers := []string{"client_id", "client_secret", "Ocp-Apim-Subscription-Key", "Merchant-Serial-Number", "Vipps-System-Name", "Authorization", "Content-Type"}
	handler := f.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, path := range []string{"/accesstoken/get", "/accessToken/get", "/miami/v1/token", "/management"} {
		for _, h := range headers {
			for _, v := range values {
				for _, body := range []string{"", "grant_type=client_credentials", "\x00\xff"} {
					r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
					// Valid credentials everywhere but the header under test.
					r.Header["Client_id"] = []string{partnerID}
					r.Header["Client_secret"] = []string{partnerSecret}
					r.Header.Set("Ocp-Apim-Subscription-Key", partnerSub)
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					r.Header[http.CanonicalHeaderKey(h)] = []string{v}
					rec := httptest.NewRecorder()
					if path == "/management" {
						handler.ServeHTTP(rec, r)
					} else {
						f.mux.ServeHTTP(rec, r)
					}
					if rec.Code >= 500 {
						t.Errorf("%s with %s=%q body %q: status %d", path, h, v, body, rec.Code)
					}
				}
			}
		}
	}
}

// TestDuplicatedCredentialHeaders: a credential header given twice is refused on every endpoint,
// also when the first value alone would pass, since which value counts is a guess a proxy in
// front may make otherwise.
func TestDuplicatedCredentialHeaders(t *testing.T) {
	f := newFixture(t, Config{Rate: 1e9, Burst: 1 << 30})
	classic := "Bearer " + f.classicToken(t, partnerID, partnerSecret, partnerSub)
	mgmt := "Bearer " + f.managementToken(t)

	for _, h := range []string{"client_id", "client_secret", "Ocp-Apim-Subscription-Key"} {
		t.Run("accesstoken "+h, func(t *testing.T) {
			r := standardRequest(partnerID, partnerSecret, partnerSub)
			r.Header.Add(h, "other")
			rec := f.answer(t, r)
			var body IdentityError
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusBadRequest || body.Error != "invalid_request" || !strings.Contains(body.ErrorDescription, h) {
				t.Errorf("got %d %+v, want 400 invalid_request naming %s", rec.Code, body, h)
			}
		})
	}

	t.Run("miami Authorization", func(t *testing.T) {
		r := miamiRequest(mgmtID, mgmtSecret, "grant_type=client_credentials")
		r.Header.Add("Authorization", "Basic b3RoZXI6b3RoZXI=")
		rec := f.answer(t, r)
		var body OAuthError
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusBadRequest || body.Error != "invalid_request" {
			t.Errorf("got %d %+v, want 400 invalid_request", rec.Code, body)
		}
	})

	for _, tt := range []struct {
		name, auth, sub string
		dup, value      string
	}{
		{"classic Authorization", classic, partnerSub, "Authorization", "Bearer garbage"},
		{"management Authorization", mgmt, "", "Authorization", classic},
		{"classic Ocp-Apim-Subscription-Key", classic, partnerSub, "Ocp-Apim-Subscription-Key", merchantSub},
	} {
		t.Run("management API "+tt.name, func(t *testing.T) {
			r := managementRequest(tt.auth, tt.sub)
			r.Header.Add(tt.dup, tt.value)
			rec, _, called := f.serveManagement(r)
			if rec.Code != http.StatusUnauthorized || called || !strings.Contains(rec.Body.String(), "more than once") {
				t.Errorf("got %d (handler called %v): %s", rec.Code, called, rec.Body)
			}
		})
	}
}
