// Package release builds what vippsmgmt ships besides its source: static, CGO-free binaries for
// each platform in archives with the README and the licence, their SHA256SUMS, and the file tree
// the container image is built from. Everything it writes is reproducible: the same commit and Go
// toolchain give byte-identical files, whoever builds them and wherever the checkout lies.
package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets are the platforms a release is built for.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"},
}

// Target is a GOOS/GOARCH pair.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "/" + t.Arch }

// ParseTarget reads "os/arch".
func ParseTarget(s string) (Target, error) {
	os, arch, ok := strings.Cut(s, "/")
	if !ok || os == "" || arch == "" || strings.Contains(arch, "/") {
		return Target{}, fmt.Errorf("target %q: want os/arch such as linux/amd64", s)
	}
	return Target{os, arch}, nil
}

// Source is the checkout a release is built from.
type Source struct {
	Dir      string    // repository root (holds go.mod, README.md, LICENSE)
	Version  string    // release version without a leading v, such as 1.2.3
	Commit   string    // full VCS revision, or "unknown"
	Modified bool      // the checkout has uncommitted changes
	Time     time.Time // commit time: the build date and every file time in the archives
}

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// ReadSource describes the checkout at dir for version (empty: a development build). The commit and its time come from git;
// without git (a source archive) SOURCE_DATE_EPOCH must give the time.
func ReadSource(ctx context.Context, dir, version string) (Source, error) {
	version = strings.TrimPrefix(version, "v")
	if version != "" && !versionRE.MatchString(version) {
		return Source{}, fmt.Errorf("version %q: want a semantic version such as 1.2.3", version)
	}
	s := Source{Dir: dir, Version: version, Commit: "unknown"}
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	if commit, err := git("rev-parse", "HEAD"); err == nil {
		s.Commit = commit
		epoch, err := git("log", "-1", "--format=%ct", "HEAD")
		if err != nil {
			return Source{}, fmt.Errorf("git log: %w", err)
		}
		sec, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return Source{}, fmt.Errorf("commit time %q: %w", epoch, err)
		}
		s.Time = time.Unix(sec, 0).UTC()
		status, err := git("status", "--porcelain", "--untracked-files=no")
		if err != nil {
			return Source{}, fmt.Errorf("git status: %w", err)
		}
		s.Modified = status != ""
	}
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Source{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", v, err)
		}
		s.Time = time.Unix(sec, 0).UTC()
	}
	if s.Time.IsZero() {
		return Source{}, errors.New("no git checkout: set SOURCE_DATE_EPOCH to the source's date")
	}
	return s, nil
}

// Binary builds cmd/vippsmgmt for t into path: static (CGO off), without file system paths
// (-trimpath) or a build id, stamped with the version, commit and commit time.
func Binary(ctx context.Context, src Source, t Target, path string) error {
	pkg := "github.com/vippsmgmt/vippsmgmt/internal/buildinfo"
	ldflags := []string{"-s", "-w", "-buildid=",
		"-X", pkg + ".commit=" + src.Commit,
		"-X", pkg + ".date=" + src.Time.Format(time.RFC3339)}
	if src.Version != "" {
		ldflags = append(ldflags, "-X", pkg+".version="+src.Version)
	}
	if src.Modified {
		ldflags = append(ldflags, "-X", pkg+".modified=true")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", strings.Join(ldflags, " "),
		"-o", path, "./cmd/vippsmgmt")
	cmd.Dir = src.Dir
	// The build must not depend on the builder's settings: only the target and CGO are set, and
	// GOFLAGS is cleared (it could add -race, -tags or -mod=vendor).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.OS, "GOARCH="+t.Arch, "GOFLAGS=", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s: %v\n%s", t, err, stderr.Bytes())
	}
	return nil
}

// ArchiveName is the file name of t's archive.
func ArchiveName(version string, t Target) string {
	name := fmt.Sprintf("vippsmgmt_%s_%s_%s", version, t.OS, t.Arch)
	if t.OS == "windows" {
		return name + ".zip"
	}
	return name + ".tar.gz"
}

// file is one entry of an archive.
type file struct {
	name string
	mode os.FileMode
	data []byte
}

// Dist builds every target into outDir, one archive each with the binary, README.md and LICENSE,
// and writes SHA256SUMS for them. It returns the archive names, sorted.
func Dist(ctx context.Context, src Source, targets []Target, outDir string) ([]string, error) {
	if src.Version == "" {
		return nil, errors.New("a release needs a version")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	var docs []file
	for _, name := range []string{"LICENSE", "README.md"} {
		data, err := os.ReadFile(filepath.Join(src.Dir, name))
		if err != nil {
			return nil, err
		}
		docs = append(docs, file{name: name, mode: 0o644, data: data})
	}
	work, err := os.MkdirTemp("", "vippsmgmt-dist-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var names []string
	for _, t := range targets {
		exe := "vippsmgmt"
		if t.OS == "windows" {
			exe += ".exe"
		}
		bin := filepath.Join(work, t.OS+"_"+t.Arch, exe)
		if err := Binary(ctx, src, t, bin); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		files := append([]file{{name: exe, mode: 0o755, data: data}}, docs...)
		slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
		var buf bytes.Buffer
		if t.OS == "windows" {
			err = writeZip(&buf, files, src.Time)
		} else {
			err = writeTarGz(&buf, files, src.Time)
		}
		if err != nil {
			return nil, err
		}
		name := ArchiveName(src.Version, t)
		if err := os.WriteFile(filepath.Join(outDir, name), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, WriteChecksums(outDir, names)
}

// writeTarGz writes files as a gzipped tar whose every header field is fixed: owner root (0),
// the commit time, the given mode; gzip records no name or time.
func writeTarGz(w io.Writer, files []file, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: int64(f.mode), Size: int64(len(f.data)),
			ModTime: mtime, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// writeZip writes files as a zip with fixed times and modes.
func writeZip(w io.Writer, files []file, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		hdr := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(f.mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WriteChecksums writes dir/SHA256SUMS for names, in the format `sha256sum -c` reads.
func WriteChecksums(dir string, names []string) error {
	var sums bytes.Buffer
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(data), name)
	}
	return os.WriteFile(filepath.Join(dir, "SHA256SUMS"), sums.Bytes(), 0o644)
}
