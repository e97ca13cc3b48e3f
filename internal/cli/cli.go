// Package cli holds what the repository's commands share: usage errors and the exit status they
// give, and flag sets that answer their errors and help on stderr.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// UsageError is a bad flag, argument or configuration: the command exits with status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef is a UsageError with a formatted message.
func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// ExitCode is the exit status of command after err, which it prints to stderr after the command's
// name (control characters escaped): 0 for nil, 2 for a UsageError, 1 for anything else. flag.ErrHelp is success, printing
// nothing: help was asked for, and the flag set has printed it.
func ExitCode(command string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %s\n", command, printable(err.Error()))
	if errors.As(err, new(UsageError)) {
		return 2
	}
	return 1
}

// printable escapes what a terminal would act on rather than show, as Go does in a quoted
// string: an error can carry a server's or a file's words, which may hold escape sequences.
// Newlines stay (a fixture file's problems are one per line), and so do tabs.
func printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r != '\n' && r != '\t' && !unicode.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NewFlags is the flag set of a command: parsing stops at an error, which it answers as help
// does, on stderr.
func NewFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// FlagError turns a flag parsing failure into the command's result: flag.ErrHelp after --help,
// which the command answers as success, or else a usage error.
func FlagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return UsageError{err}
}

// ParseNoArgs parses the flags of a command that takes no other arguments: flag.ErrHelp after
// --help (the usage is printed), a usage error for a bad flag or an argument.
func ParseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return FlagError(err)
	}
	if fs.NArg() > 0 {
		return Usagef("%s takes no arguments, got %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
