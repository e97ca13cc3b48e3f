package portal

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
)

// TestConsoleSearchRefusesUnstorableText searches the console's lists, and the report for a
// client id, with text PostgreSQL cannot hold (a NUL, bytes that are not UTF-8): each answers a
// 400 page saying what is wrong, where the database's refusal made a 500.
func TestConsoleSearchRefusesUnstorableText(t *testing.T) {
	st := openStore(t, pgtest.DSN(t))
	srv := consoleServer(t, st, adminToken)
	c := signIn(t, srv, adminToken)
	for _, list := range []string{"partners", "merchants", "sales-units", "price-packages"} {
		for want, q := range map[string]string{"must not contain control characters": "%00", "must be valid UTF-8": "%ff"} {
			status, doc := consoleGet(t, srv, "/console/"+list+"?q=a"+q, c)
			if got := doc.One(t, "main").Text(); status != http.StatusBadRequest || !strings.Contains(got, "The search "+want) {
				t.Errorf("%s?q=a%s: %d %q", list, q, status, got)
			}
		}
	}

	e := newEnv(t)
	e.portal.reporter = report.New(report.Config{Store: st, ClassicTTL: 24 * time.Hour, ManagementTTL: 15 * time.Minute})
	w, doc := e.get("/console/report?clientId=a%00", e.login())
	wantStatus(t, w, http.StatusBadRequest)
	if got := doc.One(t, "main").Text(); !strings.Contains(got, "The client id must not contain control characters") {
		t.Errorf("report: %q", got)
	}
}
