package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

const adminToken = "test-admin-token"

type shaHasher struct{}

func (shaHasher) Hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// env is a portal over a real SQLite store with a settable clock.
type env struct {
	t        *testing.T
	store    *sqlstore.DB
	clock    *storetest.Clock
	portal   *Portal
	mux      *http.ServeMux
	requests *httpapi.RequestLog

	mu        sync.Mutex
	forgotten []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := storetest.NewClock(storetest.Start)
	st := sqlitetest.Open(t, clk)
	e := &env{t: t, store: st, clock: clk, mux: http.NewServeMux(), requests: httpapi.NewRequestLog(httpapi.DefaultRequestLogRecords)}
	e.requests.Add(httpapi.RequestRecord{Time: storetest.Start, Caller: "partner acme", Method: "GET",
		Route: "GET /management/v1/sales-units", Path: "/management/v1/sales-units", Status: 200, LatencyMs: 1.5,
		SystemName: "acme-pos", SystemVersion: "2.1"})
	var err error
	e.portal, err = New(Deps{
		Store: st, Clock: clk, Hasher: shaHasher{}, AdminToken: adminToken, PublicURL: "http://example.test",
		Requests:  e.requests.Page,
		ForgetKey: func(id string) { e.mu.Lock(); e.forgotten = append(e.forgotten, id); e.mu.Unlock() },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.portal.Register(e.mux)
	e.seed()
	return e
}

const (
	partnerID      = "acme"
	pricePackageID = "8a11afb7-c223-48ed-8ca6-4722b97261aa"
)

var bi = vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "987654317"}

func ptr[T any](v T) *T { return &v }

func testPNG(t testing.TB) string {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, color.RGBA{255, 91, 36, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func (e *env) seed() {
	ctx := context.Background()
	must(e.t, e.store.UpsertPartner(ctx, &vippsmgmt.Partner{ID: partnerID, Name: "Acme Partner AS"}))
	must(e.t, e.store.UpsertPricePackage(ctx, &vippsmgmt.PricePackage{ID: pricePackageID, PartnerID: partnerID,
		Name: "Partner standard", Description: "1,49%"}))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// prefill stores a new prefilled order and returns its id.
func (e *env) prefill() string {
	e.t.Helper()
	o := &vippsmgmt.ProductOrder{
		Type: vippsmgmt.OrderPrefill, PartnerID: ptr(partnerID), BusinessIdentifier: bi,
		ProductType: "PAYMENT_INTEGRATION",
		Details: vippsmgmt.OrderDetails{
			SalesUnitName:         ptr("Acme Fitness"),
			SalesUnitLogo:         ptr(testPNG(e.t)),
			SettlementBankAccount: &vippsmgmt.BankAccount{Scheme: "BBAN:NO", ID: "12345678903"},
			PricePackageID:        ptr(pricePackageID),
			ProductUseCase:        ptr("Website"),
			AnnualTurnover:        ptr(int64(1000000)),
			IntendedPurpose:       ptr("Gym memberships"),
			Website:               &vippsmgmt.Website{URL: "https://acme.example", TermsURL: "https://acme.example/terms"},
			HasRecurring:          ptr(true),
			MerchantCategoryCode:  ptr("7997"),
		},
	}
	id, _, err := e.store.CreateProductOrder(context.Background(), o, nil)
	must(e.t, err)
	return id
}

func (e *env) order(id string) *vippsmgmt.ProductOrder {
	e.t.Helper()
	o, err := e.store.FindProductOrderByID(context.Background(), id)
	must(e.t, err)
	return o
}

type req struct {
	method, path string
	form         url.Values
	cookie       *http.Cookie
	header       http.Header
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range r.header {
		hr.Header[k] = v
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, hr)
	return w
}

func (e *env) get(path string, c *http.Cookie) (*httptest.ResponseRecorder, *node) {
	e.t.Helper()
	w := e.do(req{method: "GET", path: path, cookie: c})
	return w, parseHTML(e.t, w.Body.String())
}

func wantStatus(t testing.TB, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d\n%s", w.Code, want, w.Body.String())
	}
}

// orderForm opens the merchant's form of order id and reads the values it would submit.
// orderForm opens the order's form and returns what submitting it would send, with the legal name
// the form asks of a business not registered yet filled in, as the merchant must.
func (e *env) orderForm(id string) url.Values {
	e.t.Helper()
	_, doc := e.get("/register/prefilled/"+id, nil)
	v := formValues(doc.One(e.t, "form.order-form"))
	if v.Has("merchantName") && v.Get("merchantName") == "" {
		v.Set("merchantName", "Acme Fitness AS")
	}
	return v
}

// formValues reads the current values of a rendered form, like a browser would submit them.
func formValues(form *node) url.Values {
	v := url.Values{}
	for _, in := range form.Find("input") {
		switch in.Attr["type"] {
		case "file", "submit":
			continue
		}
		v.Set(in.Attr["name"], in.Attr["value"])
	}
	for _, ta := range form.Find("textarea") {
		v.Set(ta.Attr["name"], ta.text.String())
	}
	for _, s := range form.Find("select") {
		val := ""
		for i, o := range s.Find("option") {
			if i == 0 {
				val = o.Attr["value"]
			}
			if _, ok := o.Attr["selected"]; ok {
				val = o.Attr["value"]
			}
		}
		v.Set(s.Attr["name"], val)
	}
	return v
}

func TestPrefillForm(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()

	w, doc := e.get("/register/prefilled/"+id, nil)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	if got := e.order(id).Status; got != vippsmgmt.StatusMerchantViewed {
		t.Errorf("status after opening: got %s, want MERCHANT_VIEWED", got)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
		if w.Header().Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	body := w.Body.String()
	for _, want := range []string{"987654317", "Acme Partner AS", "Partner standard", "1,49%", "Payment integration"} {
		if !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
			t.Errorf("form does not show %q", want)
		}
	}
	if got := doc.One(t, "input[name=salesUnitName]").Attr["value"]; got != "Acme Fitness" {
		t.Errorf("salesUnitName: got %q", got)
	}
	if got := doc.One(t, "input[name=merchantCategoryCode]").Attr["value"]; got != "7997" {
		t.Errorf("merchantCategoryCode: got %q", got)
	}
	// The partner's price package is shown, never offered as a control.
	if n := len(doc.Find("[name=pricePackageId]")); n != 0 {
		t.Errorf("price package is editable (%d controls)", n)
	}
	img := doc.One(t, "figure.logo img")
	lw := e.do(req{method: "GET", path: img.Attr["src"]})
	wantStatus(t, lw, http.StatusOK)
	if ct := lw.Header().Get("Content-Type"); ct != "image/png" {
		t.Errorf("logo Content-Type %q", ct)
	}
	if !bytes.HasPrefix(lw.Body.Bytes(), []byte("\x89PNG")) {
		t.Errorf("logo is not a PNG")
	}

	// Opening it again changes nothing.
	w, _ = e.get("/register/prefilled/"+id, nil)
	wantStatus(t, w, http.StatusOK)
}

func TestPrefillSubmit(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	_, doc := e.get("/register/prefilled/"+id, nil)
	form := doc.One(t, "form.order-form")
	v := formValues(form)
	v.Set("salesUnitName", "Acme Fitness Oslo")
	v.Set("merchantName", "Acme Fitness AS")
	v.Set("pricePackageId", "00000000-0000-0000-0000-000000000000") // ignored: not the merchant's to change
	e.clock.Advance(time.Hour)
	w := e.do(req{method: "POST", path: form.Attr["action"], form: v})
	wantStatus(t, w, http.StatusOK)
	doc = parseHTML(t, w.Body.String())
	checkPage(t, doc)
	doc.One(t, "#receipt")
	o := e.order(id)
	if o.Status != vippsmgmt.StatusOrderSubmitted {
		t.Fatalf("status %s, want ORDER_SUBMITTED", o.Status)
	}
	if got := *o.Details.SalesUnitName; got != "Acme Fitness Oslo" {
		t.Errorf("salesUnitName %q", got)
	}
	if o.Details.PricePackageID == nil || *o.Details.PricePackageID != pricePackageID {
		t.Errorf("price package changed: %v", o.Details.PricePackageID)
	}
	if o.Details.SalesUnitLogo == nil || o.Details.HasRecurring == nil || !*o.Details.HasRecurring ||
		o.Details.Website == nil || *o.Details.AnnualTurnover != 1000000 {
		t.Errorf("details lost on submit: %+v", o.Details)
	}

	// A submitted order shows its status, read-only; submitting again is a conflict page.
	w, doc = e.get("/register/prefilled/"+id, nil)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	if n := len(doc.Find("form")); n != 0 {
		t.Errorf("submitted order still shows %d forms", n)
	}
	w = e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
	wantStatus(t, w, http.StatusConflict)
	checkPage(t, parseHTML(t, w.Body.String()))
}

func TestPrefillSubmitMultipartLogo(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	v := e.orderForm(id)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k := range v {
		must(t, mw.WriteField(k, v.Get(k)))
	}
	fw, err := mw.CreateFormFile("salesUnitLogo", "logo.png")
	must(t, err)
	_, _ = fw.Write([]byte("GIF89a not a png"))
	must(t, mw.Close())
	hr := httptest.NewRequest("POST", "/register/prefilled/"+id, &buf)
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, hr)
	wantStatus(t, w, http.StatusBadRequest)
	doc := parseHTML(t, w.Body.String())
	if got := doc.One(t, ".field.invalid #f-salesUnitLogo-error").Text(); !strings.Contains(got, "PNG") {
		t.Errorf("logo error %q", got)
	}
}

// TestPrefillFormRefusesWhatTheAPIRefuses: values a hand-made form post can carry that the
// contract does not allow are marked on their fields and nothing is stored.
func TestPrefillFormRefusesWhatTheAPIRefuses(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	v := e.orderForm(id)
	// Sent in Latin-1 by a hand-made client: refused as a whole, not read as UTF-8.
	latin1 := url.Values{}
	for k := range v {
		latin1.Set(k, v.Get(k))
	}
	latin1.Set("salesUnitName", "Gr\xc3\xb8nn Shop") // "GrÃ¸nn Shop" in Latin-1, "Grønn Shop" if read as UTF-8
	w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: latin1,
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=ISO-8859-1"}}})
	wantStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "UTF-8") {
		t.Errorf("a Latin-1 form: the page does not say it must be UTF-8:\n%s", w.Body.String())
	}
	if o := e.order(id); o.Status != vippsmgmt.StatusMerchantViewed {
		t.Fatalf("a Latin-1 form was stored: status %s, name %v", o.Status, o.Details.SalesUnitName)
	}

	v.Set("hasRecurring", "maybe")
	v.Set("salesUnitName", "Good\r\nShop")
	v.Set("settlementBankAccount.scheme", "IBAN:XX")
	v.Set("website.url", `https://shop.example/"><img src=x>`)
	v.Set("website.termsUrl", "https://shop.example/<terms>")
	w = e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
	wantStatus(t, w, http.StatusBadRequest)
	doc := parseHTML(t, w.Body.String())
	for _, name := range []string{"hasRecurring", "salesUnitName", "settlementBankAccount.scheme", "website.url", "website.termsUrl"} {
		fid := "f-" + strings.ReplaceAll(name, ".", "-")
		if len(doc.Find(".field.invalid #"+fid)) != 1 {
			t.Errorf("%s: not marked invalid", name)
		}
	}
	if o := e.order(id); o.Status != vippsmgmt.StatusMerchantViewed || o.Details.HasRecurring != nil && !*o.Details.HasRecurring {
		t.Errorf("after the refused submit: status %s, hasRecurring %v", o.Status, o.Details.HasRecurring)
	}
}

func TestPrefillFieldErrors(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	v := e.orderForm(id)
	v.Set("salesUnitName", "Acme!")
	v.Set("intendedPurpose", "<script>alert(1)</script>")
	v.Set("settlementBankAccount.id", "12")
	v.Set("website.url", "http://insecure.example")
	v.Set("annualTurnover", "lots")
	v.Set("merchantCategoryCode", "79")
	w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
	wantStatus(t, w, http.StatusBadRequest)
	doc := parseHTML(t, w.Body.String())
	checkPage(t, doc)
	doc.One(t, "p.alert")
	for _, name := range []string{"salesUnitName", "settlementBankAccount.id", "website.url", "annualTurnover", "merchantCategoryCode"} {
		fid := "f-" + strings.ReplaceAll(name, ".", "-")
		field := doc.One(t, ".field.invalid #"+fid).Parent
		if len(field.Find("p.error#"+fid+"-error")) != 1 {
			t.Errorf("%s: no error beside the field", name)
		}
		if field.One(t, "#"+fid).Attr["aria-invalid"] != "true" {
			t.Errorf("%s: not marked aria-invalid", name)
		}
	}
	if n := len(doc.Find(".field.invalid")); n != 5 {
		t.Errorf("%d invalid fields, want 5", n)
	}
	// The merchant's input is kept, escaped.
	if got := doc.One(t, "#f-salesUnitName").Attr["value"]; got != "Acme!" {
		t.Errorf("salesUnitName kept as %q", got)
	}
	if got := doc.One(t, "#f-intendedPurpose").Text(); got != "<script>alert(1)</script>" {
		t.Errorf("intendedPurpose kept as %q", got)
	}
	if strings.Contains(w.Body.String(), "<script>") {
		t.Errorf("input is not escaped")
	}
	if got := e.order(id).Status; got != vippsmgmt.StatusMerchantViewed {
		t.Errorf("status %s after an invalid submit", got)
	}
}

func TestPrefillCSRF(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	v := e.orderForm(id)

	tests := []struct {
		name   string
		form   url.Values
		header http.Header
	}{
		{"cross-site fetch", v, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"foreign origin", v, http.Header{"Origin": {"https://evil.example"}}},
		{"no token", without(v, csrfField), nil},
		{"token of another order", with(v, csrfField, e.portal.formToken("prefill:"+e.prefill())), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: tt.form, header: tt.header})
			wantStatus(t, w, http.StatusForbidden)
			checkPage(t, parseHTML(t, w.Body.String()))
		})
	}
	if got := e.order(id).Status; got != vippsmgmt.StatusMerchantViewed {
		t.Errorf("status %s after forged posts", got)
	}
	// Same-origin browser posts pass.
	w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v, header: http.Header{"Sec-Fetch-Site": {"same-origin"}}})
	wantStatus(t, w, http.StatusOK)
}

func without(v url.Values, k string) url.Values {
	c := url.Values{}
	for kk, vv := range v {
		if kk != k {
			c[kk] = vv
		}
	}
	return c
}

func with(v url.Values, k, val string) url.Values {
	c := without(v, k)
	c.Set(k, val)
	return c
}

func TestPrefillExpiredUnknownDeleted(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	gone := e.prefill()
	v := e.orderForm(id)
	must(t, e.store.DeleteProductOrder(context.Background(), partnerID, gone))

	for _, path := range []string{"/register/prefilled/" + gone, "/register/prefilled/no-such-order", "/register/nothing"} {
		w, doc := e.get(path, nil)
		wantStatus(t, w, http.StatusNotFound)
		checkPage(t, doc)
	}

	e.clock.Advance(vippsmgmt.PrefillLifetime)
	w, doc := e.get("/register/prefilled/"+id, nil)
	wantStatus(t, w, http.StatusGone)
	checkPage(t, doc)
	if !strings.Contains(doc.One(t, "h1").Text(), "expired") {
		t.Errorf("h1 %q", doc.One(t, "h1").Text())
	}
	w = e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
	wantStatus(t, w, http.StatusGone)
	w = e.do(req{method: "GET", path: "/register/prefilled/" + id + "/logo.png"})
	wantStatus(t, w, http.StatusGone)
}

// login signs in and returns the session cookie.
// newConsole is newEnv with the operator signed in to the console: c is the session cookie.
func newConsole(t *testing.T) (e *env, c *http.Cookie) {
	t.Helper()
	e = newEnv(t)
	return e, e.login()
}

func (e *env) login() *http.Cookie {
	e.t.Helper()
	_, doc := e.get("/console/login", nil)
	v := formValues(doc.One(e.t, "form"))
	v.Set("token", adminToken)
	w := e.do(req{method: "POST", path: "/console/login", form: v})
	wantStatus(e.t, w, http.StatusSeeOther)
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	e.t.Fatal("no session cookie")
	return nil
}

func TestConsoleLogin(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{method: "GET", path: "/console"})
	wantStatus(t, w, http.StatusSeeOther)
	if loc := w.Header().Get("Location"); loc != "/console/login" {
		t.Errorf("redirect to %q", loc)
	}

	w, doc := e.get("/console/login", nil)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	if doc.One(t, "input[name=token]").Attr["type"] != "password" {
		t.Errorf("token field is not a password field")
	}
	v := formValues(doc.One(t, "form"))
	v.Set("token", "wrong")
	w = e.do(req{method: "POST", path: "/console/login", form: v})
	wantStatus(t, w, http.StatusUnauthorized)
	doc = parseHTML(t, w.Body.String())
	checkPage(t, doc)
	doc.One(t, "p.alert")
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("wrong token set a cookie")
	}

	c := e.login()
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure {
		t.Errorf("cookie flags: HttpOnly=%v SameSite=%v Secure=%v", c.HttpOnly, c.SameSite, c.Secure)
	}
	if c.MaxAge <= 0 {
		t.Errorf("cookie has no expiry")
	}
	w, doc = e.get("/console", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)

	// A tampered cookie is no session.
	bad := *c
	last := "A"
	if strings.HasSuffix(bad.Value, last) {
		last = "B"
	}
	bad.Value = bad.Value[:len(bad.Value)-1] + last
	w = e.do(req{method: "GET", path: "/console", cookie: &bad})
	wantStatus(t, w, http.StatusSeeOther)

	// Logging out needs the form token, then ends the session even for a kept copy of the cookie.
	w = e.do(req{method: "POST", path: "/console/logout", cookie: c, form: url.Values{}})
	wantStatus(t, w, http.StatusForbidden)
	logout := doc.One(t, "form.logout")
	w = e.do(req{method: "POST", path: "/console/logout", cookie: c, form: formValues(logout)})
	wantStatus(t, w, http.StatusSeeOther)
	w = e.do(req{method: "GET", path: "/console", cookie: c})
	wantStatus(t, w, http.StatusSeeOther)
}

func TestConsoleSecureCookie(t *testing.T) {
	e := newEnv(t)
	_, doc := e.get("/console/login", nil)
	v := formValues(doc.One(t, "form"))
	v.Set("token", adminToken)
	hr := httptest.NewRequest("POST", "https://example.test/console/login", strings.NewReader(v.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, hr)
	wantStatus(t, w, http.StatusSeeOther)
	if c := w.Result().Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookie over TLS is not Secure: %+v", c)
	}
}

func TestConsolePagesRequireSession(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/console", "/console/orders/x", "/console/outbox", "/console/requests", "/console/partners",
		"/console/partners/acme", "/console/merchants", "/console/sales-units", "/console/price-packages", "/console/nothing"} {
		w := e.do(req{method: "GET", path: p})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/login" {
			t.Errorf("GET %s: %d %q, want 303 to the login page", p, w.Code, w.Header().Get("Location"))
		}
	}
	w := e.do(req{method: "POST", path: "/console/partners", form: url.Values{"partnerId": {"x"}, "name": {"X"}}})
	wantStatus(t, w, http.StatusSeeOther)
}

func TestConsoleApprove(t *testing.T) {
	e, c := newConsole(t)
	id := e.prefill()
	// Submitted as it stands, as the autopilot does and as orders were before the form asked a new
	// business for its name: the operator must name the merchant.
	_, err := e.store.StepProductOrder(context.Background(), id, vippsmgmt.StepSubmit, nil, "")
	must(t, err)

	w, doc := e.get("/console", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	link := doc.Find("table")[0].One(t, "a[href=/console/orders/"+id+"]")
	w, doc = e.get(link.Attr["href"], c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	for _, want := range []string{"Acme Fitness", "12345678903", "https://acme.example/terms", "Gym memberships", "7997", "Partner standard"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("order page does not show %q", want)
		}
	}
	wantStatus(t, e.do(req{method: "GET", path: "/console/orders/" + id + "/logo.png", cookie: c}), http.StatusOK)
	approve := doc.One(t, "form.approve")
	v := formValues(approve)

	// Without a CSRF token: refused.
	w = e.do(req{method: "POST", path: approve.Attr["action"], cookie: c, form: without(v, csrfField)})
	wantStatus(t, w, http.StatusForbidden)
	// The merchant is unknown, so a name is required: an invalid request, shown on the page.
	w = e.do(req{method: "POST", path: approve.Attr["action"], cookie: c, form: v})
	wantStatus(t, w, http.StatusBadRequest)
	doc = parseHTML(t, w.Body.String())
	checkPage(t, doc)
	if !strings.Contains(doc.One(t, "p.alert").Text(), "merchantName") {
		t.Errorf("alert %q", doc.One(t, "p.alert").Text())
	}

	v.Set("merchantName", "Acme Fitness AS")
	w = e.do(req{method: "POST", path: approve.Attr["action"], cookie: c, form: v})
	wantStatus(t, w, http.StatusSeeOther)
	o := e.order(id)
	if o.Status != vippsmgmt.StatusCompleted || o.SalesUnit == nil || o.SalesUnit.Name != "Acme Fitness" {
		t.Fatalf("after approve: %s %+v", o.Status, o.SalesUnit)
	}
	w, doc = e.get(w.Header().Get("Location"), c)
	wantStatus(t, w, http.StatusOK)
	doc.One(t, "p.flash")
	if len(doc.Find("form.approve")) != 0 {
		t.Errorf("decided order still offers approval")
	}

	// Approving again is a conflict, shown as a message.
	w = e.do(req{method: "POST", path: approve.Attr["action"], cookie: c, form: v})
	wantStatus(t, w, http.StatusConflict)
	checkPage(t, parseHTML(t, w.Body.String()))

	w, doc = e.get("/console/outbox", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	if n := len(doc.Find("table.outbox tbody tr")); n != 2 {
		t.Errorf("outbox has %d rows, want 2", n)
	}
}

func TestConsoleApproveTakenMSNAndReject(t *testing.T) {
	e, c := newConsole(t)
	ctx := context.Background()
	must(t, e.store.UpsertMerchant(ctx, &vippsmgmt.Merchant{BusinessIdentifier: bi, Name: "Acme Fitness AS",
		Status: vippsmgmt.MerchantActive, CountryCode: "NO"}))
	must(t, e.store.UpsertSalesUnit(ctx, &vippsmgmt.SalesUnit{MSN: "123456", Name: "Taken", Status: vippsmgmt.SalesUnitActive, Merchant: bi}))
	id := e.prefill()
	_, err := e.store.StepProductOrder(ctx, id, vippsmgmt.StepSubmit, nil, "")
	must(t, err)

	_, doc := e.get("/console/orders/"+id, c)
	if len(doc.Find("#merchantName")) != 0 {
		t.Errorf("known merchant: name field shown")
	}
	v := formValues(doc.One(t, "form.approve"))
	v.Set("msn", "123456")
	w := e.do(req{method: "POST", path: "/console/orders/" + id + "/approve", cookie: c, form: v})
	wantStatus(t, w, http.StatusConflict)
	doc = parseHTML(t, w.Body.String())
	if got := doc.One(t, "#msn").Attr["value"]; got != "123456" {
		t.Errorf("typed MSN not kept: %q", got)
	}

	rv := formValues(doc.One(t, "form.reject"))
	rv.Set("reason", "Incomplete KYC")
	w = e.do(req{method: "POST", path: "/console/orders/" + id + "/reject", cookie: c, form: rv})
	wantStatus(t, w, http.StatusSeeOther)
	if o := e.order(id); o.Status != vippsmgmt.StatusRejected || o.RejectionReason != "Incomplete KYC" {
		t.Errorf("after reject: %s %q", o.Status, o.RejectionReason)
	}
	w = e.do(req{method: "POST", path: "/console/orders/" + id + "/reject", cookie: c, form: rv})
	wantStatus(t, w, http.StatusConflict)
	w = e.do(req{method: "POST", path: "/console/orders/nope/reject", cookie: c, form: rv})
	wantStatus(t, w, http.StatusNotFound)
}

func TestConsolePartnersAndKeys(t *testing.T) {
	e, c := newConsole(t)
	w, doc := e.get("/console/partners?q=acme", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	doc.One(t, "a[href=/console/partners/acme]")
	_, doc = e.get("/console/partners?q=zzz", c)
	if len(doc.Find("table")) != 0 {
		t.Errorf("search for zzz lists partners")
	}

	v := formValues(doc.One(t, "form[action=/console/partners]"))
	v.Set("partnerId", "newco")
	v.Set("name", "NewCo AS")
	w = e.do(req{method: "POST", path: "/console/partners", cookie: c, form: v})
	wantStatus(t, w, http.StatusSeeOther)
	w = e.do(req{method: "POST", path: "/console/partners", cookie: c, form: v})
	wantStatus(t, w, http.StatusConflict)
	v.Set("partnerId", "bad id!")
	w = e.do(req{method: "POST", path: "/console/partners", cookie: c, form: v})
	wantStatus(t, w, http.StatusBadRequest)

	// Renaming to nothing is refused on the partner's page and changes nothing.
	rn := url.Values{csrfField: {v.Get(csrfField)}, "name": {"  "}}
	w = e.do(req{method: "POST", path: "/console/partners/newco", cookie: c, form: rn})
	wantStatus(t, w, http.StatusBadRequest)
	if pa, err := e.store.FindPartnerByID(context.Background(), "newco"); err != nil || pa.Name != "NewCo AS" {
		t.Errorf("after a refused rename: %+v, %v", pa, err)
	}
	rn.Set("name", "NewCo Renamed AS")
	w = e.do(req{method: "POST", path: "/console/partners/newco", cookie: c, form: rn})
	wantStatus(t, w, http.StatusSeeOther)
	if pa, err := e.store.FindPartnerByID(context.Background(), "newco"); err != nil || pa.Name != "NewCo Renamed AS" {
		t.Errorf("after a rename: %+v, %v", pa, err)
	}
	w = e.do(req{method: "POST", path: "/console/partners/nobody", cookie: c, form: rn})
	wantStatus(t, w, http.StatusNotFound)

	w, doc = e.get("/console/partners/newco", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	kv := formValues(doc.One(t, "form[action=/console/partners/newco/keys]"))
	kv.Set("clientId", "newco-client")
	w = e.do(req{method: "POST", path: "/console/partners/newco/keys", cookie: c, form: kv})
	wantStatus(t, w, http.StatusOK)
	doc = parseHTML(t, w.Body.String())
	checkPage(t, doc)
	issued := doc.One(t, "#issued")
	if !strings.Contains(issued.Text(), "newco-client") || len(issued.Find("code")) != 3 {
		t.Errorf("issued key set not shown: %q", issued.Text())
	}
	k, err := e.store.FindAPIKeyByClientID(context.Background(), "newco-client")
	must(t, err)
	secret := issued.Find("code")[1].Text()
	if !bytes.Equal(k.SecretHash, shaHasher{}.Hash(secret)) {
		t.Errorf("shown secret does not match the stored hash")
	}
	// Shown once: the partner page does not show it again.
	w, doc = e.get("/console/partners/newco", c)
	if strings.Contains(w.Body.String(), secret) {
		t.Errorf("secret shown again")
	}
	rv := formValues(doc.One(t, "form[action=/console/keys/newco-client/revoke]"))
	w = e.do(req{method: "POST", path: "/console/keys/newco-client/revoke", cookie: c, form: rv})
	wantStatus(t, w, http.StatusSeeOther)
	if k, _ := e.store.FindAPIKeyByClientID(context.Background(), "newco-client"); !k.Revoked {
		t.Errorf("key not revoked")
	}
	if len(e.forgotten) != 1 || e.forgotten[0] != "newco-client" {
		t.Errorf("ForgetKey calls: %v", e.forgotten)
	}
	w = e.do(req{method: "POST", path: "/console/keys/unknown/revoke", cookie: c, form: rv})
	wantStatus(t, w, http.StatusNotFound)
}

func TestConsoleMerchantsSalesUnitsPricePackages(t *testing.T) {
	e, c := newConsole(t)
	_, doc := e.get("/console/merchants", c)
	checkPage(t, doc)
	v := formValues(doc.One(t, "form[action=/console/merchants]"))
	v.Set("id", "987654317")
	v.Set("name", "Acme Fitness AS")
	wantStatus(t, e.do(req{method: "POST", path: "/console/merchants", cookie: c, form: v}), http.StatusSeeOther)
	wantStatus(t, e.do(req{method: "POST", path: "/console/merchants", cookie: c, form: v}), http.StatusConflict)
	v.Set("id", "x")
	wantStatus(t, e.do(req{method: "POST", path: "/console/merchants", cookie: c, form: v}), http.StatusBadRequest)
	// A wrong check digit: the form comes back with the number as typed and says what is wrong.
	for scheme, id := range map[string]string{"business:NO:ORG": "987654318", "business:DK:CVR": "24256791", "business:FI:Y-tunnus": "0112038-8"} {
		v.Set("scheme", scheme)
		v.Set("id", id)
		w := e.do(req{method: "POST", path: "/console/merchants", cookie: c, form: v})
		wantStatus(t, w, http.StatusBadRequest)
		doc := parseHTML(t, w.Body.String())
		if got := doc.One(t, "p.alert").Text(); !strings.Contains(got, "businessIdentifier.id") || !strings.Contains(got, "check digit") {
			t.Errorf("%s %s: alert %q", scheme, id, got)
		}
		if got := doc.One(t, "form[action=/console/merchants] #id").Attr["value"]; got != id {
			t.Errorf("%s %s: the form keeps %q", scheme, id, got)
		}
		if _, err := e.store.FindMerchant(context.Background(), vippsmgmt.BusinessIdentifier{Scheme: scheme, ID: id}); vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
			t.Errorf("%s %s stored (%v)", scheme, id, err)
		}
	}
	v.Set("scheme", "business:NO:ORG")

	w, doc := e.get("/console/merchants?q=acme", c)
	wantStatus(t, w, http.StatusOK)
	sv := formValues(doc.One(t, "form[action=/console/merchants/status]"))
	if sv.Get("status") != vippsmgmt.MerchantDeactivated {
		t.Fatalf("status form: %v", sv)
	}
	wantStatus(t, e.do(req{method: "POST", path: "/console/merchants/status", cookie: c, form: sv}), http.StatusSeeOther)
	if m, _ := e.store.FindMerchant(context.Background(), bi); m.Status != vippsmgmt.MerchantDeactivated {
		t.Errorf("merchant status %s", m.Status)
	}

	must(t, e.store.UpsertSalesUnit(context.Background(), &vippsmgmt.SalesUnit{MSN: "223344", Name: "Acme Gym",
		Status: vippsmgmt.SalesUnitActive, Merchant: bi}))
	w, doc = e.get("/console/sales-units?q=Gym", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	w, doc = e.get(doc.One(t, "a[href=/console/sales-units/223344]").Attr["href"], c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	uv := formValues(doc.One(t, "form[action=/console/sales-units/223344]"))
	uv.Set("status", "INACTIVE")
	uv.Set("partnerId", partnerID)
	uv.Set("recurringAllowed", "true")
	uv.Set("captureType", vippsmgmt.CaptureDirect)
	wantStatus(t, e.do(req{method: "POST", path: "/console/sales-units/223344", cookie: c, form: uv}), http.StatusSeeOther)
	su, err := e.store.FindSalesUnitByMSN(context.Background(), "223344")
	must(t, err)
	if su.Status != "INACTIVE" || su.PartnerID == nil || *su.PartnerID != partnerID || su.Configuration == nil ||
		su.Configuration.RecurringAllowed == nil || !*su.Configuration.RecurringAllowed || *su.Configuration.CaptureType != vippsmgmt.CaptureDirect {
		t.Errorf("sales unit after update: %+v %+v", su, su.Configuration)
	}
	uv.Set("partnerId", "")
	uv.Set("name", "")
	wantStatus(t, e.do(req{method: "POST", path: "/console/sales-units/223344", cookie: c, form: uv}), http.StatusBadRequest)
	uv.Set("name", "Acme Gym")
	wantStatus(t, e.do(req{method: "POST", path: "/console/sales-units/223344", cookie: c, form: uv}), http.StatusSeeOther)
	if su, _ := e.store.FindSalesUnitByMSN(context.Background(), "223344"); su.PartnerID != nil {
		t.Errorf("partner not disconnected")
	}
	w = e.do(req{method: "POST", path: "/console/sales-units/223344/keys", cookie: c, form: url.Values{csrfField: {uv.Get(csrfField)}}})
	wantStatus(t, w, http.StatusOK)
	if n := len(parseHTML(t, w.Body.String()).One(t, "#issued").Find("code")); n != 3 {
		t.Errorf("merchant key set shows %d values, want 3", n)
	}

	w, doc = e.get("/console/price-packages", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	pv := formValues(doc.One(t, "form[action=/console/price-packages]"))
	pv.Set("name", "Gym special")
	pv.Set("description", "0,99%")
	pv.Set("market", "NO")
	wantStatus(t, e.do(req{method: "POST", path: "/console/price-packages", cookie: c, form: pv}), http.StatusSeeOther)
	pps, err := e.store.FindPricePackages(context.Background(), vippsmgmt.PricePackageFilter{PartnerID: partnerID})
	must(t, err)
	if len(pps) != 2 {
		t.Errorf("%d price packages, want 2", len(pps))
	}
	pv.Set("description", "far too long")
	w = e.do(req{method: "POST", path: "/console/price-packages", cookie: c, form: pv})
	wantStatus(t, w, http.StatusBadRequest)
	if got := parseHTML(t, w.Body.String()).One(t, "#name").Attr["value"]; got != "Gym special" {
		t.Errorf("form not kept: %q", got)
	}
}

func TestConsoleRequestsAndNotFound(t *testing.T) {
	e, c := newConsole(t)
	w, doc := e.get("/console/requests", c)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, doc)
	for _, want := range []string{"partner acme", "GET /management/v1/sales-units", "acme-pos"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("request log does not show %q", want)
		}
	}
	for _, p := range []string{"/console/orders/nope", "/console/partners/nope", "/console/sales-units/0000", "/console/nothing"} {
		w, doc := e.get(p, c)
		wantStatus(t, w, http.StatusNotFound)
		checkPage(t, doc)
	}
	w = e.do(req{method: "GET", path: "/static/style.css"})
	wantStatus(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("style Content-Type %q", ct)
	}
}

// TestConsoleLoginThrottlesGuessing: past the guard's budget of wrong tokens, sign-in answers 429
// with Retry-After and a readable page; the right token still signs in from that address.
func TestConsoleLoginThrottlesGuessing(t *testing.T) {
	e := newEnv(t)
	_, doc := e.get("/console/login", nil)
	v := formValues(doc.One(t, "form"))
	v.Set("token", "wrong")
	var w *httptest.ResponseRecorder
	for range 100 {
		if w = e.do(req{method: "POST", path: "/console/login", form: v}); w.Code == http.StatusTooManyRequests {
			break
		}
		wantStatus(t, w, http.StatusUnauthorized)
	}
	wantStatus(t, w, http.StatusTooManyRequests)
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	checkPage(t, parseHTML(t, w.Body.String()))
	v.Set("token", adminToken)
	wantStatus(t, e.do(req{method: "POST", path: "/console/login", form: v}), http.StatusSeeOther)
}

// TestPrefillLinkPreviewsDoNotCountAsViewing: HEAD requests, browser prefetches and link-preview
// bots leave the order RECEIVED; the merchant's own visit moves it to MERCHANT_VIEWED.
func TestPrefillLinkPreviewsDoNotCountAsViewing(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	path := "/register/prefilled/" + id
	for _, r := range []req{
		{method: "HEAD", path: path},
		{method: "GET", path: path, header: http.Header{"Sec-Purpose": {"prefetch;prerender"}}},
		{method: "GET", path: path, header: http.Header{"Purpose": {"prefetch"}}},
		{method: "GET", path: path, header: http.Header{"User-Agent": {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}}},
		{method: "GET", path: path, header: http.Header{"User-Agent": {"facebookexternalhit/1.1"}}},
		{method: "GET", path: path, header: http.Header{"User-Agent": {"WhatsApp/2.23.20.0"}}},
	} {
		w := e.do(r)
		wantStatus(t, w, http.StatusOK)
		if got := e.order(id).Status; got != vippsmgmt.StatusReceived {
			t.Fatalf("%s %v: status %s, want RECEIVED", r.method, r.header, got)
		}
	}
	e.do(req{method: "GET", path: path, header: http.Header{"User-Agent": {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"}}})
	if got := e.order(id).Status; got != vippsmgmt.StatusMerchantViewed {
		t.Fatalf("after the merchant's visit: status %s", got)
	}
}

// TestDecidedOrderLinkShowsTheOutcomeOnly: once approved or rejected, the link shows the outcome
// and nothing the merchant entered (the test website password least of all), and no logo.
func TestDecidedOrderLinkShowsTheOutcomeOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, decide := range []string{"approve", "reject"} {
		id := e.prefill()
		v := e.orderForm(id)
		v.Set("website.testWebsiteUrl", "https://test.acme.example")
		v.Set("website.testWebsiteUsername", "reviewer")
		v.Set("website.testWebsitePassword", "s3cret-Passw0rd")
		wantStatus(t, e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v}), http.StatusOK)
		// Before the decision the read-only page keeps the details but not the password.
		w, _ := e.get("/register/prefilled/"+id, nil)
		if body := w.Body.String(); strings.Contains(body, "s3cret-Passw0rd") || !strings.Contains(body, "Gym memberships") {
			t.Fatalf("submitted order page: password shown or details missing")
		}
		if decide == "approve" {
			_, _, err := e.store.ApproveProductOrder(ctx, id, vippsmgmt.Approval{MerchantName: "Acme Fitness AS"})
			must(t, err)
		} else {
			_, err := e.store.StepProductOrder(ctx, id, vippsmgmt.StepReject, nil, "not a real business")
			must(t, err)
		}
		w, _ = e.get("/register/prefilled/"+id, nil)
		wantStatus(t, w, http.StatusOK)
		body := w.Body.String()
		for _, secret := range []string{"s3cret-Passw0rd", "reviewer", "Gym memberships", "12345678903", "acme.example/terms", "logo.png"} {
			if strings.Contains(body, secret) {
				t.Errorf("%sd order's link shows %q", decide, secret)
			}
		}
		if w := e.do(req{method: "GET", path: "/register/prefilled/" + id + "/logo.png"}); w.Code != http.StatusGone {
			t.Errorf("%sd order's logo: status %d, want 410", decide, w.Code)
		}
	}
}
