package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vippsmgmt/vippsmgmt"
)

func TestAccessTokenSuccess(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		id      string
		secret  string
		sub     string
		ctype   string
		body    string
		headers map[string]string
		kind    string
	}{
		{name: "partner, no content type", path: "/accesstoken/get", id: partnerID, secret: partnerSecret, sub: partnerSub, kind: vippsmgmt.KeyPartner},
		{name: "merchant, json content type as in the quick start", path: "/accesstoken/get", id: merchantID, secret: merchantSecret, sub: merchantSub, ctype: "application/json", kind: vippsmgmt.KeyMerchant},
		{name: "form content type with a body, ignored", path: "/accesstoken/get", id: partnerID, secret: partnerSecret, sub: partnerSub, ctype: "application/x-www-form-urlencoded", body: "whatever=1", kind: vippsmgmt.KeyPartner},
		{name: "older path casing", path: "/accessToken/get", id: partnerID, secret: partnerSecret, sub: partnerSub, kind: vippsmgmt.KeyPartner},
		{name: "optional headers at their limits", path: "/accesstoken/get", id: partnerID, secret: partnerSecret, sub: partnerSub, kind: vippsmgmt.KeyPartner,
			headers: map[string]string{"Merchant-Serial-Number": "1234567890", "Vipps-System-Name": strings.Repeat("n", 30), "Vipps-System-Version": "1.0", "Vipps-System-Plugin-Name": "plugin", "Vipps-System-Plugin-Version": "2.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			now := f.clock.Now()
			r := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			r.Header.Set("client_id", tt.id)
			r.Header.Set("client_secret", tt.secret)
			r.Header.Set("Ocp-Apim-Subscription-Key", tt.sub)
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			rec := f.do(r)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
			}
			if got, want := rec.Header().Get("Content-Type"), "application/json;charset=UTF-8"; got != want {
				t.Errorf("content type %q, want %q", got, want)
			}
			// Every value must be a JSON string.
			var raw map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			if len(raw) != 7 {
				t.Errorf("got %d fields, want 7: %v", len(raw), raw)
			}
			for k, v := range raw {
				if _, ok := v.(string); !ok {
					t.Errorf("field %s is %T, want string", k, v)
				}
			}
			want := map[string]any{
				"token_type":     "Bearer",
				"expires_in":     "86400",
				"ext_expires_in": "0",
				"expires_on":     strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10),
				"not_before":     strconv.FormatInt(now.Add(-300*time.Second).Unix(), 10),
				"resource":       "00000002-0000-0000-c000-000000000000",
			}
			for k, v := range want {
				if raw[k] != v {
					t.Errorf("%s = %v, want %v", k, raw[k], v)
				}
			}
			tok, _ := raw["access_token"].(string)
			claims := &Claims{}
			parsed, _, err := jwt.NewParser().ParseUnverified(tok, claims)
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Header["alg"] != "RS256" || parsed.Header["kid"] != f.svc.KeyID() {
				t.Errorf("header %v, want RS256 with kid %s", parsed.Header, f.svc.KeyID())
			}
			if claims.Subject != tt.id || claims.Issuer != "vippsmgmt" || claims.Kind != tt.kind || claims.Flow != FlowClassic || claims.ID == "" {
				t.Errorf("claims %+v", claims)
			}
			if claims.IssuedAt.Unix() != now.Unix() || claims.NotBefore.Unix() != now.Unix()-300 || claims.ExpiresAt.Unix() != now.Unix()+86400 {
				t.Errorf("times iat=%v nbf=%v exp=%v", claims.IssuedAt, claims.NotBefore, claims.ExpiresAt)
			}
			switch tt.kind {
			case vippsmgmt.KeyPartner:
				if claims.PartnerID != "acme" || claims.MSN != "" {
					t.Errorf("partner claims %+v", claims)
				}
			case vippsmgmt.KeyMerchant:
				if claims.MSN != merchantMSN || claims.PartnerID != "" {
					t.Errorf("merchant claims %+v", claims)
				}
			}
		})
	}
}

func TestAccessTokenTTL(t *testing.T) {
	f := newFixture(t, Config{ClassicTTL: time.Hour, Issuer: "test-issuer"})
	rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub))
	var body AuthorizationTokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.ExpiresIn != "3600" {
		t.Errorf("expires_in %q, want 3600", body.ExpiresIn)
	}
	if on, nb := mustAtoi(t, body.ExpiresOn), mustAtoi(t, body.NotBefore); on-3600-nb != 300 {
		t.Errorf("expires_on - expires_in - not_before = %d, want 300", on-3600-nb)
	}
	claims := &Claims{}
	if _, _, err := jwt.NewParser().ParseUnverified(body.AccessToken, claims); err != nil || claims.Issuer != "test-issuer" {
		t.Errorf("issuer %q, err %v", claims.Issuer, err)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var aadTimestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

func TestAccessTokenErrors(t *testing.T) {
	const missingSub = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	const invalidSub = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
	tests := []struct {
		name    string
		id      string
		secret  string
		sub     string
		headers map[string]string
		status  int
		gateway string // gateway message, or "" for the identity shape
		err     string // identity error
		code    int
	}{
		{name: "missing subscription key", id: partnerID, secret: partnerSecret, status: 401, gateway: missingSub},
		{name: "unknown subscription key", id: partnerID, secret: partnerSecret, sub: "nope", status: 401, gateway: invalidSub},
		{name: "missing subscription key wins over missing client id", status: 401, gateway: missingSub},
		{name: "missing client_id", secret: partnerSecret, sub: partnerSub, status: 400, err: "invalid_request", code: codeMissingParameter},
		{name: "missing client_secret", id: partnerID, sub: partnerSub, status: 400, err: "invalid_request", code: codeMissingParameter},
		{name: "unknown client id", id: "no-such-client", secret: "x", sub: partnerSub, status: 400, err: "unauthorized_client", code: codeUnknownClient},
		{name: "wrong secret", id: partnerID, secret: "wrong", sub: partnerSub, status: 401, err: "invalid_client", code: codeBadSecret},
		{name: "another key set's secret", id: partnerID, secret: merchantSecret, sub: partnerSub, status: 401, err: "invalid_client", code: codeBadSecret},
		{name: "revoked key set", id: revokedID, secret: revokedSecret, sub: revokedSub, status: 401, err: "invalid_client", code: codeRevoked},
		{name: "management keys", id: mgmtID, secret: mgmtSecret, sub: partnerSub, status: 401, err: "invalid_client", code: codeBadCredentials},
		{name: "another key set's subscription key", id: partnerID, secret: partnerSecret, sub: merchantSub, status: 401, err: "invalid_client", code: codeBadCredentials},
		{name: "merchant serial number not digits", id: partnerID, secret: partnerSecret, sub: partnerSub, headers: map[string]string{"Merchant-Serial-Number": "12ab"}, status: 400, err: "invalid_request", code: codeInvalidParameter},
		{name: "merchant serial number too short", id: partnerID, secret: partnerSecret, sub: partnerSub, headers: map[string]string{"Merchant-Serial-Number": "123"}, status: 400, err: "invalid_request", code: codeInvalidParameter},
		{name: "merchant serial number too long", id: partnerID, secret: partnerSecret, sub: partnerSub, headers: map[string]string{"Merchant-Serial-Number": "12345678901"}, status: 400, err: "invalid_request", code: codeInvalidParameter},
		{name: "Vipps-System-Name too long", id: partnerID, secret: partnerSecret, sub: partnerSub, headers: map[string]string{"Vipps-System-Name": strings.Repeat("n", 31)}, status: 400, err: "invalid_request", code: codeInvalidParameter},
		{name: "Vipps-System-Version too long", id: partnerID, secret: partnerSecret, sub: partnerSub, headers: map[string]string{"Vipps-System-Version": strings.Repeat("1", 31)}, status: 400, err: "invalid_request", code: codeInvalidParameter},
		{name: "Vipps-System-Plugin-Name too long", id: partnerID, secret: partnerSecret, sub: partnerSub, headers: map[string]string{"Vipps-System-Plugin-Name": strings.Repeat("p", 31)}, status: 400, err: "invalid_request", code: codeInvalidParameter},
		{name: "Vipps-System-Plugin-Version too long", id: partnerID, secret: partnerSecret, sub: partnerSub, headers: map[string]string{"Vipps-System-Plugin-Version": strings.Repeat("v", 31)}, status: 400, err: "invalid_request", code: codeInvalidParameter},
		{name: "huge unknown client id", id: strings.Repeat("x", 5000), secret: "x", sub: partnerSub, status: 400, err: "unauthorized_client", code: codeUnknownClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			r := standardRequest(tt.id, tt.secret, tt.sub)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			rec := f.do(r)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.gateway != "" {
				var got GatewayError
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if got != (GatewayError{StatusCode: tt.status, Message: tt.gateway}) {
					t.Errorf("got %+v, want statusCode %d message %q", got, tt.status, tt.gateway)
				}
				return
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("field %s missing in %s", k, rec.Body)
				}
			}
			var got IdentityError
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Error != tt.err || len(got.ErrorCodes) != 1 || got.ErrorCodes[0] != tt.code {
				t.Errorf("error %q codes %v, want %q [%d]", got.Error, got.ErrorCodes, tt.err, tt.code)
			}
			if !strings.HasPrefix(got.ErrorDescription, "AADSTS"+strconv.Itoa(tt.code)+": ") {
				t.Errorf("description %q", got.ErrorDescription)
			}
			if !aadTimestampRE.MatchString(got.Timestamp) || got.Timestamp != "2026-03-01 12:00:00Z" {
				t.Errorf("timestamp %q", got.Timestamp)
			}
			if got.TraceID == "" || got.CorrelationID == "" {
				t.Errorf("trace %q correlation %q", got.TraceID, got.CorrelationID)
			}
			if strings.Contains(rec.Body.String(), tt.secret) && tt.secret != "" && tt.secret != "x" {
				t.Errorf("body echoes the secret: %s", rec.Body)
			}
		})
	}
}

func TestAccessTokenMethodNotAllowed(t *testing.T) {
	f := newFixture(t, Config{})
	rec := f.do(httptest.NewRequest(http.MethodGet, "/accesstoken/get", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET status %d, want 405", rec.Code)
	}
}

func TestMiamiTokenSuccess(t *testing.T) {
	formEncoded := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(mgmtID) + ":" + url.QueryEscape(mgmtSecret)))
	tests := []struct {
		name  string
		auth  string
		ctype string
		body  string
	}{
		{name: "raw credentials as in the guide", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(mgmtID+":"+mgmtSecret)), ctype: "application/x-www-form-urlencoded; charset=utf-8", body: "grant_type=client_credentials"},
		{name: "form-encoded credentials as OAuth libraries send", auth: "Basic " + formEncoded, ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials"},
		{name: "extra scope and system headers", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(mgmtID+":"+mgmtSecret)), ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&scope=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			r := httptest.NewRequest(http.MethodPost, "/miami/v1/token", strings.NewReader(tt.body))
			r.Header.Set("Authorization", tt.auth)
			r.Header.Set("Content-Type", tt.ctype)
			r.Header.Set("Vipps-System-Name", "acme")
			rec := f.do(r)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d; body %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json;charset=UTF-8" {
				t.Errorf("content type %q", got)
			}
			var raw map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			if raw["token_type"] != "Bearer" || raw["expires_in"] != float64(900) || len(raw) != 3 {
				t.Errorf("body %v, want Bearer and the number 900", raw)
			}
			claims := &Claims{}
			if _, _, err := jwt.NewParser().ParseUnverified(raw["access_token"].(string), claims); err != nil {
				t.Fatal(err)
			}
			now := f.clock.Now().Unix()
			if claims.Flow != FlowManagement || claims.Kind != vippsmgmt.KeyManagement || claims.PartnerID != "acme" || claims.Subject != mgmtID ||
				claims.ExpiresAt.Unix() != now+900 || claims.IssuedAt.Unix() != now {
				t.Errorf("claims %+v", claims)
			}
		})
	}
}

func TestMiamiTokenErrors(t *testing.T) {
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	form := "application/x-www-form-urlencoded; charset=utf-8"
	tests := []struct {
		name    string
		auth    string
		ctype   string
		body    string
		sub     string
		status  int
		err     string
		wwwAuth bool
	}{
		{name: "missing grant_type", auth: basic(mgmtID, mgmtSecret), ctype: form, body: "", status: 400, err: "invalid_client"},
		{name: "grant_type empty", auth: basic(mgmtID, mgmtSecret), ctype: form, body: "grant_type=", status: 400, err: "invalid_client"},
		{name: "another grant_type", auth: basic(mgmtID, mgmtSecret), ctype: form, body: "grant_type=password", status: 400, err: "unsupported_grant_type"},
		{name: "grant_type twice", auth: basic(mgmtID, mgmtSecret), ctype: form, body: "grant_type=client_credentials&grant_type=client_credentials", status: 400, err: "invalid_request"},
		{name: "json body", auth: basic(mgmtID, mgmtSecret), ctype: "application/json", body: `{"grant_type":"client_credentials"}`, status: 400, err: "invalid_request"},
		{name: "no content type", auth: basic(mgmtID, mgmtSecret), body: "grant_type=client_credentials", status: 400, err: "invalid_request"},
		{name: "broken form", auth: basic(mgmtID, mgmtSecret), ctype: form, body: "grant_type=%zz", status: 400, err: "invalid_request"},
		{name: "subscription key present", auth: basic(mgmtID, mgmtSecret), ctype: form, body: "grant_type=client_credentials", sub: partnerSub, status: 401, err: "invalid_client", wwwAuth: true},
		{name: "no Authorization", ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "Bearer instead of Basic", auth: "Bearer abc", ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "Basic not base64", auth: "Basic !!!", ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "Basic without colon", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(mgmtID)), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "empty secret", auth: basic(mgmtID, ""), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "wrong secret", auth: basic(mgmtID, "wrong"), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "unknown client", auth: basic("nobody", "x"), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "undecodable unknown client", auth: basic("%zz", "x%zz"), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "partner keys", auth: basic(partnerID, partnerSecret), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "merchant keys", auth: basic(merchantID, merchantSecret), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "revoked management keys", auth: basic(revokedMgmtID, revokedMgmtSecret), ctype: form, body: "grant_type=client_credentials", status: 401, err: "invalid_client", wwwAuth: true},
		{name: "body too large", auth: basic(mgmtID, mgmtSecret), ctype: form, body: "grant_type=client_credentials&pad=" + strings.Repeat("a", 20<<10), status: 413, err: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			r := httptest.NewRequest(http.MethodPost, "/miami/v1/token", strings.NewReader(tt.body))
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			if tt.sub != "" {
				r.Header.Set("Ocp-Apim-Subscription-Key", tt.sub)
			}
			rec := f.do(r)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			var raw map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			if raw["error"] != tt.err || raw["error_description"] == "" || len(raw) != 2 {
				t.Errorf("body %v, want error %q with a description", raw, tt.err)
			}
			if got := rec.Header().Get("WWW-Authenticate"); (got == `Basic realm="vippsmgmt"`) != tt.wwwAuth {
				t.Errorf("WWW-Authenticate %q, want it set: %v", got, tt.wwwAuth)
			}
		})
	}
}

func TestStoreFailureIsServerError(t *testing.T) {
	f := newFixture(t, Config{})
	f.store.setFail(errStoreDown)
	rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "connection refused") {
		t.Errorf("accesstoken/get: status %d body %s", rec.Code, rec.Body)
	}
	rec = f.do(miamiRequest(mgmtID, mgmtSecret, "grant_type=client_credentials"))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "connection refused") {
		t.Errorf("miami: status %d body %s", rec.Code, rec.Body)
	}
}

func TestRateLimit(t *testing.T) {
	t.Run("standard", func(t *testing.T) {
		f := newFixture(t, Config{})
		for i := range 60 {
			if rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub)); rec.Code != http.StatusOK {
				t.Fatalf("call %d: status %d", i+1, rec.Code)
			}
		}
		rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub))
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("61st call: status %d, want 429", rec.Code)
		}
		if got := rec.Header().Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q, want 1", got)
		}
		var body GatewayError
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.StatusCode != 429 || body.Message == "" {
			t.Errorf("body %s (%v)", rec.Body, err)
		}
		if rec := f.do(standardRequest(merchantID, merchantSecret, merchantSub)); rec.Code != http.StatusOK {
			t.Errorf("other client: status %d, want 200", rec.Code)
		}
		// The bucket refills at 10 per second on the injected clock.
		f.clock.Advance(100 * time.Millisecond)
		if rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub)); rec.Code != http.StatusOK {
			t.Errorf("after refill: status %d, want 200", rec.Code)
		}
	})
	t.Run("wrong credentials never spend the holder's allowance", func(t *testing.T) {
		// An attacker floods both endpoints naming the holders' client ids with wrong secrets,
		// from another address and from the holder's own (one office NAT).
		f := newFixture(t, Config{Rate: 1, Burst: 3})
		const attacker, holder = "203.0.113.9:4000", "198.51.100.7:5000"
		from := func(addr string, r *http.Request) *http.Request { r.RemoteAddr = addr; return r }
		for _, addr := range []string{attacker, holder} {
			for range 20 {
				f.do(from(addr, standardRequest(partnerID, "wrong", partnerSub)))
				f.do(from(addr, standardRequest("guess-me", "x", partnerSub)))
				f.do(from(addr, miamiRequest(mgmtID, "wrong", "grant_type=client_credentials")))
			}
		}
		// Past the address's budget, wrong credentials get 429 with the wait.
		rec := f.do(from(attacker, standardRequest(partnerID, "wrong", partnerSub)))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
			t.Errorf("wrong secret past the budget: status %d Retry-After %q, want 429 and 1", rec.Code, rec.Header().Get("Retry-After"))
		}
		rec = f.do(from(attacker, miamiRequest(mgmtID, "wrong", "grant_type=client_credentials")))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
			t.Errorf("miami, wrong secret past the budget: status %d Retry-After %q, want 429 and 1", rec.Code, rec.Header().Get("Retry-After"))
		}
		// The holders get their whole burst, from either address.
		for i := range 3 {
			addr := []string{attacker, holder}[i%2]
			if rec := f.do(from(addr, standardRequest(partnerID, partnerSecret, partnerSub))); rec.Code != http.StatusOK {
				t.Errorf("holder's token %d from %s: status %d %s", i+1, addr, rec.Code, rec.Body)
			}
			if rec := f.do(from(addr, miamiRequest(mgmtID, mgmtSecret, "grant_type=client_credentials"))); rec.Code != http.StatusOK {
				t.Errorf("holder's management token %d from %s: status %d %s", i+1, addr, rec.Code, rec.Body)
			}
		}
		// Their own bucket still limits them.
		if rec := f.do(from(holder, standardRequest(partnerID, partnerSecret, partnerSub))); rec.Code != http.StatusTooManyRequests {
			t.Errorf("holder past the client id's burst: status %d, want 429", rec.Code)
		}
	})
	t.Run("retry after rounds up to seconds", func(t *testing.T) {
		f := newFixture(t, Config{Rate: 0.25, Burst: 1})
		f.do(standardRequest(partnerID, partnerSecret, partnerSub))
		rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "4" {
			t.Errorf("status %d Retry-After %q, want 429 and 4", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
	t.Run("miami", func(t *testing.T) {
		f := newFixture(t, Config{})
		for i := range 60 {
			if rec := f.do(miamiRequest(mgmtID, mgmtSecret, "grant_type=client_credentials")); rec.Code != http.StatusOK {
				t.Fatalf("call %d: status %d", i+1, rec.Code)
			}
		}
		rec := f.do(miamiRequest(mgmtID, mgmtSecret, "grant_type=client_credentials"))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("61st call: status %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
		var body OAuthError
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
			t.Errorf("body %s (%v)", rec.Body, err)
		}
		if rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub)); rec.Code != http.StatusOK {
			t.Errorf("other client: status %d, want 200", rec.Code)
		}
	})
}

func TestLimiterSetIsBounded(t *testing.T) {
	s := newLimiterSet(1, 1)
	now := time.Now()
	for i := range maxLimiters + 10 {
		s.allow("id:"+strconv.Itoa(i), now)
	}
	if n := len(s.m); n != maxLimiters {
		t.Errorf("%d limiters, want %d", n, maxLimiters)
	}
	// The most recent id keeps its (empty) bucket.
	if ok, _ := s.allow("id:"+strconv.Itoa(maxLimiters+9), now); ok {
		t.Error("recent id got a fresh bucket")
	}
}

func TestJWKS(t *testing.T) {
	f := newFixture(t, Config{})
	rec := f.do(httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var set JWKS
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.Kty != "RSA" || k.Use != "sig" || k.Alg != "RS256" || k.Kid != f.svc.KeyID() {
		t.Errorf("key %+v", k)
	}
	pub, err := jwkPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&testKey.PublicKey) {
		t.Error("published key is not the signing key")
	}
	// A token verifies against the published key alone.
	tok := f.classicToken(t, partnerID, partnerSecret, partnerSub)
	_, err = jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(f.clock.Now), jwt.WithIssuer("vippsmgmt"))
	if err != nil {
		t.Errorf("token does not verify with the JWKS key: %v", err)
	}
	wantKid, _ := keyID(&testKey.PublicKey)
	if k.Kid != wantKid || len(k.Kid) != 22 {
		t.Errorf("kid %q, want %q (22 chars)", k.Kid, wantKid)
	}
}
