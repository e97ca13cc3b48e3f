package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/buildinfo"
)

// TestVersion: a test binary carries no release stamp, so it says devel; both spellings work and
// --json gives the same facts. The stamped release build is checked in internal/release.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout bytes.Buffer
		if err := run(context.Background(), args, envOf(nil), &stdout, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		out := stdout.String()
		for _, want := range []string{"vippsmgmt devel\n", "go        " + runtime.Version() + "\n",
			"contract  Vipps MobilePay Management API 2.0.9\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"version", "--json"}, envOf(nil), &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	var got buildinfo.Info
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got != buildinfo.Get() || got.Version != "devel" || got.Contract != "2.0.9" {
		t.Errorf("version --json = %+v", got)
	}
	err := run(context.Background(), []string{"version", "extra"}, envOf(nil), io.Discard, io.Discard)
	if code := exitCode(err, io.Discard); code != 2 {
		t.Errorf("version extra: exit %d, want 2", code)
	}
}

func TestHealthcheckRefusals(t *testing.T) {
	// A port nothing listens on: taken and released again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"healthcheck", "--url", "ftp://x/"}, 2},
		{[]string{"healthcheck", "--timeout", "0s"}, 2},
		{[]string{"healthcheck", "--url", "http://" + closed + "/readyz"}, 1},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), c.args, envOf(nil), io.Discard, &stderr)
		if code := exitCode(err, io.Discard); code != c.code {
			t.Errorf("%v: exit %d, want %d (%v)", c.args, code, c.code, err)
		}
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		"":               "localhost:8080",
		"0.0.0.0:8080":   "127.0.0.1:8080",
		"[::]:9000":      "[::1]:9000",
		":8081":          "localhost:8081",
		"127.0.0.1:5555": "127.0.0.1:5555",
		"example.test:1": "example.test:1",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
