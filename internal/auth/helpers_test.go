package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// memStore is a unit-level KeyStore.
type memStore struct {
	mu       sync.Mutex
	keys     map[string]*vippsmgmt.APIKey
	units    map[string]*vippsmgmt.SalesUnit
	settings map[string]string
	fail     error // returned by every lookup when set
	// ensureFailures is how many EnsureSetting calls fail before they work again.
	ensureFailures int
	lookups        atomic.Int64
}

func newMemStore() *memStore {
	return &memStore{keys: map[string]*vippsmgmt.APIKey{}, units: map[string]*vippsmgmt.SalesUnit{}, settings: map[string]string{}}
}

// find returns a copy of rows[key], so that callers cannot change the store: ENOTFOUND saying
// missing if there is none, or m.fail when set.
func find[T any](m *memStore, rows map[string]*T, key, missing string) (*T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	r, ok := rows[key]
	if !ok {
		return nil, vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "%s", missing)
	}
	return new(*r), nil
}

func (m *memStore) FindAPIKeyByClientID(_ context.Context, id string) (*vippsmgmt.APIKey, error) {
	m.lookups.Add(1)
	return find(m, m.keys, id, "unknown client id")
}

func (m *memStore) FindAPIKeyBySubscriptionKeyHash(_ context.Context, h []byte) (*vippsmgmt.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	for _, k := range m.keys {
		if len(k.SubscriptionKeyHash) > 0 && string(k.SubscriptionKeyHash) == string(h) {
			c := *k
			return &c, nil
		}
	}
	return nil, vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "unknown subscription key")
}

func (m *memStore) FindSalesUnitByMSN(_ context.Context, msn string) (*vippsmgmt.SalesUnit, error) {
	return find(m, m.units, msn, "unknown sales unit")
}

func (m *memStore) Setting(_ context.Context, name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.settings[name]
	if !ok {
		return "", vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "unset")
	}
	return v, nil
}

func (m *memStore) EnsureSetting(_ context.Context, name, candidate string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ensureFailures > 0 {
		m.ensureFailures--
		return "", errors.New("database unavailable")
	}
	if v, ok := m.settings[name]; ok {
		return v, nil
	}
	m.settings[name] = candidate
	return candidate, nil
}

func (m *memStore) revoke(id string) {
	m.mu.Lock()
	m.keys[id].Revoked = true
	m.mu.Unlock()
}

func (m *memStore) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

// Test key sets.
const (
	partnerID, partnerSecret, partnerSub    = "partner-1", "partner-secret-Aa1+/=", "partner-sub-key"
	merchantID, merchantSecret, merchantSub = "merchant-1", "merchant-secret", "merchant-sub-key"
	mgmtID, mgmtSecret                      = "mgmt-1", "mgmt+secret/x=="
	revokedID, revokedSecret, revokedSub    = "revoked-1", "revoked-secret", "revoked-sub-key"
	revokedMgmtID, revokedMgmtSecret        = "revoked-mgmt-1", "revoked-mgmt-secret"
	merchantMSN                             = "123456"
)

var merchantBI = vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "987654317"}

// Keys generated once per test binary: RSA generation is slow under -race.
var (
	keysOnce            sync.Once
	testKeyPEM          string // PKCS#8
	testKey, otherKey   *rsa.PrivateKey
	testKeyPKCS1PEM     []byte
	otherKeyPKCS8PEM    []byte
	testPublicKeyPEM    []byte
	generateKeysFailure error
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			generateKeysFailure = err
			return
		}
		if otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			generateKeysFailure = err
			return
		}
		der, _ := x509.MarshalPKCS8PrivateKey(testKey)
		testKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		testKeyPKCS1PEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey)})
		oder, _ := x509.MarshalPKCS8PrivateKey(otherKey)
		otherKeyPKCS8PEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: oder})
		pder, _ := x509.MarshalPKIXPublicKey(&testKey.PublicKey)
		testPublicKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})
	})
	if generateKeysFailure != nil {
		t.Fatal(generateKeysFailure)
	}
}

type fixture struct {
	store  *memStore
	clock  *storetest.Clock
	hasher *Hasher
	svc    *Service
	mux    *http.ServeMux
}

func ptr(s string) *string { return &s }

// newFixture returns a service over a store holding the test key sets, with the shared test
// signing key already stored.
func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	testKeys(t)
	st := newMemStore()
	st.settings[signingKeySetting] = testKeyPEM
	h := NewHasher([]byte("test-pepper"))
	add := func(k *vippsmgmt.APIKey, secret, sub string) {
		k.SecretHash = h.Hash(secret)
		if sub != "" {
			k.SubscriptionKeyHash = h.Hash(sub)
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("fixture key %s: %v", k.ClientID, err)
		}
		st.keys[k.ClientID] = k
	}
	add(&vippsmgmt.APIKey{ClientID: partnerID, Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme")}, partnerSecret, partnerSub)
	add(&vippsmgmt.APIKey{ClientID: merchantID, Kind: vippsmgmt.KeyMerchant, MSN: ptr(merchantMSN)}, merchantSecret, merchantSub)
	add(&vippsmgmt.APIKey{ClientID: mgmtID, Kind: vippsmgmt.KeyManagement, PartnerID: ptr("acme")}, mgmtSecret, "")
	add(&vippsmgmt.APIKey{ClientID: revokedID, Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"), Revoked: true}, revokedSecret, revokedSub)
	add(&vippsmgmt.APIKey{ClientID: revokedMgmtID, Kind: vippsmgmt.KeyManagement, PartnerID: ptr("acme"), Revoked: true}, revokedMgmtSecret, "")
	st.units[merchantMSN] = &vippsmgmt.SalesUnit{MSN: merchantMSN, Name: "Shop", Status: vippsmgmt.SalesUnitActive, Merchant: merchantBI, MerchantStatus: vippsmgmt.MerchantActive}

	clk := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	svc, err := New(context.Background(), st, clk, h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	return &fixture{store: st, clock: clk, hasher: h, svc: svc, mux: mux}
}

// do runs req through the service's routes.
func (f *fixture) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

// answer serves req, failing t on a 5xx answer, which no input may cause.
func (f *fixture) answer(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := f.do(req)
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec
}

func standardRequest(clientID, secret, sub string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/accesstoken/get", nil)
	if clientID != "" {
		r.Header.Set("client_id", clientID)
	}
	if secret != "" {
		r.Header.Set("client_secret", secret)
	}
	if sub != "" {
		r.Header.Set("Ocp-Apim-Subscription-Key", sub)
	}
	return r
}

func miamiRequest(clientID, secret, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/miami/v1/token", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if clientID != "" || secret != "" {
		r.SetBasicAuth(clientID, secret)
	}
	return r
}

// classicToken fetches a token through the real endpoint.
func (f *fixture) classicToken(t testing.TB, clientID, secret, sub string) string {
	t.Helper()
	return okBody[AuthorizationTokenResponse](t, f.do(standardRequest(clientID, secret, sub))).AccessToken
}

func (f *fixture) managementToken(t testing.TB) string {
	t.Helper()
	return okBody[TokenResponse](t, f.do(miamiRequest(mgmtID, mgmtSecret, "grant_type=client_credentials"))).AccessToken
}

// okBody decodes the body of an answer that must be a 200.
func okBody[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var body T
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	return body
}

var errStoreDown = errors.New("connection refused")
