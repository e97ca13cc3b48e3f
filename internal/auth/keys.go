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
}

// loadSigningKey returns the key from override when given, otherwise the database's key, which is
// generated and stored on first start.
func loadSigningKey(ctx context.Context, store KeyStore, override []byte) (*signingKey, error) {
	if len(override) > 0 {
		priv, err := parseRSAPrivateKeyPEM(override)
		if err != nil {
			return nil, fmt.Errorf("signing key file: %w", err)
		}
		return newSigningKey(priv)
	}
	stored, err := store.Setting(ctx, signingKeySetting)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		// Generated only when missing: it takes a noticeable fraction of a second.
		candidate, gerr := generateKeyPEM()
		if gerr != nil {
			return nil, gerr
		}
		// EnsureSetting settles a race between processes starting on an empty database.
		stored, err = store.EnsureSetting(ctx, signingKeySetting, candidate)
	}
	if err != nil {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	priv, err := parseRSAPrivateKeyPEM([]byte(stored))
	if err != nil {
		return nil, fmt.Errorf("stored signing key: %w", err)
	}
	return newSigningKey(priv)
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
	return &signingKey{priv: priv, kid: kid}, nil
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
