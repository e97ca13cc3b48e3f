package main

import (
	"context"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

// TestHelpAndUsage: help of the tool and of each command prints its usage and exits 0 with no
// error line; a bad flag, an argument or an unknown command exits 2 naming what was wrong. None
// of these cases builds anything.
func TestHelpAndUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		contains string // in stdout and stderr together
	}{
		{[]string{"-h"}, 0, "usage: vippsmgmt-release <command>"},
		{[]string{"help"}, 0, "usage: vippsmgmt-release <command>"},
		{[]string{"dist", "-h"}, 0, "Usage of dist"},
		{[]string{"image", "--help"}, 0, "Usage of image"},
		{[]string{"startup", "-h"}, 0, "Usage of startup"},
		{nil, 2, "no command given"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"dist", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"dist", "extra"}, 2, `dist takes no arguments, got "extra"`},
		{[]string{"dist"}, 2, "dist needs --version"},
		{[]string{"startup", "-n", "0", "--", "true"}, 2, "startup [-n N]"},
	} {
		var stdout, stderr strings.Builder
		code := cli.ExitCode("vippsmgmt-release", run(context.Background(), tc.args, &stdout, &stderr), &stderr)
		out := stdout.String() + stderr.String()
		if code != tc.code || !strings.Contains(out, tc.contains) {
			t.Errorf("%q: exit %d, output %q; want exit %d containing %q", tc.args, code, out, tc.code, tc.contains)
		}
		if code == 0 && strings.Contains(stderr.String(), "vippsmgmt-release:") {
			t.Errorf("%q: help printed an error line: %q", tc.args, stderr.String())
		}
	}
}
