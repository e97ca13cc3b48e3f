package portal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/app"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

const (
	chromiumPath  = "/usr/bin/chromium"
	browserAdmin  = "browser-test-admin-token"
	actionTimeout = 20 * time.Second
)

// server is a complete vippsmgmt, assembled like `vippsmgmt serve`, on a loopback port.
type server struct {
	URL string
	App *app.App
}

func startServer(t testing.TB) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	a, err := app.New(context.Background(), app.Config{
		DB: "sqlite:" + filepath.Join(t.TempDir(), "db"), Demo: true, AdminToken: browserAdmin, PublicURL: base,
		Sandbox: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		a.Close()
	})
	return &server{URL: base, App: a}
}

// call sends one API request and decodes a JSON answer into out (when not nil).
func (s *server) call(t testing.TB, method, path string, body any, out any, headers ...string) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// partner is the demo partner calling the Management API with its keys.
type partner struct {
	s     *server
	token string
}

func (s *server) partner(t testing.TB) *partner {
	t.Helper()
	k := fixtures.DemoPartnerKeys
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if st := s.call(t, "POST", "/accesstoken/get", nil, &tok, "client_id", k.ClientID, "client_secret", k.ClientSecret,
		"Ocp-Apim-Subscription-Key", k.SubscriptionKey); st != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("access token: status %d", st)
	}
	return &partner{s: s, token: tok.AccessToken}
}

func (p *partner) call(t testing.TB, method, path string, body, out any, headers ...string) int {
	t.Helper()
	h := append([]string{"Authorization", "Bearer " + p.token, "Ocp-Apim-Subscription-Key", fixtures.DemoPartnerKeys.SubscriptionKey,
		"Vipps-System-Name", "portal-browser-test", "Vipps-System-Version", "1.0"}, headers...)
	return p.s.call(t, method, path, body, out, h...)
}

func logoPNG(t testing.TB) string {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := range 64 {
		for y := range 64 {
			c := color.RGBA{255, 91, 36, 255}
			if (x-32)*(x-32)+(y-32)*(y-32) < 300 {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// prefill creates a prefilled order through the Management API and returns its id and link.
func (p *partner) prefill(t testing.TB, businessID string) (id, link string) {
	t.Helper()
	body := map[string]any{
		"businessIdentifier":    map[string]string{"scheme": "business:NO:ORG", "id": businessID},
		"productType":           "PAYMENT_INTEGRATION",
		"salesUnitName":         "Kiosk Cafe",
		"salesUnitLogo":         logoPNG(t),
		"settlementBankAccount": map[string]string{"scheme": "BBAN:NO", "id": "12345678903"},
		"pricePackageId":        "8a11afb7-c223-48ed-8ca6-4722b97261aa",
		"productUseCase":        "Website",
		"website":               map[string]string{"url": "https://kiosk.example", "termsUrl": "https://kiosk.example/terms"},
		"annualTurnover":        2500000,
		"intendedPurpose":       "Coffee, pastries and sandwiches sold over the counter and online.",
		"hasRecurring":          false,
		"merchantCategoryCode":  "5814",
	}
	var out struct {
		PrefillURL string `json:"prefillUrl"`
		ID         string `json:"prefilledOrderId"`
	}
	if st := p.call(t, "POST", "/management/v1/product-orders", body, &out, "Idempotency-Key", "key-"+businessID); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("create prefill: status %d", st)
	}
	if !strings.HasPrefix(out.PrefillURL, p.s.URL+"/register/prefilled/") {
		t.Fatalf("prefillUrl %q is not served here", out.PrefillURL)
	}
	return out.ID, out.PrefillURL
}

// browser is a headless Chromium tab; every action is bounded by actionTimeout.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need Chromium at %s: %v", chromiumPath, err)
		}
		t.Skipf("Chromium not found at %s; install it (apt-get install chromium) to run the browser tests", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	// The whole browser lives at most a minute, whatever happens to a single action.
	root, cancelRoot := context.WithTimeout(context.Background(), time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelRoot() })
	b := &browser{t: t, ctx: ctx}
	// Starting the browser on the long-lived context keeps it alive across bounded actions.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

// fail saves a screenshot in the test's temp dir and stops the test, naming the file.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s (no screenshot: %v)", msg, err)
	}
	path := filepath.Join(b.t.TempDir(), strings.NewReplacer("/", "_", " ", "_").Replace(b.t.Name())+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("%s (screenshot not saved: %v)", msg, err)
	}
	b.t.Fatalf("%s\nscreenshot: %s", msg, path)
}

// do runs steps within actionTimeout.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// load runs steps that load a page (navigation, a form submission) and returns the final status.
func (b *browser) load(what string, steps ...chromedp.Action[chromedp.Void]) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		b.fail("%s: %v", what, err)
	}
	if resp == nil {
		b.fail("%s: no response", what)
	}
	return int(resp.Status)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		b.fail("count %s: %v", sel, err)
	}
	return len(nodes)
}

func (b *browser) location() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fail("location: %v", err)
	}
	return loc
}

// signIn signs in to the console with token and returns the status of the answer.
func (b *browser) signIn(base, token string) int {
	b.t.Helper()
	if st := b.load("open the sign-in page", chromedp.Navigate(base+"/console/login")); st != http.StatusOK {
		b.fail("sign-in page: status %d", st)
	}
	b.do("type the token", chromedp.SendKeys(chromedp.ID("token"), token))
	return b.load("sign in", chromedp.Click(chromedp.ID("signin")))
}

func order(t testing.TB, s *server, id string) *vippsmgmt.ProductOrder {
	t.Helper()
	o, err := s.App.Store.FindProductOrderByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestBrowserPrefillToApproval follows one order from the partner's API call through the
// merchant's form and the operator's approval back to the partner.
func TestBrowserPrefillToApproval(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	p := s.partner(t)
	id, link := p.prefill(t, "999888798")

	// The merchant opens the link, corrects the sales unit name and submits.
	if st := b.load("open the prefill link", chromedp.Navigate(link)); st != http.StatusOK {
		b.fail("prefill link: status %d", st)
	}
	if h1 := b.text("h1"); h1 != "Review your order" {
		b.fail("h1 %q", h1)
	}
	if got := order(t, s, id).Status; got != vippsmgmt.StatusMerchantViewed {
		b.fail("after opening: status %s", got)
	}
	summary := b.text("section.card")
	for _, want := range []string{"999888798", "ACME", "Standard"} {
		if !strings.Contains(strings.ToLower(summary), strings.ToLower(want)) {
			b.fail("summary does not show %q: %q", want, summary)
		}
	}
	b.do("logo loads", chromedp.WaitVisible(chromedp.CSS(`figure.logo img`)))
	if n := b.count(`[name="pricePackageId"]`); n != 0 {
		b.fail("the partner's price package is editable")
	}
	b.do("correct the sales unit name and give the new business's legal name",
		chromedp.Clear(chromedp.ID("f-salesUnitName")),
		chromedp.SendKeys(chromedp.ID("f-salesUnitName"), "Kiosk Café Bryggen"),
		chromedp.SendKeys(chromedp.ID("f-merchantName"), "Kiosk Café AS"))
	if st := b.load("submit the order", chromedp.Click(chromedp.ID("submit"))); st != http.StatusOK {
		b.fail("submit: status %d", st)
	}
	if r := b.text("#receipt"); !strings.Contains(r, "submitted") {
		b.fail("receipt %q", r)
	}
	if o := order(t, s, id); o.Status != vippsmgmt.StatusOrderSubmitted || *o.Details.SalesUnitName != "Kiosk Café Bryggen" {
		b.fail("after submit: %s %q", o.Status, *o.Details.SalesUnitName)
	}

	// A wrong admin token is refused; the right one opens the queue.
	if st := b.signIn(s.URL, "not-the-token"); st != http.StatusUnauthorized {
		b.fail("wrong token: status %d, want 401", st)
	}
	if a := b.text("p.alert"); !strings.Contains(a, "not correct") {
		b.fail("wrong token message %q", a)
	}
	if st := b.signIn(s.URL, browserAdmin); st != http.StatusOK {
		b.fail("sign in: status %d", st)
	}
	if loc := b.location(); loc != s.URL+"/console" {
		b.fail("after sign-in at %s", loc)
	}
	row := fmt.Sprintf(`table a[href="/console/orders/%s"]`, id)
	if n := b.count(row); n == 0 {
		b.fail("the queue does not list the order")
	}
	if st := b.load("open the order", chromedp.Click(chromedp.CSS(row))); st != http.StatusOK {
		b.fail("order page: status %d", st)
	}
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	offered, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("merchantName")))
	cancel()
	if err != nil || offered != "Kiosk Café AS" {
		b.fail("approval offers merchant name %q (%v), want the one the merchant gave", offered, err)
	}
	if st := b.load("approve", chromedp.Click(chromedp.ID("approve"))); st != http.StatusOK {
		b.fail("approve: status %d", st)
	}
	if f := b.text("p.flash"); !strings.Contains(f, "approved") {
		b.fail("flash %q", f)
	}

	// The partner sees the result.
	var details struct {
		Status    string `json:"status"`
		SalesUnit *struct {
			MSN  string `json:"msn"`
			Name string `json:"name"`
		} `json:"salesUnit"`
	}
	if st := p.call(t, "GET", "/management/v2/product-orders/"+id+"/details", nil, &details); st != http.StatusOK {
		t.Fatalf("details: status %d", st)
	}
	if details.Status != vippsmgmt.StatusCompleted || details.SalesUnit == nil || !vippsmgmt.ValidMSN(details.SalesUnit.MSN) ||
		details.SalesUnit.Name != "Kiosk Café Bryggen" {
		t.Fatalf("details after approval: %+v %+v", details, details.SalesUnit)
	}

	// Both notifications are in the outbox.
	if st := b.load("open the outbox", chromedp.Navigate(s.URL+"/console/outbox")); st != http.StatusOK {
		b.fail("outbox: status %d", st)
	}
	rows := fmt.Sprintf(`table.outbox a[href="/console/orders/%s"]`, id)
	if n := b.count(rows); n != 2 {
		b.fail("outbox lists %d notifications of the order, want 2", n)
	}
	if txt := b.text("table.outbox"); !strings.Contains(txt, "partner") || !strings.Contains(txt, "merchant") ||
		!strings.Contains(txt, details.SalesUnit.MSN) {
		b.fail("outbox rows: %q", txt)
	}
	// The request log shows the partner's calls without secrets.
	if st := b.load("open the request log", chromedp.Navigate(s.URL+"/console/requests")); st != http.StatusOK {
		b.fail("requests: status %d", st)
	}
	if txt := b.text("main"); !strings.Contains(txt, "portal-browser-test") || strings.Contains(txt, p.token[:20]) {
		b.fail("request log: %q", txt)
	}
}

// TestBrowserExpiredLink opens a prefill link after the sandbox clock passed its lifetime.
func TestBrowserExpiredLink(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	_, link := s.partner(t).prefill(t, "999888755")
	var adv map[string]any
	if st := s.call(t, "POST", "/admin/v1/clock", map[string]string{"advance": "337h"}, &adv,
		"Authorization", "Bearer "+browserAdmin); st != http.StatusOK {
		t.Fatalf("advance clock: status %d %v", st, adv)
	}
	if st := b.load("open the expired link", chromedp.Navigate(link)); st != http.StatusGone {
		b.fail("expired link: status %d, want 410", st)
	}
	if h1 := b.text("h1"); !strings.Contains(h1, "expired") {
		b.fail("h1 %q", h1)
	}
	if n := b.count("form"); n != 0 {
		b.fail("an expired link shows %d forms", n)
	}
	if st := b.load("open an unknown link", chromedp.Navigate(s.URL+"/register/prefilled/00000000-0000-0000-0000-000000000000")); st != http.StatusNotFound {
		b.fail("unknown link: status %d, want 404", st)
	}
}

// TestBrowserCrossSitePost submits the merchant form from a page on another site. Both a forged
// and a genuine token are refused: the browser marks the request cross-site.
func TestBrowserCrossSitePost(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	id, link := s.partner(t).prefill(t, "999888801")

	// The genuine token, read as only the merchant's own browser could.
	if st := b.load("open the prefill link", chromedp.Navigate(link)); st != http.StatusOK {
		b.fail("prefill link: status %d", st)
	}
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	token, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="csrf"]`)))
	cancel()
	if err != nil || token == "" {
		b.fail("read token: %q %v", token, err)
	}

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := "forged"
		if r.URL.Query().Get("real") == "1" {
			tok = token
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Win a prize</title><h1>Win a prize</h1>
<form method="post" action="%s"><input type="hidden" name="csrf" value="%s">
<input type="hidden" name="salesUnitName" value="Hijacked"><button id="go" type="submit">Claim</button></form>`, link, tok)
	}))
	defer evil.Close()
	// localhost is another site than 127.0.0.1, as a stranger's domain would be.
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	for _, q := range []string{"?real=0", "?real=1"} {
		if st := b.load("open the other site", chromedp.Navigate(evilURL+"/"+q)); st != http.StatusOK {
			b.fail("other site: status %d", st)
		}
		if st := b.load("post from the other site", chromedp.Click(chromedp.ID("go"))); st != http.StatusForbidden {
			b.fail("cross-site post %s: status %d, want 403", q, st)
		}
		if h1 := b.text("h1"); h1 != "Request refused" {
			b.fail("h1 %q", h1)
		}
	}
	if o := order(t, s, id); o.Status != vippsmgmt.StatusMerchantViewed || *o.Details.SalesUnitName != "Kiosk Cafe" {
		t.Fatalf("the order changed: %s %q", o.Status, *o.Details.SalesUnitName)
	}
}
