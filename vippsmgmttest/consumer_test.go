package vippsmgmttest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCleanConsumerModule builds and tests testdata/consumer, a partner's module that requires
// vippsmgmt through a replace directive, from a directory outside this repository: the public
// packages must be usable by another module, and go.mod must carry everything they need. It runs
// offline from the module cache this repository's build already filled.
func TestCleanConsumerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no go command on PATH")
		}
		t.Skip("no go command on PATH")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod, err := os.ReadFile("testdata/consumer/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	gomod = []byte(strings.Replace(string(gomod), "=> ../../..", "=> "+repo, 1))
	// What `go mod tidy` gives the consumer online: vippsmgmt's requirements listed too, so the
	// module graph is pruned at them and the cache alone is enough.
	ours, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	// `go get` raises the consumer's go line to vippsmgmt's.
	if m := regexp.MustCompile(`(?m)^go \S+$`).Find(ours); m != nil {
		gomod = regexp.MustCompile(`(?m)^go \S+$`).ReplaceAll(gomod, m)
	}
	gomod = append(gomod, "\nrequire (\n"...)
	for _, r := range requirements(string(ours)) {
		gomod = append(gomod, "\t"+r+" // indirect\n"...)
	}
	gomod = append(gomod, ")\n"...)
	copyFile := func(dst string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("go.mod", gomod)
	for _, f := range []string{"testdata/consumer/consumer_test.go", "testdata/consumer/fixtures.yaml", "../go.sum"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		copyFile(filepath.Base(f), data)
	}
	cmd := exec.CommandContext(t.Context(), goTool, "test", "-count=1", "./...")
	cmd.Dir = dir
	// Nothing is fetched: the consumer's go.mod and go.sum are complete, so the cache suffices.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in the consumer module: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok  \texample.com/consumer") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

// requirements lists the "path version" lines of a go.mod's require directives.
func requirements(gomod string) []string {
	var out []string
	inBlock := false
	for _, line := range strings.Split(gomod, "\n") {
		line, _, _ = strings.Cut(line, "//")
		line = strings.TrimSpace(line)
		switch {
		case line == "require (":
			inBlock = true
		case inBlock && line == ")":
			inBlock = false
		case inBlock && line != "":
			out = append(out, line)
		case strings.HasPrefix(line, "require "):
			out = append(out, strings.TrimSpace(strings.TrimPrefix(line, "require ")))
		}
	}
	return out
}
