package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runLoad runs the command as main would and returns its exit status and what it wrote to stderr.
func runLoad(args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stderr.String()
}

// TestSharedFlagBounds checks that the commands sharing a group of flags (prefill's, the
// callgrind count's) refuse its bounds alike, before building or starting anything.
func TestSharedFlagBounds(t *testing.T) {
	for _, group := range []struct {
		commands []string
		want     string
		args     [][]string
	}{
		{[]string{"scale", "prefill"}, "bounds: 1 <= --prefill-workers <= 256, --prefill <= 1m, --rounds <= 10", [][]string{
			{"--prefill-workers", "0"},
			{"--prefill-workers", "257"},
			{"--prefill", "61s"},
			{"--rounds", "11"},
		}},
		{[]string{"scale", "instructions"}, "bounds: 0 <= --instr-requests <= 1000000, 1 <= --instr-conns <= 64", [][]string{
			{"--instr-requests", "-1"},
			{"--instr-requests", "1000001"},
			{"--instr-conns", "0"},
			{"--instr-conns", "65"},
		}},
	} {
		for _, command := range group.commands {
			for _, args := range group.args {
				t.Run(command+" "+strings.Join(args, " "), func(t *testing.T) {
					code, stderr := runLoad(append([]string{command, "--no-postgres"}, args...)...)
					if code != 2 {
						t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
					}
					if !strings.Contains(stderr, group.want) {
						t.Errorf("stderr %q, want it to contain %q", stderr, group.want)
					}
				})
			}
		}
	}
}

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
			code, stderr := runLoad(tc.command, "-h")
			if code != 0 {
				t.Fatalf("%s -h: exit %d, want 0; stderr:\n%s", tc.command, code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s -h: help lacks %q:\n%s", tc.command, w, stderr)
				}
			}
		})
	}
}
