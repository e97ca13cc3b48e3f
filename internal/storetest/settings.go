package storetest

import (
	"fmt"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

func testPing(t *testing.T, e *env) {
	must(t, e.s.Ping(e.ctx))
}

func testSettings(t *testing.T, e *env) {
	_, err := e.s.Setting(e.ctx, "signing-key")
	wantCode(t, err, vippsmgmt.ENOTFOUND)

	v, err := e.s.EnsureSetting(e.ctx, "signing-key", "first")
	must(t, err)
	if v != "first" {
		t.Errorf("EnsureSetting on empty: got %q, want first", v)
	}
	v, err = e.s.EnsureSetting(e.ctx, "signing-key", "second")
	must(t, err)
	if v != "first" {
		t.Errorf("EnsureSetting again: got %q, want first", v)
	}
	must(t, e.s.SetSetting(e.ctx, "signing-key", "third"))
	must(t, e.s.SetSetting(e.ctx, "other", "x"))
	if v, err := e.s.Setting(e.ctx, "signing-key"); err != nil || v != "third" {
		t.Errorf("Setting: got %q, %v, want third", v, err)
	}

	swaps := []struct {
		name, old, value string
		want             bool
	}{
		{"signing-key", "second", "fourth", false}, // no longer the stored value
		{"signing-key", "", "fourth", false},       // set, so not unset
		{"signing-key", "third", "fourth", true},
		{"unset", "x", "y", false},
		{"unset", "", "y", true},
	}
	for _, sw := range swaps {
		ok, err := e.s.SwapSetting(e.ctx, sw.name, sw.old, sw.value)
		must(t, err)
		if ok != sw.want {
			t.Errorf("SwapSetting(%s, %q, %q) = %v, want %v", sw.name, sw.old, sw.value, ok, sw.want)
		}
	}
	for name, want := range map[string]string{"signing-key": "fourth", "unset": "y"} {
		if v, err := e.s.Setting(e.ctx, name); err != nil || v != want {
			t.Errorf("after swaps %s = %q, %v, want %q", name, v, err, want)
		}
	}
}

func testSettingsConcurrent(t *testing.T, e *env) {
	const n = 10
	got := make([]string, n)
	race(n, func(i int) {
		v, err := e.s.EnsureSetting(e.ctx, "instance-id", fmt.Sprintf("candidate-%d", i))
		if err != nil {
			t.Error(err)
		}
		got[i] = v
	})
	for i := range got {
		if got[i] != got[0] || got[i] == "" {
			t.Fatalf("racing EnsureSetting calls got different values: %q", got)
		}
	}
}
