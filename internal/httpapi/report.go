package httpapi

import (
	"context"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
)

// observeForReport hands an answered request of a known caller to the integration report. It
// only copies a few fields: the rules run later, off the request's path.
func (s *Server) observeForReport(r *http.Request, sw *statusWriter, x *exchange, start time.Time, sys *systemHeaders) {
	if s.report == nil {
		return
	}
	kind, clientID, ok := strings.Cut(x.caller, ":")
	if !ok || clientID == "" || clientID == "(unregistered)" {
		return
	}
	if kind == "client" { // a token request: the key set's kind is looked up later
		kind = ""
	}
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	h := r.Header
	o := report.Observation{RequestFacts: vippsmgmt.RequestFacts{
		Time: start, ClockTime: start.Add(s.clock.Offset()), RequestID: problem.RequestID(r.Context()),
		ClientID: clientID, Kind: kind, Method: clip(r.Method), Route: x.route, Path: clip(r.URL.Path),
		// A rule that only delayed the request leaves the real answer, which is the caller's.
		Status: status, Injected: x.injected && sw.Header().Get(FaultHeader) != "", NoAnswer: status == StatusConnectionDropped,
		SystemName: sys.name != "", SystemVersion: sys.version != "",
		PluginName: sys.pluginName != "", PluginVersion: sys.pluginVersion != "",
		SubscriptionKey: header(h, "Ocp-Apim-Subscription-Key") != "",
		BodyHash:        x.prefillHash, OrderID: x.prefillOrder,
	}}
	if status == http.StatusTooManyRequests {
		if secs, err := strconv.Atoi(sw.Header().Get("Retry-After")); err == nil && secs > 0 {
			o.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	if x.route == vippsmgmt.RoutePrefill {
		o.IdempotencyKey = clip(header(h, "Idempotency-Key"))
	}
	if status >= 400 && status < 500 {
		o.ErrorBody = sw.errBody
	}
	s.report.Observe(o)
}

// notePrefill tells the report which prefill body a request carried, by the hash that identifies
// the request for its Idempotency-Key, and which order it made (empty when none).
func notePrefill(ctx context.Context, hash []byte, orderID string) {
	if x, _ := ctx.Value(exchangeKey{}).(*exchange); x != nil && len(hash) >= 8 {
		x.prefillHash = binary.BigEndian.Uint64(hash) | 1 // never 0, which means "no body"
		x.prefillOrder = orderID
	}
}

// MarkInjected records that the answer to r is a fault the operator injected: the integration
// report does not hold it against the caller (it still judges how the caller retries it).
func MarkInjected(r *http.Request) {
	if x := exchangeFrom(r); x != nil {
		x.injected = true
	}
}

// AdminGetReport serves GET /admin/v1/report: the integration report, worst callers first.
func (s *Server) AdminGetReport(ctx context.Context, req openapi.AdminGetReportRequestObject) (openapi.AdminGetReportResponseObject, error) {
	if s.report == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "This server keeps no integration report.")
	}
	rep, err := s.report.Report(ctx, deref(req.Params.ClientId))
	if err != nil {
		return nil, err
	}
	out := openapi.AdminGetReport200JSONResponse{WindowStart: rep.WindowStart, Callers: make([]openapi.AdminReportCaller, 0, len(rep.Callers))}
	for _, c := range rep.Callers {
		oc := openapi.AdminReportCaller{ClientId: c.ClientID, PartnerId: c.PartnerID, Kind: c.Kind, Requests: c.Requests,
			FirstSeen: c.FirstSeen, LastSeen: c.LastSeen, Findings: make([]openapi.AdminReportFinding, 0, len(c.Findings))}
		for _, f := range c.Findings {
			of := openapi.AdminReportFinding{Code: openapi.AdminReportFindingCode(f.Code), Severity: openapi.AdminReportFindingSeverity(f.Severity),
				Count: f.Count, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, ExampleRequestId: f.ExampleRequestID, Explanation: f.Explanation}
			if f.Route != "" {
				of.Route = &f.Route
			}
			oc.Findings = append(oc.Findings, of)
		}
		out.Callers = append(out.Callers, oc)
	}
	return out, nil
}

// AdminResetReport serves DELETE /admin/v1/report: a new window.
func (s *Server) AdminResetReport(ctx context.Context, _ openapi.AdminResetReportRequestObject) (openapi.AdminResetReportResponseObject, error) {
	if s.report == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "This server keeps no integration report.")
	}
	start, err := s.report.Reset(ctx)
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "integration report reset")
	return openapi.AdminResetReport200JSONResponse{WindowStart: start}, nil
}
