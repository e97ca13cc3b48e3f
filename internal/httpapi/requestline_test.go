package httpapi_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/logsink"
	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestRequestLinesMatchSlog: the request log line `vippsmgmt serve` appends to its buffer says
// what slog would have said for the same requests, in both formats; only the time and the
// measured duration differ.
func TestRequestLinesMatchSlog(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var viaSlog, viaSink syncbuf.Buffer
			var h slog.Handler = slog.NewTextHandler(&viaSlog, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&viaSlog, nil)
			}
			sink, err := logsink.New(&viaSink, format)
			if err != nil {
				t.Fatal(err)
			}
			a := testserver.Start(t, "sqlite", testserver.Options{Logger: slog.New(h)})
			b := testserver.Start(t, "sqlite", testserver.Options{Logger: sink.Logger(), Lines: sink})
			for _, srv := range []*testserver.Server{a, b} {
				send(t, srv.URL, "/healthz", nil)
				send(t, srv.URL, "/management/v1/sales-unit?secret=x", map[string]string{"Vipps-System-Name": `odd "name" = æ\x01`})
				send(t, srv.URL, "/management/v1/sales-units", map[string]string{"Vipps-System-Version": "1.0 beta"})
				send(t, srv.URL, "/management/v1/sales-units", map[string]string{"Authorization": "Bearer nonsense",
					"Ocp-Apim-Subscription-Key": fixtures.DemoPartnerKeys.SubscriptionKey})
			}
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			want, got := requestRecords(t, format, viaSlog.String()), requestRecords(t, format, viaSink.String())
			if len(want) != 4 {
				t.Fatalf("slog wrote %d request lines, want 4:\n%s", len(want), viaSlog.String())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request lines differ (-slog +sink):\n%s\nsink wrote:\n%s", diff, viaSink.String())
			}
		})
	}
}

// send makes one GET with a fixed request id, so that the lines of two servers compare.
func send(t *testing.T, base, path string, headers map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("X-Request-Id", "fixed-"+strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// requestRecords parses the request lines of a log, without the fields that differ between runs.
func requestRecords(t *testing.T, format, log string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		rec := parseLogLine(t, format, line)
		if rec["msg"] != "request" {
			continue
		}
		if rec["time"] == nil || rec["duration"] == nil {
			t.Errorf("line without time or duration: %s", line)
		}
		delete(rec, "time")
		delete(rec, "duration")
		out = append(out, rec)
	}
	return out
}
