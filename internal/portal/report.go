package portal

import (
	"context"
	"net/http"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/report"
)

// Reporter is the integration report as the console uses it.
type Reporter interface {
	Report(ctx context.Context, clientID string) (*report.Report, error)
	Reset(ctx context.Context) (time.Time, error)
}

type reportPage struct {
	ClientID string // the one caller shown; empty: all
	Report   *report.Report
}

// handleReport serves GET /console/report: per caller, what its integration does wrong, worst
// callers and findings first; ?clientId= shows one caller.
func (p *Portal) handleReport(w http.ResponseWriter, r *http.Request, s *session) {
	if p.reporter == nil {
		p.handleNotFound(w, r)
		return
	}
	clientID := r.URL.Query().Get("clientId")
	if !p.validParam(w, r, s, "report", "client id", clientID) {
		return
	}
	rep, err := p.reporter.Report(r.Context(), clientID)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	v := p.consoleView(s, "report", "Integration report", reportPage{ClientID: clientID, Report: rep})
	if r.URL.Query().Get("done") == "reset" {
		v.Flash = "A new report window has started: every count is back at zero."
	}
	p.render(w, r, http.StatusOK, "report", v)
}

// handleReportReset serves POST /console/report/reset: a new window.
func (p *Portal) handleReportReset(w http.ResponseWriter, r *http.Request, s *session) {
	if p.reporter == nil {
		p.handleNotFound(w, r)
		return
	}
	if _, err := p.reporter.Reset(r.Context()); err != nil {
		p.serverError(w, r, err)
		return
	}
	p.logger.InfoContext(r.Context(), "integration report reset in console")
	http.Redirect(w, r, "/console/report?done=reset", http.StatusSeeOther)
}
