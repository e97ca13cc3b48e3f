package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// signingKeySetting names the setting holding the PEM of the token signing key. Keeping it in the
// database lets several server processes on one PostgreSQL accept each other's tokens.
const signingKeySetting = "jwt_signing_key"

// minKeyBits is the smallest RSA key accepted for signing.
const minKeyBits = 2048

// signingKey is the active RSA key with its key id.
type signingKey struct {
	priv *rsa.PrivateKey
	kid  string
	jwks []byte // the key set publishing it
}

// keyGenerationTimeout bounds how long a request waits for a signing key being generated.
const keyGenerationTimeout = 30 * time.Second

// loadSigningKey returns the key from override when given, otherwise the database's key. When the
// database has none yet, it is generated later, in the background: RSA key generation takes a
// noticeable fraction of a second of CPU that start-up need not spend; it begins with
// Service.PrepareSigningKey (once the server serves) or the first request needing the key, and
// token requests wait for it.
func loadSigningKey(ctx context.Context, store KeyStore, override []byte) (*lazyKey, error) {
	if len(override) > 0 {
		priv, err := parseRSAPrivateKeyPEM(override)
		if err != nil {
			return nil, fmt.Errorf("signing key file: %w", err)
		}
		k, err := newSigningKey(priv)
		if err != nil {
			return nil, err
		}
		return readyKey(k), nil
	}
	stored, err := store.Setting(ctx, signingKeySetting)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		return &lazyKey{load: func(ctx context.Context) (*signingKey, error) { return generateSigningKey(ctx, store) }}, nil
	} else if err != nil {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	k, err := parseStoredKey(stored)
	if err != nil {
		return nil, err
	}
	return readyKey(k), nil
}

// generateSigningKey generates a key and stores it unless another process stored one first; either
// way it returns the stored key, so every process on the database signs with the same one.
func generateSigningKey(ctx context.Context, store KeyStore) (*signingKey, error) {
	candidate, err := generateKeyPEM()
	if err != nil {
		return nil, err
	}
	stored, err := store.EnsureSetting(ctx, signingKeySetting, candidate)
	if err != nil {
		return nil, fmt.Errorf("store signing key: %w", err)
	}
	return parseStoredKey(stored)
}

func parseStoredKey(stored string) (*signingKey, error) {
	priv, err := parseRSAPrivateKeyPEM([]byte(stored))
	if err != nil {
		return nil, fmt.Errorf("stored signing key: %w", err)
	}
	return newSigningKey(priv)
}

// lazyKey is the signing key, available at once or once its generation in the background ends. A
// failed generation is reported to the requests waiting for it, and the next request starts
// another.
type lazyKey struct {
	ready atomic.Pointer[signingKey] // set once the key is there

	mu   sync.Mutex
	done chan struct{} // closed when the current attempt ends
	err  error         // of the last attempt
	load func(context.Context) (*signingKey, error)
}

func readyKey(k *signingKey) *lazyKey {
	l := &lazyKey{}
	l.ready.Store(k)
	return l
}

// prepare begins the first attempt unless the key is there or an attempt began.
func (l *lazyKey) prepare() {
	if l.ready.Load() != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done == nil {
		l.start()
	}
}

// start begins an attempt; l.mu is held.
func (l *lazyKey) start() {
	done := make(chan struct{})
	l.done = done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), keyGenerationTimeout)
		defer cancel()
		k, err := l.load(ctx)
		l.mu.Lock()
		if err == nil {
			l.ready.Store(k)
		}
		l.err = err
		close(done)
		l.mu.Unlock()
	}()
}

// get returns the key, waiting for its generation at most until ctx ends.
func (l *lazyKey) get(ctx context.Context) (*signingKey, error) {
	if k := l.ready.Load(); k != nil {
		return k, nil
	}
	l.mu.Lock()
	if l.done == nil {
		l.start()
	}
	done := l.done
	l.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the signing key: %w", ctx.Err())
	}
	if k := l.ready.Load(); k != nil {
		return k, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.err
	if l.done == done {
		l.start() // the next request tries again
	}
	return nil, fmt.Errorf("signing key: %w", err)
}

func generateKeyPEM() (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, minKeyBits)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encode signing key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// parseRSAPrivateKeyPEM reads the first PEM block of data as a PKCS#1 or PKCS#8 RSA private key.
func parseRSAPrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var priv *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#1 key: %w", err)
		}
		priv = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#8 key is a %T, want RSA", k)
		}
		priv = rk
	default:
		return nil, fmt.Errorf("PEM block %q is not an RSA private key", block.Type)
	}
	if n := priv.N.BitLen(); n < minKeyBits {
		return nil, fmt.Errorf("RSA key has %d bits, want at least %d", n, minKeyBits)
	}
	return priv, nil
}

func newSigningKey(priv *rsa.PrivateKey) (*signingKey, error) {
	kid, err := keyID(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	priv.Precompute()
	k := &signingKey{priv: priv, kid: kid}
	if k.jwks, err = k.jwksJSON(); err != nil {
		return nil, err
	}
	return k, nil
}

// keyID is base64url of the first 16 bytes of the SHA-256 of the public key's PKIX DER: stable
// for a key, so every process derives the same kid from the shared PEM.
func keyID(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:16]), nil
}

// JWK is one RSA public key in JSON Web Key form (RFC 7517, 7518 section 6.3.1).
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// jwksJSON encodes the key set publishing the active key only: only it is accepted.
func (k *signingKey) jwksJSON() ([]byte, error) {
	pub := k.priv.PublicKey
	set := JWKS{Keys: []JWK{{
		Kty: "RSA",
		Use: "sig",
		Alg: "RS256",
		Kid: k.kid,
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
	return json.Marshal(set)
}

// EnsureSigningKey stores a signing key in the database unless it has one, as the first token
// request to a server on a fresh database would. Load tools call it so that no measured server
// process generates one.
func EnsureSigningKey(ctx context.Context, store KeyStore) error {
	if _, err := store.Setting(ctx, signingKeySetting); vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		return err
	}
	_, err := generateSigningKey(ctx, store)
	return err
}
