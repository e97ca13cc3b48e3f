package secretkey

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
)

func TestParseForms(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, KeySize)
	want, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{base64.StdEncoding.EncodeToString(raw) + "\n", base64.RawURLEncoding.EncodeToString(raw)} {
		k, err := Parse([]byte(form))
		if err != nil || k.ID() != want.ID() {
			t.Errorf("Parse(%q): %v", form, err)
		}
	}
	for _, bad := range []string{"", "short", base64.StdEncoding.EncodeToString(raw[:16])} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestSealOpen(t *testing.T) {
	a, _ := Parse(bytes.Repeat([]byte{1}, KeySize))
	b, _ := Parse(bytes.Repeat([]byte{2}, KeySize))
	sealed := a.Seal("secret_pepper", "pepper value")
	if strings.Contains(sealed, "pepper value") {
		t.Fatal("sealed value holds the plain text")
	}
	if got, err := a.Open("secret_pepper", sealed); err != nil || got != "pepper value" {
		t.Fatalf("Open: %q %v", got, err)
	}
	if _, err := a.Open("jwt_signing_key", sealed); err == nil {
		t.Error("a value opened under another setting's name")
	}
	if _, err := b.Open("secret_pepper", sealed); err == nil || !strings.Contains(err.Error(), "wrong key file") {
		t.Errorf("wrong key: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := a.Open("secret_pepper", tampered); err == nil {
		t.Error("a tampered value opened")
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t, clock.New())
	old, _ := Parse(bytes.Repeat([]byte{1}, KeySize))
	next, _ := Parse(bytes.Repeat([]byte{2}, KeySize))
	names := []string{"a", "b", "missing"}
	must(t, st.SetSetting(ctx, "a", old.Seal("a", "value a")))
	must(t, st.SetSetting(ctx, "b", "value b")) // never encrypted
	if n, err := Rotate(ctx, st, old, next, names); err != nil || n != 2 {
		t.Fatalf("Rotate: %d %v", n, err)
	}
	for name, want := range map[string]string{"a": "value a", "b": "value b"} {
		v, _ := st.Setting(ctx, name)
		if got, err := next.Open(name, v); err != nil || got != want {
			t.Errorf("%s after rotation: %q %v", name, got, err)
		}
		if _, err := old.Open(name, v); err == nil {
			t.Errorf("%s still opens with the old key", name)
		}
	}
	// Running it again changes nothing; the old key now fails the check at start.
	if n, err := Rotate(ctx, st, old, next, names); err != nil || n != 0 {
		t.Errorf("second Rotate: %d %v", n, err)
	}
	if _, err := Prepare(ctx, st, old, names); err == nil {
		t.Error("start with the old key after rotation accepted")
	}
	if _, err := Prepare(ctx, st, next, names); err != nil {
		t.Errorf("start with the new key: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoadReadsABoundedFile: a path to a large file or an endless device (--secret-key-file
// /dev/urandom, taken for "32 random bytes") is refused after reading a little of it, rather than
// read whole into memory.
func TestLoadReadsABoundedFile(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.key")
	if err := os.WriteFile(big, bytes.Repeat([]byte("A"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	paths := []string{big}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero")
	}
	for _, path := range paths {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("Load(%s): %v, want a refusal of its size", path, err)
		}
	}
}
