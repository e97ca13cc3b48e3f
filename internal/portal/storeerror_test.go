package portal

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

// brokenPricePackages is a store whose price package reads fail as a lost database would.
type brokenPricePackages struct{ vippsmgmt.Store }

func (brokenPricePackages) FindPricePackageByID(context.Context, string) (*vippsmgmt.PricePackage, error) {
	return nil, errors.New("database connection lost")
}

// TestConsoleOrderPageReportsAFailedRead shows an order while its price package cannot be read:
// the page is a logged 500, not the order with its price package shown as unknown.
func TestConsoleOrderPageReportsAFailedRead(t *testing.T) {
	e, c := newConsole(t)
	id := e.prefill()
	var log bytes.Buffer
	e.portal.logger = slog.New(slog.NewTextHandler(&log, nil))
	e.portal.store = brokenPricePackages{e.store}
	w, _ := e.get("/console/orders/"+id, c)
	wantStatus(t, w, http.StatusInternalServerError)
	if !strings.Contains(log.String(), "database connection lost") {
		t.Errorf("cause not logged: %s", log.String())
	}
}
