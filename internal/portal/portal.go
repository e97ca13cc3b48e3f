package portal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/auth"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
	"github.com/vippsmgmt/vippsmgmt/internal/fault"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// Deps are what the portal is built from.
type Deps struct {
	Store      vippsmgmt.Store
	Clock      vippsmgmt.Clock
	Hasher     credentials.Hasher
	AdminToken string // signs in to the console; the session and form keys are derived from it
	// AdminGuard checks sign-in attempts; share the operator API's so guesses count together.
	// Default: a guard of its own for AdminToken.
	AdminGuard *auth.AdminGuard
	PublicURL  string                                       // the server's public base URL; https here makes cookies Secure
	Requests   func(vippsmgmt.Page) []httpapi.RequestRecord // a page of the request log (RequestLog.Page)
	ForgetKey  func(clientID string)                        // drops a revoked key from the auth cache
	Report     Reporter                                     // the integration report; nil hides its page
	Faults     *fault.Injector                              // the sandbox's fault rules; nil hides the scenario page
	Logger     *slog.Logger
}

// Portal serves the merchant pages and the operator console.
type Portal struct {
	store     vippsmgmt.Store
	clock     vippsmgmt.Clock
	hasher    credentials.Hasher
	requests  func(vippsmgmt.Page) []httpapi.RequestRecord
	forgetKey func(clientID string)
	reporter  Reporter
	faults    *fault.Injector
	logger    *slog.Logger

	guard *auth.AdminGuard
	// tokenFingerprint identifies the admin token sessions are issued under: a new token ends them.
	tokenFingerprint []byte
	formKey          []byte
	secureURL        bool
	cop              *http.CrossOriginProtection
	pages            map[string]func() (*template.Template, error)
}

// New checks d and lists the page templates (each is parsed when first shown).
func New(d Deps) (*Portal, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("portal: a store is required")
	case d.Clock == nil:
		return nil, errors.New("portal: a clock is required")
	case d.Hasher == nil:
		return nil, errors.New("portal: a hasher is required")
	case d.AdminToken == "":
		return nil, errors.New("portal: an admin token is required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Requests == nil {
		d.Requests = func(vippsmgmt.Page) []httpapi.RequestRecord { return nil }
	}
	if d.ForgetKey == nil {
		d.ForgetKey = func(string) {}
	}
	p := &Portal{
		store: d.Store, clock: d.Clock, hasher: d.Hasher, requests: d.Requests, forgetKey: d.ForgetKey,
		reporter: d.Report, faults: d.Faults, logger: d.Logger,
		guard:            d.AdminGuard,
		tokenFingerprint: deriveKey(d.AdminToken, "vippsmgmt console session v2"),
		formKey:          deriveKey(d.AdminToken, "vippsmgmt form token v1"),
		secureURL:        strings.HasPrefix(strings.ToLower(d.PublicURL), "https://"),
		cop:              http.NewCrossOriginProtection(),
	}
	if p.guard == nil {
		p.guard = auth.NewAdminGuard(d.AdminToken)
	}
	// Behind a proxy that rewrites Host, the browser's Origin is the public URL.
	if u, err := url.Parse(d.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		if err := p.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("portal: public URL: %w", err)
		}
	}
	p.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.renderMessage(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site, so it was not accepted. Open the page again and submit it from there.")
	}))
	var err error
	if p.pages, err = pageTemplates(); err != nil {
		return nil, err
	}
	return p, nil
}

// Register adds the portal's routes to mux. Every route goes through the cross-origin check.
func (p *Portal) Register(mux *http.ServeMux) {
	h := func(pattern string, f http.HandlerFunc) { mux.Handle(pattern, p.cop.Handler(p.headers(f))) }
	c := func(pattern string, f consoleHandler) { h(pattern, p.console(f)) }
	page := func(pattern string, f formPage) { c(pattern, f.serve) }

	h("GET /static/style.css", p.handleStyle)
	h("GET /{$}", p.handleLanding)

	h("GET /register/prefilled/{productOrderId}", p.handlePrefill)
	h("POST /register/prefilled/{productOrderId}", p.handlePrefillSubmit)
	h("GET /register/prefilled/{productOrderId}/logo.png", p.handlePrefillLogo)
	h("/register/", p.handleNotFound)

	h("GET /console/login", p.handleLogin)
	h("POST /console/login", p.handleLoginSubmit)
	c("POST /console/logout", p.handleLogout)
	c("GET /console", p.handleQueue)
	c("GET /console/{$}", func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
	})
	page("GET /console/orders/{id}", p.showOrder)
	c("GET /console/orders/{id}/logo.png", p.handleOrderLogo)
	c("POST /console/orders/{id}/approve", p.handleApprove)
	c("POST /console/orders/{id}/reject", p.handleReject)
	c("GET /console/outbox", p.handleOutbox)
	c("GET /console/requests", p.handleRequests)
	c("GET /console/report", p.handleReport)
	c("POST /console/report/reset", p.handleReportReset)
	c("GET /console/scenarios", p.handleScenarios)
	c("POST /console/faults", p.handleFaultCreate)
	c("POST /console/faults/{id}/delete", p.handleFaultDelete)
	c("POST /console/autopilot", p.handleAutopilotSet)
	c("POST /console/autopilot/delete", p.handleAutopilotDelete)
	page("GET /console/partners", p.showPartners)
	c("POST /console/partners", p.handlePartnerCreate)
	c("GET /console/partners/{id}", p.handlePartner)
	c("POST /console/partners/{id}", p.handlePartnerRename)
	c("POST /console/partners/{id}/keys", p.handlePartnerKeyIssue)
	c("POST /console/keys/{clientId}/revoke", p.handleKeyRevoke)
	page("GET /console/merchants", p.showMerchants)
	c("POST /console/merchants", p.handleMerchantCreate)
	c("POST /console/merchants/status", p.handleMerchantStatus)
	c("GET /console/sales-units", p.handleSalesUnits)
	c("GET /console/sales-units/{msn}", p.handleSalesUnit)
	c("POST /console/sales-units/{msn}", p.handleSalesUnitUpdate)
	c("POST /console/sales-units/{msn}/keys", p.handleSalesUnitKeyIssue)
	page("GET /console/price-packages", p.showPricePackages)
	c("POST /console/price-packages", p.handlePricePackageCreate)
	c("/console/", func(w http.ResponseWriter, r *http.Request, _ *session) { p.handleNotFound(w, r) })
}

// headers sets what every portal response shares: no caching of order data or secrets, no
// framing, no referrer (prefill links are capabilities) and a policy that allows no scripts.
func (p *Portal) headers(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next(w, r)
	}
}

// handleStyle serves GET /static/style.css.
func (p *Portal) handleStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(styleCSS)
}

// handleNotFound answers unknown portal paths with an HTML page rather than the API's problem+json.
func (p *Portal) handleNotFound(w http.ResponseWriter, r *http.Request) {
	p.renderMessage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

// ErrorPage answers a request for a portal page that the server refused before it reached the
// portal (httpapi.Config.PortalError): a body over the server's limit (*http.MaxBytesError) as
// the forms' own 413 page, headers over its bound as a 431 page, a domain error (a path that is
// not valid text) as a page with its status and message, anything else as a 500 page.
func (p *Portal) ErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	p.headers(func(w http.ResponseWriter, r *http.Request) {
		var tooLarge *http.MaxBytesError
		var headers *httpapi.HeaderTooLargeError
		switch {
		case errors.As(err, &tooLarge):
			p.formReadFailed(w, r, err)
		case errors.As(err, &headers):
			// Browsers send a host's cookies to every port of it, so other local servers' cookies
			// are the likely cause.
			p.renderMessage(w, r, http.StatusRequestHeaderFieldsTooLarge, "Request too large",
				"The request's headers are larger than the "+strconv.Itoa(headers.Limit)+
					" bytes this server accepts. Clear this site's cookies (other local servers' count too) and open the page again.")
		case isDomain(err):
			status := problem.Status(vippsmgmt.ErrorCode(err))
			title := http.StatusText(status)
			if status == http.StatusBadRequest {
				title = "Bad request" // as the forms' own 400 pages
			}
			p.renderMessage(w, r, status, title, errorText(err))
		default:
			p.serverError(w, r, err)
		}
	})(w, r)
}

// view is what every page template receives.
type view struct {
	Title   string
	Console bool   // shows the console navigation
	Sandbox bool   // shows the sandbox's scenario page in it
	Report  bool   // shows the integration report page in it
	Nav     string // the active console section
	CSRF    string
	Flash   string
	Error   string
	Data    any
}

var funcs = template.FuncMap{
	"fid": func(name string) string { return "f-" + strings.ReplaceAll(name, ".", "-") },
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"yesno": func(b *bool) string {
		switch {
		case b == nil:
			return "not set"
		case *b:
			return "yes"
		}
		return "no"
	},
	"statusClass": func(s string) string { return "status-" + strings.ToLower(strings.ReplaceAll(s, "_", "-")) },
	"human":       human,
	"list":        func(s ...string) []string { return s },
	"keysView": func(keys []*vippsmgmt.APIKey, csrf string) any {
		return struct {
			Keys []*vippsmgmt.APIKey
			CSRF string
		}{keys, csrf}
	},
}

// pageTemplates maps each page to its template, parsed together with the shared layout when the
// page is first shown: parsing all of them at start-up took a third of the start-up's CPU and
// 2 MB of memory, mostly for console pages a run may never show. The templates are embedded, so a
// test parsing every page (TestEveryPageParses) catches a broken one before it ships.
func pageTemplates() (map[string]func() (*template.Template, error), error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]func() (*template.Template, error){}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		pages[strings.TrimSuffix(base, ".html")] = sync.OnceValues(func() (*template.Template, error) {
			t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
			if err != nil {
				return nil, fmt.Errorf("portal: parse %s: %w", n, err)
			}
			return t, nil
		})
	}
	return pages, nil
}

// render executes page into a buffer first, so a template error becomes a clean 500, and sends
// it as valid UTF-8 without control characters.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	parse, ok := p.pages[page]
	if !ok {
		p.serverError(w, r, fmt.Errorf("no template %q", page))
		return
	}
	t, err := parse()
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.serverError(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	b := buf.Bytes()
	if !utf8.Valid(b) || bytes.IndexFunc(b, controlChar) >= 0 {
		// A form sent back with the bytes it was refused for (not UTF-8, control characters)
		// would make the page itself invalid HTML; the field shows U+FFFD where they were.
		b = bytes.Map(func(c rune) rune {
			if controlChar(c) {
				return utf8.RuneError
			}
			return c // Map turns bytes that are not UTF-8 into utf8.RuneError itself
		}, b)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// controlChar reports whether c is a control character HTML does not allow in a page: C0 but
// tab, line feed, form feed and carriage return; DEL; C1.
func controlChar(c rune) bool {
	return (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') || (c >= 0x7f && c <= 0x9f)
}

type message struct {
	Text string
}

// renderMessage shows a page with a heading and one paragraph.
func (p *Portal) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	p.render(w, r, status, "message", view{Title: title, Data: message{Text: text}})
}

// serverError logs the cause and shows a generic page; causes never reach the browser.
func (p *Portal) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if problem.ClientGone(r.Context(), err) {
		w.WriteHeader(problem.StatusClientClosedRequest)
		return
	}
	p.logger.ErrorContext(r.Context(), "portal error", "method", r.Method, "path", r.URL.Path, "error", err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = fmt.Fprint(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Something went wrong</title><link rel="stylesheet" href="/static/style.css"></head><body><main><h1>Something went wrong</h1><p>The page could not be shown. Please try again later.</p></main></body></html>`)
}

// isDomain reports whether err is one the page can explain to its user.
func isDomain(err error) bool {
	c := vippsmgmt.ErrorCode(err)
	return c != "" && c != vippsmgmt.EINTERNAL
}

// errorText is the user-facing text of a domain error, with its field problems.
func errorText(err error) string {
	var e *vippsmgmt.Error
	if errors.As(err, &e) && len(e.Fields) > 1 {
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			parts[i] = f.Field + ": " + f.Problem
		}
		return strings.Join(parts, "; ")
	}
	return vippsmgmt.ErrorMessage(err)
}
