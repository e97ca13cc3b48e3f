package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

var _ openapi.StrictServerInterface = (*Server)(nil)

// registerAPI adds the generated Management and operator routes, validated against
// api/openapi.yaml before they reach a handler, and the document itself.
func (s *Server) registerAPI() error {
	v, err := openapi.NewValidator()
	if err != nil {
		return err
	}
	s.spec = v
	v.Decoded = map[string]bool{routePrefill: true}
	strict := openapi.NewStrictHandlerWithOptions(s, []openapi.StrictMiddlewareFunc{s.sandboxGate}, openapi.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  openapi.RequestErrorHandler,
		ResponseErrorHandlerFunc: s.writeError,
	})
	routes := &fastRoutes{ServeMux: s.mux, fast: map[string]func(http.HandlerFunc) http.HandlerFunc{
		routeGetMsn: func(generated http.HandlerFunc) http.HandlerFunc { return s.fastGetMsn(generated) },
	}}
	if fastRoutesOff {
		clear(routes.fast)
	}
	openapi.HandlerWithOptions(selfDecoding{ServerInterface: strict, s: s}, openapi.StdHTTPServerOptions{
		BaseRouter:       routes,
		ErrorHandlerFunc: s.paramError,
		// The last middleware runs first: merchant keys get their 403 before any body is judged.
		Middlewares: []openapi.MiddlewareFunc{v.Middleware, s.requirePartnerRole},
	})
	if len(routes.fast) > 0 {
		return fmt.Errorf("fast routes not in the contract: %v", slices.Collect(maps.Keys(routes.fast)))
	}
	s.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(api.OpenAPI)
	})
	return nil
}

// partnerRefusal answers EFORBIDDEN for a partner-only operation (x-partner-only in the spec)
// called with a sales unit's merchant keys, nil otherwise. It is the one place that decides that
// 403; the operations' handlers then take the caller as a partner without asking again.
func (s *Server) partnerRefusal(r *http.Request) error {
	if !s.spec.PartnerOnly(r.Pattern) {
		return nil
	}
	if c, ok := vippsmgmt.CallerFromContext(r.Context()); ok && !c.IsPartner() {
		return vippsmgmt.Errorf(vippsmgmt.EFORBIDDEN, "This operation is for partners: use partner keys or management keys, not a sales unit's merchant keys.")
	}
	return nil
}

// paramError answers a parameter the generated wrapper could not bind. The wrapper binds before
// any middleware runs, so merchant keys get their 403 here too: otherwise a prefill without an
// Idempotency-Key would tell them 400 where every other request says 403.
func (s *Server) paramError(w http.ResponseWriter, r *http.Request, err error) {
	if perr := s.partnerRefusal(r); perr != nil {
		problem.Error(w, r, perr)
		return
	}
	openapi.ParamErrorHandler(w, r, err)
}

func (s *Server) requirePartnerRole(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.partnerRefusal(r); err != nil {
			problem.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// selfDecoding is the generated server with the operations listed in openapi.Validator.Decoded
// served by handlers that decode their own bodies, after the generated wrapper has bound the
// parameters and the middlewares have run.
type selfDecoding struct {
	openapi.ServerInterface
	s *Server
}

func (h selfDecoding) OrderProduct(w http.ResponseWriter, r *http.Request, params openapi.OrderProductParams) {
	h.s.orderProduct(w, r, params)
}

// writeError answers a handler's error as a problem, in the content type the contract declares.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	d := problem.FromError(r.Context(), err)
	if d.Status == http.StatusNotFound && s.spec.NotFoundAsJSON(r.Pattern) {
		problem.WriteAs(w, problem.JSONUTF8, d)
		return
	}
	problem.Write(w, d)
}

// fastRoutesOff leaves every route to its generated handler (tests compare the two).
var fastRoutesOff bool

// fastRoutes is the mux the generated routes register on. A route with a hand-written fast path
// gets it in front of its generated handler; the entry is removed once used, so one left over
// names a route the contract no longer has.
type fastRoutes struct {
	*http.ServeMux
	fast map[string]func(generated http.HandlerFunc) http.HandlerFunc
}

func (m *fastRoutes) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if f, ok := m.fast[pattern]; ok {
		delete(m.fast, pattern)
		h = f(h)
	}
	m.ServeMux.HandleFunc(pattern, h)
}

// routeGetMsn is the API's most frequent read.
const routeGetMsn = "GET /management/v1/sales-units/{msn}"

// salesUnitPathPrefix is the path of routeGetMsn up to its one parameter.
const salesUnitPathPrefix = "/management/v1/sales-units/"

// fastGetMsn serves GET /management/v1/sales-units/{msn} when its parameters are all valid, as the
// generated wrapper, the validator and the strict handler would, without what they cost per
// request: binding by reflection, a closure per middleware, boxing the request and the answer.
// Anything else (a parameter to refuse, a header given twice) goes to the generated handler.
func (s *Server) fastGetMsn(generated http.HandlerFunc) http.HandlerFunc {
	if s.spec.PartnerOnly(routeGetMsn) {
		panic("fastGetMsn: the route is partner-only; its fast path would skip that check")
	}
	s.getMsnFast = true
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.serveGetMsn(w, r, r.PathValue("msn")) {
			generated(w, r)
		}
	}
}

// serveGetMsn answers a GET of the sales unit msn and returns true when every parameter is valid;
// otherwise it writes nothing and returns false.
func (s *Server) serveGetMsn(w http.ResponseWriter, r *http.Request, msn string) bool {
	if !s.spec.ParamsValid(routeGetMsn, r, func(string) string { return msn }) {
		return false
	}
	resp, err := s.salesUnit(r.Context(), msn)
	if err == nil {
		err = resp.VisitGetMsnResponse(w)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
	return true
}

// getMsnPath returns the msn of a request the ServeMux would match to routeGetMsn with that path
// value: a GET (not HEAD, which the mux also gives GET routes) of a canonical path with one
// segment after salesUnitPathPrefix, sent without escapes the mux would read differently (its
// URL.RawPath is empty, so the segment is the path value as it stands). No other route of the
// table has a path of that form.
func getMsnPath(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet || r.URL.RawPath != "" {
		return "", false
	}
	msn, ok := strings.CutPrefix(r.URL.Path, salesUnitPathPrefix)
	if !ok || msn == "" || strings.IndexByte(msn, '/') >= 0 {
		return "", false
	}
	return msn, true
}
