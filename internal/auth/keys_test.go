package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

func TestHasher(t *testing.T) {
	h := NewHasher([]byte("pepper"))
	hash := h.Hash("secret")
	if len(hash) != 32 {
		t.Fatalf("hash length %d", len(hash))
	}
	if !h.Equal(hash, "secret") {
		t.Error("Equal refuses the secret")
	}
	if h.Equal(hash, "secreT") || h.Equal(hash, "") || h.Equal(nil, "secret") || h.Equal([]byte{}, "") {
		t.Error("Equal accepts a wrong secret")
	}
	if bytes.Equal(NewHasher([]byte("other")).Hash("secret"), hash) {
		t.Error("the pepper does not change the hash")
	}
	if !bytes.Equal(h.Hash("secret"), hash) {
		t.Error("hash is not deterministic")
	}
}

func TestLoadHasher(t *testing.T) {
	st := newMemStore()
	h1, err := LoadHasher(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := LoadHasher(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if !h2.Equal(h1.Hash("k"), "k") {
		t.Error("two loads hash differently")
	}
	if p := st.settings[pepperSetting]; len(p) < 40 {
		t.Errorf("pepper %d characters, want a 256-bit random value", len(p))
	}
	st.settings[pepperSetting] = ""
	if _, err := LoadHasher(context.Background(), st); err == nil {
		t.Error("empty pepper accepted")
	}
}

func TestSigningKeyStoredAndShared(t *testing.T) {
	st := newMemStore()
	clk := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	h := NewHasher([]byte("p"))
	a, err := New(context.Background(), st, clk, h, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() == "" { // waits for the key generated in the background
		t.Fatal("no signing key")
	}
	st.mu.Lock()
	stored := st.settings[signingKeySetting]
	st.mu.Unlock()
	if _, err := parseRSAPrivateKeyPEM([]byte(stored)); err != nil {
		t.Fatalf("stored key: %v", err)
	}
	b, err := New(context.Background(), st, clk, h, Config{})
	if err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	again := st.settings[signingKeySetting]
	st.mu.Unlock()
	if a.KeyID() != b.KeyID() || again != stored {
		t.Fatal("second process made another key")
	}
	// A token from one process is accepted by the other.
	sub := "sub"
	st.keys["p-1"] = &vippsmgmt.APIKey{ClientID: "p-1", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"), SecretHash: h.Hash("s"), SubscriptionKeyHash: h.Hash(sub)}
	tok, err := a.IssueClassic(st.keys["p-1"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(managementRequest("Bearer "+tok.AccessToken, sub)); err != nil {
		t.Errorf("other process refused the token: %v", err)
	}
}

func TestSigningKeyOverride(t *testing.T) {
	testKeys(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	smallKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name    string
		pem     []byte
		wantKey *rsa.PrivateKey
	}{
		{"PKCS#1", testKeyPKCS1PEM, testKey},
		{"PKCS#8", otherKeyPKCS8PEM, otherKey},
		{"not PEM", []byte("hello"), nil},
		{"public key", testPublicKeyPEM, nil},
		{"ECDSA in PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), nil},
		{"RSA-1024", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(smallKey)}), nil},
		{"corrupt PKCS#1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("junk")}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore()
			st.settings[signingKeySetting] = testKeyPEM
			svc, err := New(context.Background(), st, storetest.NewClock(time.Now()), NewHasher([]byte("p")), Config{SigningKeyPEM: tt.pem})
			if tt.wantKey == nil {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k, err := svc.signingKey(context.Background()); err != nil || !k.priv.Equal(tt.wantKey) {
				t.Error("override not used")
			}
			// Only the active key is published.
			f := &fixture{svc: svc, mux: http.NewServeMux()}
			svc.Routes(f.mux)
			var set JWKS
			rec := f.do(httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
			if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
				t.Fatal(err)
			}
			wantKid, _ := keyID(&tt.wantKey.PublicKey)
			if len(set.Keys) != 1 || set.Keys[0].Kid != wantKid {
				t.Errorf("JWKS %+v, want only kid %s", set, wantKid)
			}
		})
	}
}

// TestSigningKeyGeneratedOffTheStartPath: on an empty database New returns before the key exists;
// two processes starting together end up with the one key the database kept, and a failed
// generation fails only the requests that waited for it.
func TestSigningKeyGeneratedOffTheStartPath(t *testing.T) {
	st := newMemStore()
	st.ensureFailures = 1
	clk := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	h := NewHasher([]byte("p"))
	a, err := New(context.Background(), st, clk, h, Config{})
	if err != nil {
		t.Fatal(err)
	}
	st.keys["p-1"] = &vippsmgmt.APIKey{ClientID: "p-1", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"), SecretHash: h.Hash("s")}
	if _, err := a.IssueClassic(st.keys["p-1"]); err == nil {
		t.Fatal("a token was signed although the key could not be stored")
	}
	b, err := New(context.Background(), st, clk, h, Config{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.IssueClassic(st.keys["p-1"]) // the retry
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() == "" || a.KeyID() != b.KeyID() {
		t.Fatalf("two processes sign with different keys: %q and %q", a.KeyID(), b.KeyID())
	}
	if _, err := b.verify(tok.AccessToken, b.clock.Now()); err != nil {
		t.Errorf("the other process refused the token: %v", err)
	}
}

func TestStoredKeyCorrupt(t *testing.T) {
	st := newMemStore()
	st.settings[signingKeySetting] = "not a key"
	if _, err := New(context.Background(), st, storetest.NewClock(time.Time{}), NewHasher(nil), Config{}); err == nil {
		t.Error("corrupt stored key accepted")
	}
}

func TestTTLCacheIsBounded(t *testing.T) {
	c := newTTLCache[int](100)
	now := time.Now()
	for i := range 1000 {
		c.put(strconv.Itoa(i), i, now.Add(time.Hour), now)
	}
	if n := len(c.m); n > 100 {
		t.Errorf("%d entries, want at most 100", n)
	}
	c.put("x", 1, now.Add(time.Second), now)
	if _, ok := c.get("x", now.Add(time.Second)); ok {
		t.Error("expired entry served")
	}
	if v, ok := c.get("x", now); !ok || v != 1 {
		t.Error("fresh entry missing")
	}
}
