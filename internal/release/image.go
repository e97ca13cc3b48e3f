package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// The image's user: not root, and the same number everywhere so that a volume's owner matches.
const (
	ImageUID = 65532
	ImageGID = 65532
)

// CACertificates is where Debian's ca-certificates package keeps the bundle the image carries,
// and where Go's crypto/x509 looks for it on Linux.
const CACertificates = "/etc/ssl/certs/ca-certificates.crt"

// ImageContext writes the build context of the Containerfile to dir: rootfs/ (the static linux
// binary for arch, /etc/passwd and /etc/group naming the image's user, the CA bundle of this
// machine and /tmp) and the empty data/ that becomes the /data volume. Every file time is the
// commit time.
func ImageContext(ctx context.Context, src Source, arch, dir string) error {
	certs, err := os.ReadFile(CACertificates)
	if err != nil {
		return fmt.Errorf("CA certificates for the image: %w (on Debian: apt-get install ca-certificates)", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	root := filepath.Join(dir, "rootfs")
	if err := Binary(ctx, src, Target{"linux", arch}, filepath.Join(root, "usr/local/bin/vippsmgmt")); err != nil {
		return err
	}
	uid, gid := strconv.Itoa(ImageUID), strconv.Itoa(ImageGID)
	files := []struct {
		path string
		mode os.FileMode
		data string
	}{
		{"etc/passwd", 0o644, "root:x:0:0:root:/:/sbin/nologin\nvippsmgmt:x:" + uid + ":" + gid + ":vippsmgmt:/data:/sbin/nologin\n"},
		{"etc/group", 0o644, "root:x:0:\nvippsmgmt:x:" + gid + ":\n"},
		{CACertificates[1:], 0o644, string(certs)},
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	for _, d := range []string{filepath.Join(root, "tmp"), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// MkdirAll applies the umask; the modes must not depend on the builder's.
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(root, "usr/local/bin/vippsmgmt"), 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, src.Time, src.Time)
	})
}

// ImageTool builds and exports images: buildah or podman, with global flags such as a private
// --root and --storage-driver.
type ImageTool struct {
	Path  string   // buildah or podman executable
	Flags []string // global flags before the subcommand
}

// FindImageTool returns buildah, or podman when there is no buildah.
func FindImageTool() (ImageTool, error) {
	for _, name := range []string{"buildah", "podman"} {
		if p, err := exec.LookPath(name); err == nil {
			return ImageTool{Path: p}, nil
		}
	}
	return ImageTool{}, errors.New("neither buildah nor podman is installed (on Debian: apt-get install buildah)")
}

func (t ImageTool) run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, t.Path, append(append([]string(nil), t.Flags...), args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %v\n%s", filepath.Base(t.Path), args, err, out.Bytes())
	}
	return nil
}

// Build builds the Containerfile in src.Dir as tag for arch (default: this machine's). It needs
// no network and no container runtime: the context is prepared here and the Containerfile only
// copies it (chroot isolation, no RUN steps). The image uses the Docker format, as the OCI format
// has no HEALTHCHECK, and every timestamp in it is the commit time.
func (t ImageTool) Build(ctx context.Context, src Source, arch, tag string) error {
	if arch == "" {
		arch = runtime.GOARCH
	}
	dir, err := os.MkdirTemp("", "vippsmgmt-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := ImageContext(ctx, src, arch, dir); err != nil {
		return err
	}
	version := src.Version
	if version == "" {
		version = "devel"
	}
	return t.run(ctx, "build", "--isolation", "chroot", "--format", "docker", "--platform", "linux/"+arch,
		"--timestamp", strconv.FormatInt(src.Time.Unix(), 10),
		"--build-arg", "VERSION="+version, "--build-arg", "REVISION="+src.Commit,
		"--build-arg", "CREATED="+src.Time.Format(time.RFC3339),
		"-f", filepath.Join(src.Dir, "Containerfile"), "-t", tag, dir)
}

// SaveDockerArchive writes the image tag to path as a docker-archive tar, the format
// `docker load` and `podman load` read. An archive already at path is replaced (the tools refuse
// to add to one), and only once the new one is complete.
func (t ImageTool) SaveDockerArchive(ctx context.Context, tag, path string) (err error) {
	partial := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
	if err := os.Remove(partial); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(partial)
		}
	}()
	if filepath.Base(t.Path) == "podman" {
		err = t.run(ctx, "save", "--format", "docker-archive", "-o", partial, tag)
	} else {
		err = t.run(ctx, "push", tag, "docker-archive:"+partial+":"+tag)
	}
	if err != nil {
		return err
	}
	return os.Rename(partial, path)
}
