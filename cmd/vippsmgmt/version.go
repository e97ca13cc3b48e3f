package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/vippsmgmt/vippsmgmt/internal/buildinfo"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

// runVersion prints which build this is: `vippsmgmt version [--json]`, also `vippsmgmt --version`.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := usageFlags("version", `usage: vippsmgmt version [--json]

Prints the version, commit, build date, Go version and the contract's version.

flags:
`, stderr)
	asJSON := fs.Bool("json", false, "print the build description as one JSON object")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	info := buildinfo.Get()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(info)
	}
	commit := info.Commit
	if info.Modified {
		commit += " (with uncommitted changes)"
	}
	_, err := fmt.Fprintf(stdout, "vippsmgmt %s\n  commit    %s\n  date      %s\n  go        %s\n  contract  Vipps MobilePay Management API %s\n",
		info.Version, commit, info.Date, info.GoVersion, info.Contract)
	return err
}
