package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/secretkey"
)

func writeKeyFile(t *testing.T, path string) {
	t.Helper()
	b := make([]byte, secretkey.KeySize)
	_, _ = rand.Read(b)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRotateSecretKey: after rotate-secret-key the server starts with the new key file, keeps its
// pepper (the demo keys still work) and refuses the old key file.
func TestRotateSecretKey(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "db")
	oldFile, newFile := filepath.Join(dir, "old.key"), filepath.Join(dir, "new.key")
	writeKeyFile(t, oldFile)
	writeKeyFile(t, newFile)
	token := strings.Repeat("t", 32)
	start := func(keyFile string) (*app.App, error) {
		k, err := secretkey.Load(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		return app.New(t.Context(), app.Config{DB: db, Demo: true, AdminToken: token, SecretKey: k})
	}
	a, err := start(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	if !a.DemoKeys {
		t.Fatal("demo keys do not work before the rotation")
	}
	a.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"rotate-secret-key", "--db", db, "--old-key-file", oldFile, "--new-key-file", newFile}, envOf(nil), &stdout, &stderr)
	if err != nil {
		t.Fatalf("rotate-secret-key: %v\n%s", err, stderr.String())
	}
	// The pepper is always stored; the signing key only once its generation in the background,
	// off the start path, has finished: so one or two settings.
	if !regexp.MustCompile(`^re-encrypted [12] secret settings from key [0-9a-f]+ to key [0-9a-f]+`).MatchString(stdout.String()) {
		t.Errorf("output: %q", stdout.String())
	}

	if _, err := start(oldFile); err == nil || !strings.Contains(err.Error(), "wrong key file") {
		t.Errorf("start with the old key after rotation: %v", err)
	}
	a, err = start(newFile)
	if err != nil {
		t.Fatalf("start with the new key: %v", err)
	}
	defer a.Close()
	if !a.DemoKeys {
		t.Error("demo keys stopped working: the pepper did not survive the rotation")
	}

	err = run(ctx, []string{"rotate-secret-key", "--db", db, "--old-key-file", oldFile}, envOf(nil), &stdout, &stderr)
	if exitCode(err, &bytes.Buffer{}) != 2 {
		t.Errorf("rotation without --new-key-file: %v", err)
	}
}
