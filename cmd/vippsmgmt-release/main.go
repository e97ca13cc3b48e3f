// Command vippsmgmt-release builds vippsmgmt's release files from this checkout: `dist` (an
// archive per platform and SHA256SUMS, as `make dist VERSION=x.y.z` runs it) and `image` (the
// container image, as `make image` runs it), and `startup`, which measures how fast a server
// command answers its first request. Run it from the repository.
//
// It is a developer tool, kept out of the product binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vippsmgmt/vippsmgmt/internal/cli"
	"github.com/vippsmgmt/vippsmgmt/internal/release"
)

const usage = `usage: vippsmgmt-release <command> [flags]

commands:
  dist    build every platform's archive and SHA256SUMS (see dist -h)
  image   build the container image with buildah or podman (see image -h)
  startup measure a server command's start-to-first-200 over several runs (see startup -h)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode("vippsmgmt-release", err, os.Stderr))
}

// errUsage, wrapped, says what was wrong with the command line: the exit status is then 2.
var errUsage = cli.UsageError{Err: errors.New("usage")}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	switch args[0] {
	case "dist":
		return runDist(ctx, args[1:], stdout, stderr)
	case "image":
		return runImage(ctx, args[1:], stdout, stderr)
	case "startup":
		return runStartup(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func runDist(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("dist", stderr)
	version := fs.String("version", "", "release version, such as 1.2.3 (required)")
	out := fs.String("out", "dist", "directory the archives and SHA256SUMS are written to")
	var all []string
	for _, t := range release.Targets {
		all = append(all, t.String())
	}
	targets := fs.String("targets", strings.Join(all, ","), "comma-separated os/arch list")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	if *version == "" {
		return fmt.Errorf("%w: dist needs --version (make dist VERSION=x.y.z)", errUsage)
	}
	var ts []release.Target
	for _, s := range strings.Split(*targets, ",") {
		t, err := release.ParseTarget(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		ts = append(ts, t)
	}
	src, err := release.ReadSource(ctx, ".", *version)
	if err != nil {
		return err
	}
	if src.Modified {
		fmt.Fprintln(stderr, "vippsmgmt-release: warning: the checkout has uncommitted changes; the binaries say so")
	}
	names, err := release.Dist(ctx, src, ts, *out)
	if err != nil {
		return err
	}
	for _, n := range append(names, "SHA256SUMS") {
		fmt.Fprintln(stdout, filepath.Join(*out, n))
	}
	return nil
}

func runImage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("image", stderr)
	version := fs.String("version", "", "release version stamped into the binary; empty: devel")
	tag := fs.String("tag", "", "image name; default localhost/vippsmgmt:VERSION, or :dev without a version")
	arch := fs.String("arch", "", "linux architecture of the image; default this machine's")
	save := fs.String("save", "", "also write the image to this file as a docker-archive tar")
	toolFlags := fs.String("tool-flags", "", "global flags for buildah or podman, such as \"--storage-driver vfs\"")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	tool, err := release.FindImageTool()
	if err != nil {
		return err
	}
	tool.Flags = strings.Fields(*toolFlags)
	src, err := release.ReadSource(ctx, ".", *version)
	if err != nil {
		return err
	}
	if *tag == "" {
		*tag = "localhost/vippsmgmt:dev"
		if src.Version != "" {
			*tag = "localhost/vippsmgmt:" + src.Version
		}
	}
	if err := tool.Build(ctx, src, *arch, *tag); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %s with %s\n", *tag, filepath.Base(tool.Path))
	if *save != "" {
		if err := tool.SaveDockerArchive(ctx, *tag, *save); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "saved %s to %s\n", *tag, *save)
	}
	return nil
}
