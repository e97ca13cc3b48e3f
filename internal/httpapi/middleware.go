package httpapi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/logsink"
	"github.com/vippsmgmt/vippsmgmt/internal/metrics"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
)

// DefaultMaxHeaderBytes is the default bound on a request's header bytes (request line, header
// names and values): larger requests are answered 431 as a problem.
const DefaultMaxHeaderBytes = 32 << 10

// MaxClientString is the most bytes of any client-chosen string (the Vipps-System-* headers, the
// path, the method, a client id) that a log line or the request log keeps. Longer values are cut
// and end in "…".
const MaxClientString = 128

// clip makes a client-chosen string fit for a log line or record: at most MaxClientString bytes,
// valid UTF-8, without control characters.
func clip(s string) string {
	if len(s) > MaxClientString {
		return clipSlow(s)
	}
	// Every request clips several strings, nearly always printable ASCII: one pass over the
	// bytes decides those; anything else takes the full check.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return clipSlow(s)
		}
	}
	return s
}

func clipSlow(s string) string {
	clean := len(s) <= MaxClientString && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f })
	if clean {
		return s
	}
	s = strings.ToValidUTF8(s, "\ufffd")
	var b strings.Builder
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			c = '\ufffd'
		}
		if b.Len()+utf8.RuneLen(c) > MaxClientString-len("…") {
			b.WriteString("…")
			return b.String()
		}
		b.WriteRune(c)
	}
	return b.String()
}

// requestIDPattern is what an X-Request-Id from a client must look like to be kept and echoed:
// 1 to 64 letters, digits, '.', '_', ':' or '-'. Anything else is replaced by a generated UUID.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// metricMethod is the method label of a request: the standard methods as they are, every other
// string one value, so clients cannot mint series.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// headerBytes counts a request's header as it came over the wire: request line and fields.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// exchange is what the outer middleware learns from the inner layers of one request: the matched
// route and the caller. Inner layers get it from the context and fill it in.
type exchange struct {
	route  string
	caller string
	// For the integration report: the prefill body's hash, and whether the answer was an injected
	// fault rather than the caller's doing.
	prefillHash  uint64
	prefillOrder string
	injected     bool
	fault        string // the fault rule that answered, if one did
}

type exchangeKey struct{}

func exchangeFrom(r *http.Request) *exchange {
	x, _ := r.Context().Value(exchangeKey{}).(*exchange)
	return x
}

// statusWriter remembers the status for logs and metrics. It keeps http.Flusher working, which
// the streaming sales-unit list relies on.
type statusWriter struct {
	http.ResponseWriter
	status int
	// errBody keeps the start of a 4xx answer, which names the problem in the integration report.
	errBody []byte
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 && w.status < 500 && len(w.errBody) < report.MaxErrorBody {
		w.errBody = append(w.errBody, b[:min(len(b), report.MaxErrorBody-len(w.errBody))]...)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type requestMetrics struct {
	requests *metrics.CounterVec
	duration *metrics.HistogramVec

	mu     sync.RWMutex
	series map[metricKey]*metricSeries
	// last is the series the request before used: traffic mostly repeats a route, whose series
	// is then found without hashing its labels or taking the lock.
	last atomic.Pointer[metricSeries]
}

type metricKey struct {
	method, route string
	status        int
}

type metricSeries struct {
	key      metricKey
	requests *metrics.Counter
	duration *metrics.Histogram
}

// maxMetricSeries bounds the series kept by observeRequest; odd methods past it are still counted.
const maxMetricSeries = 1000

// observeRequest counts a request and records its latency. With joins and hashes the labels on
// each call; the few method, route and status combinations a server sees are looked up once.
func (m *requestMetrics) observeRequest(method, route string, status int, elapsed time.Duration) {
	k := metricKey{method, route, status}
	s := m.last.Load()
	if s == nil || s.key != k {
		m.mu.RLock()
		s = m.series[k]
		m.mu.RUnlock()
		if s == nil {
			s = &metricSeries{
				key:      k,
				requests: m.requests.With(method, route, strconv.Itoa(status)),
				duration: m.duration.With(method, route),
			}
			m.mu.Lock()
			if len(m.series) < maxMetricSeries {
				m.series[k] = s
			}
			m.mu.Unlock()
		}
		m.last.Store(s)
	}
	s.requests.Inc()
	s.duration.Observe(elapsed.Seconds())
}

func newRequestMetrics(reg *metrics.Registry) *requestMetrics {
	return &requestMetrics{
		series: map[metricKey]*metricSeries{},
		requests: reg.NewCounterVec("vippsmgmt_http_requests_total", "HTTP requests by method, route and status.",
			"method", "route", "status"),
		duration: reg.NewHistogramVec("vippsmgmt_http_request_duration_seconds", "HTTP request latency by method and route.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}, "method", "route"),
	}
}

// observe is the outermost layer: request id, panic recovery, one log line, metrics and the
// request log. Everything about a request that is not the API itself happens here, once.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// The context, the writer, the exchange, the caller, a new request id and the answer's
		// X-Request-Id header in one allocation.
		st := &requestState{sw: statusWriter{ResponseWriter: w}}
		id := header(r.Header, "X-Request-Id")
		if !validRequestID(id) {
			fillRequestID(&st.newID)
			// The bytes are never written again, and st lives as long as the string.
			id = unsafe.String(&st.newID[0], len(st.newID))
		}
		st.idHeader[0] = id
		st.ctx = requestContext{Context: r.Context(), st: st}
		sw, x := &st.sw, &st.x
		ctx := context.Context(&st.ctx)
		r = routedTokenPath(r.WithContext(ctx))
		w.Header()["X-Request-Id"] = st.idHeader[:]

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					problem.Write(sw, problem.FromError(ctx, errors.New("panic")))
				}
			}
			sys := systemHeadersOf(r.Header)
			s.finish(r, sw.status, x, start, &sys)
			s.observeForReport(r, sw, x, start, &sys)
		}()
		if headerBytes(r) > s.maxHeaderBytes {
			if s.portalError(sw, r, &HeaderTooLargeError{Limit: s.maxHeaderBytes}) {
				return
			}
			problem.Write(sw, problem.New(ctx, http.StatusRequestHeaderFieldsTooLarge, "request-header-fields-too-large",
				"Request header fields too large", fmt.Sprintf("The request line and headers are larger than %d bytes.", s.maxHeaderBytes)))
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// HeaderTooLargeError is what Config.PortalError is given for a request whose line and headers
// are over the server's bound (Config.MaxHeaderBytes).
type HeaderTooLargeError struct {
	Limit int // the bound, in bytes
}

func (e *HeaderTooLargeError) Error() string {
	return fmt.Sprintf("request line and headers larger than %d bytes", e.Limit)
}

// fillRequestID writes a new request id into b: a random (version 4) UUID. Request ids need to be
// unique, not secret, so the runtime's per-thread generator serves instead of the operating
// system's.
func fillRequestID(b *[36]byte) {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hexDigits = "0123456789abcdef"
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
}

// requestState is what observe keeps about one request.
type requestState struct {
	ctx      requestContext
	sw       statusWriter
	x        exchange
	caller   vippsmgmt.CallerSlot
	idHeader [1]string
	newID    [36]byte // the request id, when the server made it
}

// requestContext is a request's context: it carries the request id, the exchange and a slot for
// the caller itself, where context.WithValue would take an allocation for each.
type requestContext struct {
	context.Context
	st *requestState
}

// RequestID makes problem.RequestID read the id without Value's boxing.
func (c *requestContext) RequestID() string { return c.st.idHeader[0] }

func (c *requestContext) Value(key any) any {
	if _, ok := key.(exchangeKey); ok {
		return &c.st.x
	}
	if key == problem.RequestIDKey {
		return c.st.idHeader[0]
	}
	if v, ok := c.st.caller.Value(key); ok {
		return v
	}
	return c.Context.Value(key)
}

// header returns the first value of a header by its canonical name: http.Header.Get would
// canonicalise the name again on every call.
func header(h http.Header, canonicalName string) string {
	if v := h[canonicalName]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// The request line's keys, made once.
var (
	keyMethod, keyRoute, keyStatus, keyDuration = logsink.NewKey("method"), logsink.NewKey("route"), logsink.NewKey("status"), logsink.NewKey("duration")
	keyRequestID, keyCaller                     = logsink.NewKey("request_id"), logsink.NewKey("caller")
	keySystemName, keySystemVersion             = logsink.NewKey("system_name"), logsink.NewKey("system_version")
)

// systemHeaders are the Vipps-System-* headers of a request, read once for the log, the request
// log and the integration report.
type systemHeaders struct {
	name, version, pluginName, pluginVersion string
}

func systemHeadersOf(h http.Header) systemHeaders {
	return systemHeaders{
		name: header(h, "Vipps-System-Name"), version: header(h, "Vipps-System-Version"),
		pluginName: header(h, "Vipps-System-Plugin-Name"), pluginVersion: header(h, "Vipps-System-Plugin-Version"),
	}
}

func (s *Server) finish(r *http.Request, status int, x *exchange, start time.Time, sys *systemHeaders) {
	if status == 0 {
		status = http.StatusOK
	}
	now := time.Now()
	elapsed := now.Sub(start)
	route := x.route
	if route == "" {
		// Answered before routing (a missing token): name the route the request was for.
		_, route = s.mux.Handler(r)
	}
	unmatched := route == "" || route == "/"
	if unmatched {
		route = "unmatched"
	}
	s.metrics.observeRequest(metricMethod(r.Method), route, status, elapsed)
	id := problem.RequestID(r.Context())
	token := isTokenPath(r.URL.Path)
	if x.caller == "" && token {
		x.caller = s.tokenClient(r, status)
	}
	method, caller := clip(r.Method), clip(x.caller)
	systemName, systemVersion := clip(sys.name), clip(sys.version)
	if s.lines != nil {
		s.lines.Append(now, "request", func(l *logsink.Line) {
			l.KeyString(keyMethod, method)
			l.KeyString(keyRoute, route)
			l.KeyInt(keyStatus, status)
			l.KeyDuration(keyDuration, elapsed)
			l.KeyString(keyRequestID, id)
			l.KeyString(keyCaller, caller)
			l.KeyString(keySystemName, systemName)
			l.KeyString(keySystemVersion, systemVersion)
			if x.injected {
				l.Bool("injected", true)
				l.String("fault_rule", x.fault)
			}
			if unmatched {
				l.String("path", loggedPath(r.URL.Path))
			}
		})
	} else {
		attrs := []slog.Attr{
			slog.String("method", method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.String("request_id", id),
			slog.String("caller", caller),
			slog.String("system_name", systemName),
			slog.String("system_version", systemVersion),
		}
		if x.injected {
			attrs = append(attrs, slog.Bool("injected", true), slog.String("fault_rule", x.fault))
		}
		if unmatched {
			// The pattern of a matched route says it all; a path no route knows is what the
			// operator needs to see what was mistyped.
			attrs = append(attrs, slog.String("path", loggedPath(r.URL.Path)))
		}
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	}
	if token || strings.HasPrefix(r.URL.Path, "/management/") {
		s.requests.Add(RequestRecord{
			Time: start.UTC(), RequestID: id, Caller: caller, Method: method, Route: route,
			Path: clip(r.URL.Path), Status: status, LatencyMs: float64(elapsed.Microseconds()) / 1000,
			SystemName: systemName, SystemVersion: systemVersion,
			PluginName: clip(sys.pluginName), PluginVersion: clip(sys.pluginVersion),
			Injected: x.injected, FaultRule: x.fault,
		})
	}
}

// tokenClient names the client id a token request presented (never its secret), so the request
// log shows whose token calls failed. The value is named only once it is known to be a client id:
// people swap the client_id and client_secret headers or the halves of Basic credentials, and an
// unregistered value may well be a secret.
func (s *Server) tokenClient(r *http.Request, status int) string {
	id := r.Header.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok && id == "" {
		id = user
	}
	if id == "" {
		return ""
	}
	if len(id) > 100 || (status != http.StatusOK && !s.registeredClient(r.Context(), id)) {
		return "client:(unregistered)"
	}
	return "client:" + strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, id)
}

// registeredClient reports whether a key set has the client id. A 200 already proves it, so only
// failed token requests pay for the lookup.
func (s *Server) registeredClient(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_, err := s.store.FindAPIKeyByClientID(ctx, id)
	return err == nil
}

// maxLoggedPath bounds the path an unmatched request adds to its log line.
const maxLoggedPath = 200

// loggedPath is a request path fit for a log line: no query (URL.Path never has one), no control
// characters, at most maxLoggedPath bytes and then marked as cut.
func loggedPath(p string) string {
	p = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, p)
	if len(p) <= maxLoggedPath {
		return p
	}
	cut := maxLoggedPath
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}

func isTokenPath(p string) bool {
	return strings.EqualFold(p, accessTokenPath) || p == "/miami/v1/token"
}

// accessTokenPath is the standard flow's token path. The contract matches it in any case, as
// official guides spell it both /accesstoken/get and /accessToken/get.
const accessTokenPath = "/accesstoken/get"

// routedTokenPath returns r, a request of its caller's own, with the path accessTokenPath when its
// path is that in a case the ServeMux, which matches case-sensitively, has no route for; every
// layer after it (fault rules, routing, logs) then sees the token endpoint.
func routedTokenPath(r *http.Request) *http.Request {
	p := r.URL.Path
	if len(p) != len(accessTokenPath) || p == accessTokenPath || p == "/accessToken/get" || r.URL.RawPath != "" ||
		!strings.EqualFold(p, accessTokenPath) {
		return r
	}
	u := *r.URL
	u.Path = accessTokenPath
	r.URL = &u
	return r
}

// limitBody refuses bodies over openapi.MaxBodyBytes: at once when Content-Length says so, otherwise
// when reading crosses the limit (the decoders and the portal's forms turn *http.MaxBytesError
// into 413).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > openapi.MaxBodyBytes {
			if isTokenPath(r.URL.Path) {
				// Every answer of the token endpoints has their contract's content type and an
				// OAuth-style error body, as their own 413 for an oversized form has.
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = fmt.Fprintf(w, `{"error":"invalid_request","error_description":"The request body is larger than %d bytes."}`+"\n", openapi.MaxBodyBytes)
				return
			}
			if !s.portalError(w, r, &http.MaxBytesError{Limit: openapi.MaxBodyBytes}) {
				problem.Write(w, tooLarge(r))
			}
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, openapi.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(r *http.Request) problem.Detail {
	return problem.New(r.Context(), http.StatusRequestEntityTooLarge, "payload-too-large", "Payload too large",
		fmt.Sprintf("The request body is larger than %d bytes.", openapi.MaxBodyBytes))
}

// noteCaller copies the authenticated caller into the exchange for the log lines.
func noteCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := vippsmgmt.CallerFromContext(r.Context()); ok {
			if x := exchangeFrom(r); x != nil {
				x.caller = c.LogLabel()
			}
		}
		next.ServeHTTP(w, r)
	})
}
