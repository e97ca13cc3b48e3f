package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestUnmatchedRequestsLogTheirPath: an operator must see what a partner mistyped, without the
// query (it may carry anything) and without letting a long path grow the log line.
func TestUnmatchedRequestsLogTheirPath(t *testing.T) {
	long := "/management/v1/" + strings.Repeat("x", 5000)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var out syncbuf.Buffer
			var h slog.Handler = slog.NewTextHandler(&out, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&out, nil)
			}
			srv := testserver.Start(t, "sqlite", testserver.Options{Logger: slog.New(h)})
			for _, path := range []string{"/management/v1/sales-unit?secret=hunter2", long, "/management/v1/sales-units"} {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			lines := map[string]map[string]any{} // path logged → record
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				rec := parseLogLine(t, format, line)
				if rec["msg"] != "request" {
					continue
				}
				if p, ok := rec["path"].(string); ok {
					lines[p] = rec
				} else if rec["route"] == "unmatched" {
					t.Errorf("unmatched request logged without its path: %s", line)
				}
			}
			if rec, ok := lines["/management/v1/sales-unit"]; !ok || rec["route"] != "unmatched" {
				t.Errorf("mistyped path not logged as unmatched with its path: %v\n%s", rec, out.String())
			}
			if strings.Contains(out.String(), "hunter2") {
				t.Errorf("the query reached the log:\n%s", out.String())
			}
			found := false
			for p := range lines {
				if strings.HasPrefix(p, "/management/v1/xxx") {
					found = true
					if len(p) > 300 {
						t.Errorf("long path logged with %d bytes", len(p))
					}
				}
			}
			if !found {
				t.Errorf("long path not logged:\n%s", out.String())
			}
			// A matched route logs its pattern, not the path: a path there adds nothing and may be long.
			for p, rec := range lines {
				if rec["route"] != "unmatched" {
					t.Errorf("matched request %v logs path %q", rec["route"], p)
				}
			}
		})
	}
}

// parseLogLine reads one slog line as strings, whichever handler wrote it.
func parseLogLine(t *testing.T, format, line string) map[string]any {
	t.Helper()
	rec := map[string]any{}
	if format == "json" {
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		for k, v := range rec {
			if f, ok := v.(float64); ok {
				rec[k] = strconv.FormatFloat(f, 'f', -1, 64)
			}
		}
		return rec
	}
	for line = strings.TrimLeft(line, " "); line != ""; line = strings.TrimLeft(line, " ") {
		key, rest, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("log line without key=value: %q", line)
		}
		val := rest
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else if sp := strings.IndexByte(rest, ' '); sp >= 0 {
			val, rest = rest[:sp], rest[sp:]
		} else {
			rest = ""
		}
		rec[key] = val
		line = rest
	}
	return rec
}
