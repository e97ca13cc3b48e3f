package auth

import (
	"encoding/base64"
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
