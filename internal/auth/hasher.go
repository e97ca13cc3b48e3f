package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Hasher turns client secrets and subscription keys into the keyed hashes the store keeps.
//
// It is HMAC-SHA256 with a server-wide pepper, not a slow KDF: the secrets are random,
// server-generated and high-entropy, so there is nothing for a slow KDF to protect against
// guessing, while it would make the token endpoint CPU-bound (tens of milliseconds per request).
// The pepper keeps a stolen database alone from being enough to test candidate secrets. The hash
// is deterministic, so a subscription key can be looked up by its hash.
type Hasher struct {
	pepper []byte
}

// NewHasher returns a Hasher keyed with pepper.
func NewHasher(pepper []byte) *Hasher {
	return &Hasher{pepper: append([]byte(nil), pepper...)}
}

// Hash returns the keyed hash of secret (32 bytes).
func (h *Hasher) Hash(secret string) []byte {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Equal reports, in constant time, whether hash is the hash of secret. An empty hash never
// matches, so a key set without a subscription key cannot be matched by an empty header.
func (h *Hasher) Equal(hash []byte, secret string) bool {
	if len(hash) == 0 {
		return false
	}
	return hmac.Equal(hash, h.Hash(secret))
}

// SettingStore is the part of vippsmgmt.Store that LoadHasher needs.
type SettingStore interface {
	EnsureSetting(ctx context.Context, name, candidate string) (string, error)
}

// pepperSetting names the setting holding the pepper. Every process on one database must hash
// with the same pepper, so it lives in the database rather than in each process's configuration.
const pepperSetting = "secret_pepper"

// LoadHasher returns the Hasher keyed with the database's pepper, creating a random 256-bit pepper
// on first use. The setting's text itself is the pepper.
func LoadHasher(ctx context.Context, store SettingStore) (*Hasher, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate pepper: %w", err)
	}
	pepper, err := store.EnsureSetting(ctx, pepperSetting, base64.RawURLEncoding.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("load pepper: %w", err)
	}
	if pepper == "" {
		return nil, errors.New("load pepper: setting secret_pepper is empty")
	}
	return NewHasher([]byte(pepper)), nil
}

// SecretSettings names the settings a copy of the database must not reveal: the pepper and the
// token signing key. They are kept encrypted when the server has a secret key (internal/secretkey).
var SecretSettings = []string{pepperSetting, signingKeySetting}
