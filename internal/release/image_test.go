package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
)

// imageConfig is the part of a Docker image configuration the test reads.
type imageConfig struct {
	Config struct {
		User         string
		Env          []string
		Entrypoint   []string
		Cmd          []string
		WorkingDir   string
		ExposedPorts map[string]struct{}
		Volumes      map[string]struct{}
		Healthcheck  *struct{ Test []string }
	} `json:"config"`
}

// needTool skips when a tool the image test needs is missing, except under CI=true where it fails.
func needTool(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the image test needs %s (CI=true); .ci/run installs it", what)
	}
	t.Skipf("the image test needs %s", what)
}

// TestImage builds the image with buildah (or podman) in a private store, saves it as a
// docker-archive, unpacks its layers and runs its entrypoint with its environment and user under
// chroot on loopback: the image's health check and the quick start pass, the database lands in
// /data, and SIGTERM stops the server cleanly. Containers cannot run here, so this is as close
// to `podman run` as the machine allows.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	needTool(t, "root (chroot and the image's user)", os.Geteuid() == 0)
	tool, err := FindImageTool()
	needTool(t, "buildah or podman", err == nil)
	_, err = os.Stat(CACertificates)
	needTool(t, CACertificates+" (Debian package ca-certificates)", err == nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	work := t.TempDir()
	// A private store on vfs works everywhere, also inside a container without overlayfs, and
	// leaves the machine's images alone.
	tool.Flags = []string{"--root", filepath.Join(work, "storage"), "--runroot", filepath.Join(work, "run"), "--storage-driver", "vfs"}
	src := testSource(t, "1.2.3")
	const tag = "localhost/vippsmgmt:imagetest"
	if err := tool.Build(ctx, src, "", tag); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(work, "image.tar")
	// An archive of an earlier run is replaced, not added to.
	if err := os.WriteFile(archive, []byte("an earlier archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tool.SaveDockerArchive(ctx, tag, archive); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	// A save that fails leaves the archive at the path as it was, and no partial one beside it.
	if err := tool.SaveDockerArchive(ctx, "localhost/vippsmgmt:no-such-image", archive); err == nil {
		t.Error("saving an image that does not exist succeeded")
	}
	if again, err := os.ReadFile(archive); err != nil || !bytes.Equal(again, saved) {
		t.Errorf("a failed save changed the archive: %d bytes, %v; want the %d saved", len(again), err, len(saved))
	}
	if left, _ := filepath.Glob(filepath.Join(work, ".image.tar*")); len(left) > 0 {
		t.Errorf("a partial archive is left: %v", left)
	}
	// The store holds root-owned copies of every layer; remove it now rather than leave it to
	// TempDir's cleanup, so a failure below does not keep it.
	_ = os.RemoveAll(filepath.Join(work, "storage"))

	root := filepath.Join(work, "rootfs")
	cfg := unpackDockerArchive(t, archive, root)
	c := cfg.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	env := map[string]string{}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if env["VIPPSMGMT_DB"] != "sqlite:/data/vippsmgmt.db" || env["VIPPSMGMT_ADDR"] != "0.0.0.0:8080" {
		t.Errorf("environment %v", c.Env)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("volumes %v, want /data", c.Volumes)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 8080/tcp", c.ExposedPorts)
	}
	if c.Healthcheck == nil || len(c.Healthcheck.Test) < 2 || c.Healthcheck.Test[0] != "CMD" {
		t.Fatalf("health check %+v, want a CMD", c.Healthcheck)
	}
	var files []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(p, root))
		}
		return err
	})
	want := []string{"/etc/group", "/etc/passwd", "/etc/ssl/certs/ca-certificates.crt", "/usr/local/bin/vippsmgmt"}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files in the image (-want +got):\n%s", diff)
	}

	// The image's command as `podman run -e VIPPSMGMT_ADDR=127.0.0.1:0` would start it: a test
	// never takes a fixed port, so only the listen address differs.
	run := func(args []string, extraEnv ...string) *exec.Cmd {
		cmd := &exec.Cmd{Path: args[0], Args: args, Dir: c.WorkingDir, Env: append(slices.Clone(c.Env), extraEnv...)}
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: ImageUID, Gid: ImageGID}}
		return cmd
	}
	server := run(append(slices.Clone(c.Entrypoint), c.Cmd...), "VIPPSMGMT_ADDR=127.0.0.1:0", "VIPPSMGMT_ADMIN_TOKEN=image-test-token")
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncbuf.Buffer
	server.Stderr = &stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = server.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = server.Process.Kill()
			<-exited
		}
	}()
	baseCh := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				baseCh <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-baseCh:
	case <-exited:
		t.Fatalf("the server exited: %v\n%s", waitErr, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no banner in 30 s\n%s", stderr.String())
	}
	addr := strings.TrimPrefix(base, "http://")

	// The HEALTHCHECK as the runtime runs it: in the container, with its environment.
	if out, err := run(c.Healthcheck.Test[1:], "VIPPSMGMT_ADDR="+addr).CombinedOutput(); err != nil {
		t.Errorf("health check %v: %v\n%s", c.Healthcheck.Test[1:], err, out)
	}
	k := fixtures.DemoPartnerKeys
	qs := run([]string{c.Entrypoint[0], "quickstart", "--base-url", base, "--client-id", k.ClientID,
		"--client-secret", k.ClientSecret, "--subscription-key", k.SubscriptionKey})
	if out, err := qs.CombinedOutput(); err != nil || !strings.Contains(string(out), "Quick start completed.") {
		t.Errorf("quick start: %v\n%s", err, out)
	}

	// The admin token comes from the environment, as a CI service container sets it.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/admin/v1/clock", nil)
	req.Header.Set("Authorization", "Bearer image-test-token")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /admin/v1/clock with VIPPSMGMT_ADMIN_TOKEN: %s", resp.Status)
		}
	}

	db, err := os.Stat(filepath.Join(root, "data", "vippsmgmt.db"))
	if err != nil {
		t.Errorf("no database in /data: %v", err)
	} else if st := db.Sys().(*syscall.Stat_t); st.Uid != ImageUID {
		t.Errorf("/data/vippsmgmt.db is owned by uid %d, want %d", st.Uid, ImageUID)
	}

	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("after SIGTERM: %v\n%s", waitErr, stderr.String())
		}
		if !strings.Contains(stderr.String(), "msg=stopped") {
			t.Errorf("no clean stop in the log:\n%s", stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not stop within 20 s of SIGTERM\n%s", stderr.String())
	}
}

// unpackDockerArchive extracts the layers of a docker-archive into root, with their owners and
// modes, and returns the image configuration.
func unpackDockerArchive(t *testing.T, archive, root string) imageConfig {
	t.Helper()
	members := map[string][]byte{}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	eachTarEntry(t, f, func(h *tar.Header, body io.Reader) {
		if h.Typeflag == tar.TypeReg {
			if members[h.Name], err = io.ReadAll(body); err != nil {
				t.Fatal(err)
			}
		}
	})
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v (%d images)", err, len(manifest))
	}
	var cfg imageConfig
	if err := json.Unmarshal(members[manifest[0].Config], &cfg); err != nil {
		t.Fatalf("image config: %v", err)
	}
	for _, l := range manifest[0].Layers {
		if err := extractLayer(members[l], root); err != nil {
			t.Fatalf("layer %s: %v", l, err)
		}
	}
	return cfg
}

func extractLayer(layer []byte, root string) error {
	var r io.Reader = bytes.NewReader(layer)
	if bytes.HasPrefix(layer, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		name := path.Clean("/" + h.Name)
		if strings.HasPrefix(path.Base(name), ".wh.") {
			return fmt.Errorf("whiteout %s: a scratch image's layers only add", name)
		}
		p := filepath.Join(root, name)
		mode := os.FileMode(h.Mode).Perm()
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			w, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, tr)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: entry type %c is not expected in this image", name, h.Typeflag)
		}
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
}
