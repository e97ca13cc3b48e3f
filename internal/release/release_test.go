package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testSource is a fixed description of this checkout, so the outcome does not depend on git.
func testSource(t *testing.T, version string) Source {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return Source{Dir: root, Version: version, Commit: "0123456789abcdef0123456789abcdef01234567",
		Time: time.Date(2026, 11, 24, 16, 54, 39, 0, time.UTC)}
}

// TestDistReproducible builds the linux/amd64 release twice into different directories: the
// archives and SHA256SUMS must be byte-identical, hold the binary, README.md and LICENSE with
// fixed owners, times and modes, and the binary must be static and report the stamped release.
// eachTarEntry calls f with the header and contents of each entry of the tar stream r, in order.
func eachTarEntry(t *testing.T, r io.Reader, f func(h *tar.Header, body io.Reader)) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		f(h, tr)
	}
}

func TestDistReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary")
	}
	ctx := context.Background()
	src := testSource(t, "1.2.3")
	target := []Target{{"linux", "amd64"}}
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		names, err := Dist(ctx, src, target, d)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"vippsmgmt_1.2.3_linux_amd64.tar.gz"}, names); diff != "" {
			t.Fatalf("archives (-want +got):\n%s", diff)
		}
	}
	for _, name := range []string{"vippsmgmt_1.2.3_linux_amd64.tar.gz", "SHA256SUMS"} {
		a, errA := os.ReadFile(filepath.Join(dirs[0], name))
		b, errB := os.ReadFile(filepath.Join(dirs[1], name))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of the same source", name)
		}
	}

	archive, err := os.ReadFile(filepath.Join(dirs[0], "vippsmgmt_1.2.3_linux_amd64.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := os.ReadFile(filepath.Join(dirs[0], "SHA256SUMS"))
	if want := fmt.Sprintf("%x  vippsmgmt_1.2.3_linux_amd64.tar.gz\n", sha256.Sum256(archive)); string(sums) != want {
		t.Errorf("SHA256SUMS %q, want %q", sums, want)
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sha, "-c", "SHA256SUMS")
		cmd.Dir = dirs[0]
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}

	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header records name %q, time %v", zr.Name, zr.ModTime)
	}
	var entries []string
	var binary []byte
	eachTarEntry(t, zr, func(h *tar.Header, body io.Reader) {
		entries = append(entries, fmt.Sprintf("%s %o %d:%d %s", h.Name, h.Mode, h.Uid, h.Gid, h.ModTime.UTC().Format(time.RFC3339)))
		if h.Name == "vippsmgmt" {
			binary, _ = io.ReadAll(body)
		}
	})
	want := []string{
		"LICENSE 644 0:0 2026-11-24T16:54:39Z",
		"README.md 644 0:0 2026-11-24T16:54:39Z",
		"vippsmgmt 755 0:0 2026-11-24T16:54:39Z",
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("archive entries (-want +got):\n%s", diff)
	}

	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (program header %v)", p.Type)
		}
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return
	}
	bin := filepath.Join(t.TempDir(), "vippsmgmt")
	if err := os.WriteFile(bin, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Version, Commit, Date, GoVersion, Contract string }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	wantInfo := struct{ Version, Commit, Date, GoVersion, Contract string }{"1.2.3", src.Commit, "2026-11-24T16:54:39Z", runtime.Version(), "2.0.9"}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf("version --json (-want +got):\n%s", diff)
	}
	// No file system path of the build machine in the binary (-trimpath).
	if bytes.Contains(binary, []byte(src.Dir)) {
		t.Errorf("the binary contains the checkout's path %s", src.Dir)
	}
}

func TestZipIsReproducible(t *testing.T) {
	files := []file{{"LICENSE", 0o644, []byte("MIT")}, {"vippsmgmt.exe", 0o755, bytes.Repeat([]byte("MZ"), 1000)}}
	mtime := time.Date(2026, 11, 24, 16, 54, 39, 0, time.UTC)
	var a, b bytes.Buffer
	if err := writeZip(&a, files, mtime); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, files, mtime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two zips of the same files differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range zr.File {
		got = append(got, fmt.Sprintf("%s %v %s", f.Name, f.Mode(), f.Modified.UTC().Format(time.RFC3339)))
	}
	want := []string{"LICENSE -rw-r--r-- 2026-11-24T16:54:39Z", "vippsmgmt.exe -rwxr-xr-x 2026-11-24T16:54:39Z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zip entries (-want +got):\n%s", diff)
	}
}

func TestReadSource(t *testing.T) {
	for _, bad := range []string{"1.2", "latest", "1.2.3 ", "v1.2.3.4"} {
		if _, err := ReadSource(context.Background(), "../..", bad); err == nil {
			t.Errorf("version %q accepted", bad)
		}
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	s, err := ReadSource(context.Background(), "../..", "v1.2.3-rc.1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "1.2.3-rc.1" || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(s.Commit) || s.Time.IsZero() {
		t.Errorf("source %+v", s)
	}
}

func TestParseTarget(t *testing.T) {
	if got, err := ParseTarget("darwin/arm64"); err != nil || got != (Target{"darwin", "arm64"}) {
		t.Errorf("ParseTarget(darwin/arm64) = %v, %v", got, err)
	}
	for _, bad := range []string{"linux", "/amd64", "linux/", "linux/amd64/v2"} {
		if _, err := ParseTarget(bad); err == nil || !strings.Contains(err.Error(), "os/arch") {
			t.Errorf("ParseTarget(%q) = %v", bad, err)
		}
	}
}
