// Package secretkey encrypts the secrets the server keeps in its database (the token signing key
// and the secret pepper) with a key the operator keeps outside it, so a copy of the database alone
// cannot mint tokens. Values are AES-256-GCM sealed and carry the id of the key that sealed them,
// so a wrong key is named as such and the key can be rotated.
package secretkey

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

// sealedPrefix starts every sealed value: "enc:v1:KEYID:BASE64(nonce|ciphertext)". The version
// leaves room for another scheme.
const sealedPrefix = "enc:v1:"

// Key seals and opens setting values.
type Key struct {
	id   string
	aead cipher.AEAD
}

// maxKeyFile bounds what Load reads: a key file holds 32 bytes, 44 in base64, and perhaps a
// newline or a few.
const maxKeyFile = 1 << 10

// Load reads a key file: 32 bytes, raw or in base64 (standard or URL alphabet, padded or not). A
// file larger than maxKeyFile, or an endless device such as /dev/urandom, is refused after
// reading that much.
func Load(path string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s holds more than %d bytes; a key file holds %d random bytes, raw or in base64 (head -c %d /dev/urandom | base64 > FILE)", path, maxKeyFile, KeySize, KeySize)
	}
	return Parse(data)
}

// Parse reads a key from the contents of a key file.
func Parse(data []byte) (*Key, error) {
	text := string(bytes.TrimSpace(data))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil && len(b) == KeySize {
			return newKey(b)
		}
	}
	if len(data) == KeySize {
		return newKey(data)
	}
	return nil, fmt.Errorf("must hold %d random bytes, raw or in base64 (head -c %d /dev/urandom | base64 > FILE)", KeySize, KeySize)
}

func newKey(raw []byte) (*Key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("vippsmgmt secret key id\x00"), raw...))
	return &Key{id: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// ID names the key without revealing it.
func (k *Key) ID() string { return k.id }

// Seal encrypts the value of the setting name; the name is authenticated with it, so a sealed
// value cannot be moved to another setting.
func (k *Key) Seal(name, value string) string {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(value), []byte(name))
	return sealedPrefix + k.id + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// Sealed reports whether a stored value is sealed, and by which key id.
func Sealed(stored string) (keyID string, ok bool) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok
}

// Open decrypts the sealed value of the setting name.
func (k *Key) Open(name, stored string) (string, error) {
	id, ok := Sealed(stored)
	if !ok {
		return "", fmt.Errorf("setting %s is not encrypted", name)
	}
	if id != k.id {
		return "", fmt.Errorf("setting %s is encrypted with key %s, the key file holds key %s: wrong key file", name, id, k.id)
	}
	b, err := base64.RawStdEncoding.DecodeString(stored[len(sealedPrefix)+len(id)+1:])
	if err != nil || len(b) < k.aead.NonceSize() {
		return "", fmt.Errorf("setting %s: encrypted value is damaged", name)
	}
	plain, err := k.aead.Open(nil, b[:k.aead.NonceSize()], b[k.aead.NonceSize():], []byte(name))
	if err != nil {
		return "", fmt.Errorf("setting %s does not decrypt with key %s: wrong key file or damaged value", name, k.id)
	}
	return string(plain), nil
}

// SettingStore is the part of vippsmgmt.Store holding settings.
type SettingStore interface {
	EnsureSetting(ctx context.Context, name, candidate string) (string, error)
	SetSetting(ctx context.Context, name, value string) error
	Setting(ctx context.Context, name string) (string, error)
}

// Store is a vippsmgmt.Store whose secret settings are sealed with Key. Without a key they are
// kept as they are, and a sealed one is refused.
type Store struct {
	vippsmgmt.Store
	Key     *Key     // nil: no encryption
	Secrets []string // the names of the settings sealed
}

func (s *Store) secret(name string) bool {
	for _, n := range s.Secrets {
		if n == name {
			return true
		}
	}
	return false
}

func (s *Store) open(name, stored string) (string, error) {
	if !s.secret(name) {
		return stored, nil
	}
	if s.Key == nil {
		if id, ok := Sealed(stored); ok {
			return "", fmt.Errorf("setting %s is encrypted with key %s: the secret key file is required", name, id)
		}
		return stored, nil
	}
	return s.Key.Open(name, stored)
}

func (s *Store) seal(name, value string) string {
	if s.Key == nil || !s.secret(name) {
		return value
	}
	return s.Key.Seal(name, value)
}

// Setting returns the value of name, decrypted.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	v, err := s.Store.Setting(ctx, name)
	if err != nil {
		return "", err
	}
	return s.open(name, v)
}

// EnsureSetting stores candidate, encrypted, unless name has a value, and returns the value.
func (s *Store) EnsureSetting(ctx context.Context, name, candidate string) (string, error) {
	v, err := s.Store.EnsureSetting(ctx, name, s.seal(name, candidate))
	if err != nil {
		return "", err
	}
	return s.open(name, v)
}

// SetSetting stores value under name, encrypted.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	return s.Store.SetSetting(ctx, name, s.seal(name, value))
}

// Prepare checks the secret settings at start: with a key, those still in plain text are
// encrypted (a database from before the key was given) and the others must open with it; without
// one, none may be encrypted. It returns how many it encrypted.
func Prepare(ctx context.Context, store SettingStore, key *Key, names []string) (int, error) {
	return rewrite(ctx, store, names, func(name, v string) (string, bool, error) {
		id, sealed := Sealed(v)
		switch {
		case key == nil && sealed:
			return "", false, fmt.Errorf("setting %s is encrypted with key %s: the secret key file is required", name, id)
		case key == nil:
			return "", false, nil
		case sealed:
			_, err := key.Open(name, v)
			return "", false, err
		default:
			return key.Seal(name, v), true, nil
		}
	})
}

// Rotate re-encrypts the secret settings from old to new. Values already under new are checked
// and kept, and plain-text ones are encrypted, so a rotation that stopped half-way can be run
// again with the same files.
func Rotate(ctx context.Context, store SettingStore, old, new *Key, names []string) (int, error) {
	if old == nil || new == nil {
		return 0, errors.New("both keys are required")
	}
	return rewrite(ctx, store, names, func(name, v string) (string, bool, error) {
		plain := v
		if id, sealed := Sealed(v); sealed && id == new.ID() {
			_, err := new.Open(name, v)
			return "", false, err
		} else if sealed {
			var err error
			if plain, err = old.Open(name, v); err != nil {
				return "", false, err
			}
		}
		return new.Seal(name, plain), true, nil
	})
}

// rewrite passes each stored setting of names to next, which answers the value to store in its
// place and whether to store it, and returns how many it stored. Settings never stored are
// skipped; the first error stops it.
func rewrite(ctx context.Context, store SettingStore, names []string, next func(name, v string) (string, bool, error)) (int, error) {
	written := 0
	for _, name := range names {
		v, err := store.Setting(ctx, name)
		if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
			continue
		} else if err != nil {
			return written, err
		}
		nv, write, err := next(name, v)
		if err != nil {
			return written, err
		}
		if !write {
			continue
		}
		if err := store.SetSetting(ctx, name, nv); err != nil {
			return written, err
		}
		written++
	}
	return written, nil
}
