package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	check := func(err error, wantCode int, wantOutput string) {
		t.Helper()
		var out strings.Builder
		if code := ExitCode("cmd", err, &out); code != wantCode || out.String() != wantOutput {
			t.Errorf("ExitCode(%v) = %d, printed %q; want %d, %q", err, code, out.String(), wantCode, wantOutput)
		}
	}
	check(nil, 0, "")
	check(flag.ErrHelp, 0, "")
	check(fmt.Errorf("serve: %w", flag.ErrHelp), 0, "")
	check(Usagef("--db is required"), 2, "cmd: --db is required\n")
	check(fmt.Errorf("%w: dist needs --version", UsageError{Err: errors.New("usage")}), 2, "cmd: usage: dist needs --version\n")
	check(errors.New("connection refused"), 1, "cmd: connection refused\n")
	// A server's words reach the terminal as text, never as its escape sequences.
	check(errors.New("502: \x1b]0;owned\x07\x1b[2Jgone\r\nline two\tend \xff"), 1, "cmd: 502: \\x1b]0;owned\\a\\x1b[2Jgone\\r\nline two\tend \\xff\n")
}

func TestParseNoArgs(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		usage bool   // a UsageError
		want  string // its message; "" for no error
	}{
		{nil, false, ""},
		{[]string{"--quiet"}, false, ""},
		{[]string{"-h"}, false, flag.ErrHelp.Error()},
		{[]string{"--colour"}, true, "flag provided but not defined: -colour"},
		{[]string{"--quiet", "extra"}, true, `version takes no arguments, got "extra"`},
	} {
		fs := NewFlags("version", io.Discard)
		fs.Bool("quiet", false, "")
		err := ParseNoArgs(fs, tc.args)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want || errors.As(err, new(UsageError)) != tc.usage {
			t.Errorf("ParseNoArgs(%q) = %v; want %q, usage error %v", tc.args, err, tc.want, tc.usage)
		}
		if tc.want == flag.ErrHelp.Error() && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("ParseNoArgs(%q) = %v, want flag.ErrHelp", tc.args, err)
		}
	}
}
