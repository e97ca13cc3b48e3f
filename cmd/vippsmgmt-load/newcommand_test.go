package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestFlagsShowDefaults checks that newCommand fills in a configuration's defaults before the
// flags are declared, so that help shows them, for each kind of configuration.
func TestFlagsShowDefaults(t *testing.T) {
	for _, tc := range []struct {
		command string
		want    []string
	}{
		{"scale", []string{"-units int\n", "(default 100000)", "-prefill-workers int\n", "(default 16)", "-rounds int\n", "(default 2)"}},
		{"prefill", []string{"-prefill-workers int\n", "(default 16)", "-prefill duration\n", "(default 5s)"}},
		{"soak", []string{"-rate int\n", "(default 200)", "-partners int\n", "(default 10)"}},
		{"hostile", []string{"-idle-conns int\n", "(default 300)", "-slow-conns int\n", "(default 50)"}},
		{"startup", []string{"-runs int\n", "(default 5)"}},
	} {
		t.Run(tc.command, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{tc.command, "-h"}, &stdout, &stderr); code != 0 {
				t.Fatalf("%s -h: exit %d, want 0; stderr:\n%s", tc.command, code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("%s -h: help lacks %q:\n%s", tc.command, w, stderr.String())
				}
			}
		})
	}
}

// TestPrefillBounds checks that scale and prefill refuse the prefill flags' bounds alike, before
// building or starting anything.
func TestPrefillBounds(t *testing.T) {
	for _, command := range []string{"scale", "prefill"} {
		for _, args := range [][]string{
			{"--prefill-workers", "0"},
			{"--prefill-workers", "257"},
			{"--prefill", "61s"},
			{"--rounds", "11"},
		} {
			t.Run(command+" "+strings.Join(args, " "), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), append([]string{command, "--no-postgres"}, args...), &stdout, &stderr)
				if code != 2 {
					t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
				}
				want := "bounds: 1 <= --prefill-workers <= 256, --prefill <= 1m, --rounds <= 10"
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q, want it to contain %q", stderr.String(), want)
				}
			})
		}
	}
}
