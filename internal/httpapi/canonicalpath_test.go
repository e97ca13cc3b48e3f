package httpapi

import (
	"path"
	"strings"
	"testing"
)

// TestCanonicalPathIsWhatCleanKeeps holds canonicalPath's shortcut to its definition: a rooted
// path that path.Clean leaves as it is, a trailing slash allowed.
func TestCanonicalPathIsWhatCleanKeeps(t *testing.T) {
	for _, p := range []string{"", "/", "//", "/a", "/a/", "/a//b", "/a/./b", "/a/../b", "/a/.", "/a/..", "/.", "/..",
		"/.well-known/jwks.json", "/a/.b", "/a/b.", "/a/..b/", "a/b", "/management/v1/sales-units/123456",
		"/management/v1/sales-units/", "/x/./", "/x/../", "/x//"} {
		want := p != "" && p[0] == '/'
		if want {
			c := path.Clean(p)
			if strings.HasSuffix(p, "/") && c != "/" {
				c += "/"
			}
			want = c == p
		}
		if got := canonicalPath(p); got != want {
			t.Errorf("canonicalPath(%q) = %v, want %v", p, got, want)
		}
	}
}
