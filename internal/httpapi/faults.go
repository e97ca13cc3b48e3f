package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/auth"
	"github.com/vippsmgmt/vippsmgmt/internal/fault"
	"github.com/vippsmgmt/vippsmgmt/internal/metrics"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// StatusConnectionDropped is the status the request log and metrics record for a connection a
// fault rule closed without an answer (nginx's 444).
const StatusConnectionDropped = 444

// FaultHeader names the fault rule that answered a request, so a partner's test can tell an
// injected failure from a real one; the real service never sends it.
const FaultHeader = "Vippsmgmt-Fault-Rule"

func newFaultMetric(reg *metrics.Registry) *metrics.CounterVec {
	return reg.NewCounterVec("vippsmgmt_injected_faults_total",
		"Requests answered by an operator's fault rule, by route and effect (a status, delay or drop).", "route", "effect")
}

// accessTokenFaultWriter answers /accesstoken/get in its own error shapes (internal/auth).
type accessTokenFaultWriter interface {
	WriteAccessTokenFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration)
}

// injectFaults lets the sandbox's fault rules answer matching Management API and token requests
// before they reach a handler. With no rule it costs one atomic load per request.
func (s *Server) injectFaults(next http.Handler) http.Handler {
	if s.faults == nil {
		return next
	}
	catalog := s.faults.Catalog()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.faults.Active() || !fault.Faultable(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		_, pattern := s.mux.Handler(r)
		req := fault.Request{Operation: catalog.OperationOf(pattern)}
		if c, ok := vippsmgmt.CallerFromContext(r.Context()); ok {
			req.ClientID, req.PartnerID = c.ClientID, c.PartnerID
		} else if req.Operation == fault.AccessToken || req.Operation == fault.MiamiToken {
			req.Token = true
			req.ClientID = r.Header.Get("client_id")
			if user, _, ok := r.BasicAuth(); ok && req.ClientID == "" {
				req.ClientID = user
			}
		}
		rule := s.faults.Fire(r.Context(), req)
		if rule == nil {
			next.ServeHTTP(w, r)
			return
		}
		s.applyFault(w, r, rule, req.Operation, pattern, next)
	})
}

// applyFault answers r as rule says. The request counts as injected in the request log, the
// metrics and the integration report.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, rule *vippsmgmt.FaultRule, op, pattern string, next http.Handler) {
	MarkInjected(r)
	if x := exchangeFrom(r); x != nil {
		x.route = pattern
		x.fault = rule.ID
	}
	e := rule.Effect
	effect := "delay"
	switch {
	case e.Drop:
		effect = "drop"
	case e.Status != 0:
		effect = strconv.Itoa(e.Status)
	}
	s.faultMetric.With(pattern, effect).Inc()

	if e.Delay > 0 {
		t := time.NewTimer(e.Delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			if sw, ok := w.(*statusWriter); ok && sw.status == 0 {
				sw.status = problem.StatusClientClosedRequest
			}
			return
		case <-t.C:
		}
	}
	w.Header().Set(FaultHeader, rule.ID)
	switch {
	case e.Drop:
		dropConnection(w, r)
	case e.Status != 0:
		retryAfter := time.Duration(e.RetryAfterSeconds) * time.Second
		switch op {
		case fault.AccessToken:
			if tw, ok := s.auth.(accessTokenFaultWriter); ok {
				tw.WriteAccessTokenFault(w, r, e.Status, retryAfter)
				return
			}
			writeManagementFault(w, r, e.Status, retryAfter)
		case fault.MiamiToken:
			auth.WriteMiamiFault(w, e.Status, retryAfter)
		default:
			writeManagementFault(w, r, e.Status, retryAfter)
		}
	default:
		w.Header().Del(FaultHeader) // only delayed: the answer is the real one
		next.ServeHTTP(w, r)
	}
}

// dropConnection closes the connection without an answer, as a crashed proxy would.
func dropConnection(w http.ResponseWriter, r *http.Request) {
	if sw, ok := w.(*statusWriter); ok {
		sw.status = StatusConnectionDropped
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hand over its connection: abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

var faultTitles = map[int]struct{ slug, title, detail string }{
	http.StatusTooManyRequests:     {"too-many-requests", "Too many requests", ""},
	http.StatusInternalServerError: {"internal", "Internal server error", "Internal error."},
	http.StatusBadGateway:          {"bad-gateway", "Bad gateway", "The backend did not give a valid answer; try again."},
	http.StatusServiceUnavailable:  {"service-unavailable", "Service unavailable", "The service is temporarily unavailable; try again later."},
	http.StatusGatewayTimeout:      {"gateway-timeout", "Gateway timeout", "The backend did not answer in time; try again."},
}

// writeManagementFault answers a Management API request with status as the real service does: an
// expired token's 401, and problem details (the contract's shape) for rate limits and server
// errors, a 429 always with Retry-After.
func writeManagementFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	if status == http.StatusUnauthorized {
		auth.WriteExpiredToken(w, r)
		return
	}
	if status == http.StatusTooManyRequests {
		retryAfter = max(retryAfter, time.Second)
	}
	secs := strconv.Itoa(int(retryAfter / time.Second))
	if retryAfter > 0 {
		w.Header().Set("Retry-After", secs)
	}
	t := faultTitles[status]
	if status == http.StatusTooManyRequests {
		t.detail = "Rate limit is exceeded. Try again in " + secs + " seconds."
	}
	problem.Write(w, problem.New(r.Context(), status, t.slug, t.title, t.detail))
}
