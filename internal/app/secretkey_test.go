package app_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/secretkey"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

func testKey(t *testing.T, n byte) *secretkey.Key {
	t.Helper()
	k, err := secretkey.Parse(bytes.Repeat([]byte{n}, secretkey.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var prodToken = strings.Repeat("p", 32)

// mintToken asks the server for a token with the demo keys and returns the status.
func mintToken(t *testing.T, a *app.App) int {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	return testserver.RequestToken(t, srv.URL, fixtures.DemoPartnerKeys).Status
}

// secretsAfterAToken starts a server with cfg, mints a token with it (which must work: what names
// the case), stops it and returns the pepper and signing key the database then holds.
func secretsAfterAToken(t *testing.T, what string, cfg app.Config) (pepper, signingKey string) {
	t.Helper()
	a, err := app.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := mintToken(t, a); got != 200 {
		t.Fatalf("token %s: %d", what, got)
	}
	a.Close()
	return settings(t, cfg.DB)
}

func settings(t *testing.T, dsn string) (pepper, signingKey string) {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), dsn, clock.New())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if pepper, err = st.Setting(t.Context(), "secret_pepper"); err != nil {
		t.Fatal(err)
	}
	if signingKey, err = st.Setting(t.Context(), "jwt_signing_key"); err != nil {
		t.Fatal(err)
	}
	return pepper, signingKey
}

// TestSecretsEncryptedAtRest: with a secret key the database holds neither a PEM signing key nor
// the pepper; without the key file a copy of it does not start, so it cannot mint tokens.
func TestSecretsEncryptedAtRest(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	pepper, signing := secretsAfterAToken(t, "with the key", app.Config{DB: dsn, Demo: true, AdminToken: prodToken, SecretKey: testKey(t, 1)})
	if block, _ := pem.Decode([]byte(signing)); block != nil || strings.Contains(signing, "PRIVATE KEY") {
		t.Error("the stored signing key is a PEM key")
	}
	for name, v := range map[string]string{"pepper": pepper, "signing key": signing} {
		if _, ok := secretkey.Sealed(v); !ok {
			t.Errorf("the stored %s is not encrypted: %.20q", name, v)
		}
	}

	// The copy in the sandbox without a key, and with a wrong key: refused at start.
	_, err := app.New(t.Context(), app.Config{DB: dsn, AdminToken: prodToken, Sandbox: true})
	var ce *app.ConfigError
	if !errors.As(err, &ce) || ce.Setting != "secret-key-file" || !strings.Contains(err.Error(), "required") {
		t.Errorf("start without the key: %v", err)
	}
	_, err = app.New(t.Context(), app.Config{DB: dsn, AdminToken: prodToken, SecretKey: testKey(t, 2)})
	if !errors.As(err, &ce) || ce.Setting != "secret-key-file" || !strings.Contains(err.Error(), "wrong key file") {
		t.Errorf("start with a wrong key: %v", err)
	}
	_, err = app.New(t.Context(), app.Config{DB: dsn, AdminToken: prodToken})
	if !errors.As(err, &ce) || ce.Setting != "secret-key-file" {
		t.Errorf("start outside the sandbox without a key: %v", err)
	}
}

// TestPlainSecretsEncryptedOnFirstStartWithAKey: a database from a sandbox without a key keeps
// working once a key is given; its secrets are encrypted then, and tokens of before stay valid.
func TestPlainSecretsEncryptedOnFirstStartWithAKey(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	plainPepper, plainSigning := secretsAfterAToken(t, "without a key", app.Config{DB: dsn, Demo: true, AdminToken: prodToken, Sandbox: true})
	if block, _ := pem.Decode([]byte(plainSigning)); block == nil {
		t.Fatal("without a key the signing key is expected in plain text")
	}
	pepper, signing := secretsAfterAToken(t, "after encrypting", app.Config{DB: dsn, AdminToken: prodToken, SecretKey: testKey(t, 1)})
	k := testKey(t, 1)
	if p, err := k.Open("secret_pepper", pepper); err != nil || p != plainPepper {
		t.Errorf("pepper after the first start with a key: %v", err)
	}
	if s, err := k.Open("jwt_signing_key", signing); err != nil || s != plainSigning {
		t.Errorf("signing key after the first start with a key: %v", err)
	}
}

// TestSandboxWithoutSecretKeySaysSo: in the sandbox a server without a key starts and says once
// that its secrets are stored in plain text.
func TestSandboxWithoutSecretKeySaysSo(t *testing.T) {
	var logs bytes.Buffer
	a, err := app.New(t.Context(), app.Config{DB: "sqlite:" + filepath.Join(t.TempDir(), "db"), AdminToken: prodToken, Sandbox: true,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if n := strings.Count(logs.String(), "no --secret-key-file"); n != 1 {
		t.Errorf("%d start-up lines about the missing secret key, want 1:\n%s", n, logs.String())
	}
}
