package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticate measures one Management API request's authentication with warm caches:
// token lookup, key set lookup and the subscription key comparison.
func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b, Config{})
	r, _ := f.merchantListRequest(b)
	if _, err := f.svc.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateCold is the same without the token cache: the RSA verification a token
// costs on its first use.
func BenchmarkAuthenticateCold(b *testing.B) {
	f := newFixture(b, Config{})
	r, tok := f.merchantListRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		f.svc.tokens.delete(tok)
		if _, err := f.svc.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

// merchantListRequest is GET /management/v1/sales-units with a new classic token of the merchant
// keys; it also answers the token.
func (f *fixture) merchantListRequest(b *testing.B) (*http.Request, string) {
	tok := f.classicToken(b, merchantID, merchantSecret, merchantSub)
	r := httptest.NewRequest(http.MethodGet, "/management/v1/sales-units", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Ocp-Apim-Subscription-Key", merchantSub)
	return r, tok
}

// BenchmarkIssueClassicToken measures signing one /accesstoken/get token.
func BenchmarkIssueClassicToken(b *testing.B) {
	f := newFixture(b, Config{})
	key := f.store.keys[partnerID]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.IssueClassic(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessTokenEndpoint measures a whole POST /accesstoken/get through the handler.
func BenchmarkAccessTokenEndpoint(b *testing.B) {
	f := newFixture(b, Config{Rate: 1e9, Burst: 1 << 30})
	b.ReportAllocs()
	for b.Loop() {
		if rec := f.do(standardRequest(partnerID, partnerSecret, partnerSub)); rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
