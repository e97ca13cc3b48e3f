// Package buildinfo says which build of vippsmgmt is running: the release the linker stamped in
// (`make dist VERSION=x.y.z`), or what the Go toolchain recorded for a plain `go build`.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/vippsmgmt/vippsmgmt/api"
)

// Set by the release build with -ldflags "-X github.com/vippsmgmt/vippsmgmt/internal/buildinfo.version=…";
// empty in any other build.
var (
	version  string // release version without a leading v, such as 1.2.3
	commit   string // full VCS revision the release was built from
	date     string // RFC 3339 commit time of that revision (a fixed date keeps the build reproducible)
	modified string // "true" when the release was built from a checkout with uncommitted changes
)

// Info describes the running build.
type Info struct {
	Version   string `json:"version"`   // release version, or "devel"
	Commit    string `json:"commit"`    // VCS revision, "unknown" when the toolchain recorded none
	Modified  bool   `json:"modified"`  // built from a checkout with uncommitted changes
	Date      string `json:"date"`      // commit time of Commit, RFC 3339, or "unknown"
	GoVersion string `json:"goVersion"` // toolchain that built the binary
	Contract  string `json:"contract"`  // info.version of the OpenAPI contract served
}

// Get returns the running build's description.
func Get() Info { return get() }

var get = sync.OnceValue(func() Info {
	info := Info{Version: version, Commit: commit, Date: date, Modified: modified == "true",
		GoVersion: runtime.Version(), Contract: api.Version}
	bi, ok := debug.ReadBuildInfo()
	if ok && info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		// go install github.com/vippsmgmt/vippsmgmt/cmd/vippsmgmt@v1.2.3 records the module version.
		info.Version = bi.Main.Version
	}
	if ok && info.Commit == "" {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.Date = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		// go run and go test record no VCS information.
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
})
