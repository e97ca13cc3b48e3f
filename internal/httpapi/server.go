// Package httpapi serves vippsmgmt over HTTP: the Access Token API (from internal/auth), the
// Management API and the operator API (handlers generated from api/openapi.yaml), health, metrics
// and the contract itself.
package httpapi

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/autopilot"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/fault"
	"github.com/vippsmgmt/vippsmgmt/internal/logsink"
	"github.com/vippsmgmt/vippsmgmt/internal/metrics"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
)

// Config is what the handlers need to know about the deployment.
type Config struct {
	PublicURL  string // base of prefill links
	AdminToken string // bearer token of the operator API and console
	Sandbox    bool   // enables the clock control
	// MaxHeaderBytes bounds a request's line and headers; larger ones are answered 431.
	// Zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// PortalError answers, as the portal's HTML error page, a request for a portal page that the
	// server refuses before it reaches the portal: a body over the limit (*http.MaxBytesError),
	// headers over MaxHeaderBytes (*HeaderTooLargeError) or a path that is not valid text (a
	// *vippsmgmt.Error). A browser shows that page, where it
	// would show an API problem as raw JSON. Nil answers those requests as problems too.
	PortalError func(w http.ResponseWriter, r *http.Request, err error)
}

// Authenticator authenticates Management API requests and serves the token endpoints.
type Authenticator interface {
	Routes(mux *http.ServeMux)
	Middleware(next http.Handler) http.Handler
	Forget(clientID string)
}

// KeyHasher hashes client secrets and subscription keys before they are stored.
type KeyHasher interface {
	Hash(secret string) []byte
}

// Server is the vippsmgmt HTTP handler.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	lines    *logsink.Sink
	store    vippsmgmt.Store
	clock    *clock.Clock
	auth     Authenticator
	hasher   KeyHasher
	admin    func(http.Handler) http.Handler
	metrics  *requestMetrics
	requests *RequestLog
	report   *report.Collector
	faults   *fault.Injector // nil outside sandbox mode
	// autopilot moves orders by the operator's policies; nil outside sandbox mode.
	autopilot *autopilot.Engine
	mux       *http.ServeMux
	handler   http.Handler
	// spec is api/openapi.yaml compiled: it validates requests and says which operations are
	// partner-only.
	spec *openapi.Validator
	// getMsnFast is set when GET /management/v1/sales-units/{msn} has its fast path: route then
	// serves that route before the ServeMux matches it.
	getMsnFast bool
	// derivedUnits is the store, when it keeps GetMsn's answers with its cached units.
	derivedUnits derivedUnitStore

	maxHeaderBytes int
	faultMetric    *metrics.CounterVec
}

// Deps are the parts a Server is built from.
type Deps struct {
	Logger *slog.Logger
	// Lines, when set, receives the request log lines, formatted without slog's generic path;
	// Logger should then write to the same sink so that lines keep their order.
	Lines     *logsink.Sink
	Store     vippsmgmt.Store
	Clock     *clock.Clock
	Auth      Authenticator
	Hasher    KeyHasher
	AdminAuth func(http.Handler) http.Handler
	// Metrics receives the server's families and is what GET /metrics shows.
	Metrics *metrics.Registry
	Report  *report.Collector // the integration report; nil leaves it out
	// Faults injects the operator's fault rules; used only in sandbox mode, nil leaves them out.
	Faults *fault.Injector
	// Autopilot applies autopilot policies when the clock moves; used only in sandbox mode.
	Autopilot *autopilot.Engine
}

// NewServer returns the server with every route registered.
func NewServer(cfg Config, d Deps) (*Server, error) {
	s := &Server{
		cfg: cfg, logger: d.Logger, lines: d.Lines, store: d.Store, clock: d.Clock, auth: d.Auth, hasher: d.Hasher,
		admin: d.AdminAuth, metrics: newRequestMetrics(d.Metrics), requests: NewRequestLog(1000), report: d.Report,
		mux: http.NewServeMux(), maxHeaderBytes: cmp.Or(cfg.MaxHeaderBytes, DefaultMaxHeaderBytes),
		faultMetric: newFaultMetric(d.Metrics),
	}
	s.derivedUnits, _ = d.Store.(derivedUnitStore)
	if cfg.Sandbox {
		s.faults, s.autopilot = d.Faults, d.Autopilot
	}
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.Handle("GET /metrics", d.Metrics.Handler())
	s.mux.HandleFunc("/", s.handleUnmatched)
	s.auth.Routes(s.mux)
	if err := s.registerAPI(); err != nil {
		return nil, err
	}
	s.handler = s.observe(s.limitBody(s.authenticate(s.injectFaults(s.route(s.mux)))))
	return s, nil
}

// Mux exposes the route table so the portal can add its pages.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Requests is the log of recent API requests.
func (s *Server) Requests() *RequestLog { return s.requests }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// authenticate puts the Management API behind token authentication and the operator API behind
// the admin token, before routing, as the real gateway checks credentials first.
func (s *Server) authenticate(next http.Handler) http.Handler {
	management := s.auth.Middleware(noteCaller(next))
	admin := s.admin(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/management/"):
			management.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/admin/"):
			admin.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// route records the pattern the mux matched, for logs and metrics. The mux sets r.Pattern on the
// request it is given, so it is read after serving. A path that is not in canonical form (an
// empty segment, "." or "..") is answered as a problem here: the mux would redirect it with an
// HTML body, which an API client takes for an answer. Only the portal's pages, which browsers
// open, keep the redirect.
func (s *Server) route(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if msg := vippsmgmt.TextProblem(r.URL.Path, false); msg != "" {
			if err := vippsmgmt.Errorf(vippsmgmt.EINVALID, "path: %s.", msg); !s.portalError(w, r, err) {
				problem.Error(w, r, err)
			}
			return
		}
		if p := r.URL.Path; !canonicalPath(p) && !isPortalPath(p) {
			problem.Write(w, problem.New(r.Context(), http.StatusBadRequest, "invalid-request", "Invalid request",
				"The path "+strconv.Quote(clip(p))+" has an empty segment, '.' or '..'; a path variable may be unset."))
			return
		}
		x := exchangeFrom(r)
		if s.getMsnFast {
			// The most frequent read skips the mux's matching: routing tree, path unescaping and
			// the path values it allocates.
			if msn, ok := getMsnPath(r); ok {
				r.Pattern = routeGetMsn
				if s.serveGetMsn(w, r, msn) {
					if x != nil {
						x.route = routeGetMsn
					}
					return
				}
				r.Pattern = ""
			}
		}
		mux.ServeHTTP(w, r)
		if x != nil {
			x.route = r.Pattern
		}
	})
}

// canonicalPath reports whether p is what the mux serves without redirecting: rooted and clean,
// a trailing slash allowed.
func canonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	// Every segment follows a '/': without "//" and "/." there is no empty, "." or ".." segment,
	// and path.Clean, which copies, is needed only for the rest.
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return true
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// portalError answers err, found before the request reached its handler, with the portal's
// error page when r is for a portal page and the server has one (Config.PortalError), and
// reports whether it did.
func (s *Server) portalError(w http.ResponseWriter, r *http.Request, err error) bool {
	if s.cfg.PortalError == nil || !isPortalPath(r.URL.Path) {
		return false
	}
	s.cfg.PortalError(w, r, err)
	return true
}

func isPortalPath(p string) bool {
	return p == "/console" || strings.HasPrefix(p, "/console/") || strings.HasPrefix(p, "/register/") || strings.HasPrefix(p, "/static/")
}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// handleUnmatched answers 405 when the path exists for another method and 404 otherwise, both as
// problem+json (the mux's own answers are plain text).
func (s *Server) handleUnmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range methods {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		problem.Write(w, problem.New(r.Context(), http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
			r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+strings.Join(allow, ", ")+"."))
		return
	}
	problem.Write(w, problem.New(r.Context(), http.StatusNotFound, "not-found", "Not found", "No resource at "+r.URL.Path+"."))
}

// handleHealthz serves GET /healthz: the process is alive.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeHealth(w, http.StatusOK, `{"status":"ok"}`)
}

func writeHealth(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}

// handleReadyz serves GET /readyz: the database answers.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness check failed", "error", err)
		writeHealth(w, http.StatusServiceUnavailable, `{"status":"unavailable","error":"the database does not answer"}`)
		return
	}
	writeHealth(w, http.StatusOK, `{"status":"ok"}`)
}
