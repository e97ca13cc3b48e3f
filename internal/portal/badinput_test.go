package portal

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vippsmgmt/vippsmgmt"
)

// TestConsoleYesNoSelectsRefuseOtherValues sends values the yes/no selects do not offer: the form
// comes back with a 400 naming the field, as the operator API refuses a non-boolean, and nothing
// is stored (a sales unit's flag is not cleared, no price package is created as not visible).
func TestConsoleYesNoSelectsRefuseOtherValues(t *testing.T) {
	e, c := newConsole(t)
	ctx := context.Background()
	must(t, e.store.UpsertMerchant(ctx, &vippsmgmt.Merchant{BusinessIdentifier: bi, Name: "Acme Fitness AS",
		Status: vippsmgmt.MerchantActive, CountryCode: "NO"}))
	must(t, e.store.UpsertSalesUnit(ctx, &vippsmgmt.SalesUnit{MSN: "223344", Name: "Acme Gym", Status: vippsmgmt.SalesUnitActive,
		Merchant: bi, Configuration: &vippsmgmt.Configuration{RecurringAllowed: ptr(true)}}))

	_, doc := e.get("/console/sales-units/223344", c)
	uv := formValues(doc.One(t, "form[action=/console/sales-units/223344]"))
	uv.Set("recurringAllowed", "yes")
	w := e.do(req{method: "POST", path: "/console/sales-units/223344", cookie: c, form: uv})
	wantStatus(t, w, http.StatusBadRequest)
	if got := parseHTML(t, w.Body.String()).One(t, "p.alert").Text(); !strings.Contains(got, "configuration.recurringAllowed: must be true or false") {
		t.Errorf("alert %q", got)
	}
	su, err := e.store.FindSalesUnitByMSN(ctx, "223344")
	must(t, err)
	if su.Configuration == nil || su.Configuration.RecurringAllowed == nil || !*su.Configuration.RecurringAllowed {
		t.Errorf("recurringAllowed changed: %+v", su.Configuration)
	}

	_, doc = e.get("/console/price-packages", c)
	pv := formValues(doc.One(t, "form[action=/console/price-packages]"))
	pv.Set("name", "Gym special")
	pv.Set("description", "0,99%")
	pv.Set("visibleInSignupForm", "maybe")
	w = e.do(req{method: "POST", path: "/console/price-packages", cookie: c, form: pv})
	wantStatus(t, w, http.StatusBadRequest)
	if got := parseHTML(t, w.Body.String()).One(t, "p.alert").Text(); !strings.Contains(got, "visibleInSignupForm: must be true or false") {
		t.Errorf("alert %q", got)
	}
	pps, err := e.store.FindPricePackages(ctx, vippsmgmt.PricePackageFilter{PartnerID: partnerID})
	must(t, err)
	if len(pps) != 1 {
		t.Errorf("%d price packages, want only the seeded one", len(pps))
	}
}

// TestFormWithARepeatedFieldIsRefused sends forms that repeat a field, which no page's form does:
// each is refused with a 400 page naming the field and changes nothing, rather than acting on
// the field's first value.
func TestFormWithARepeatedFieldIsRefused(t *testing.T) {
	e, c := newConsole(t)
	id := e.prefill()
	merchant := e.orderForm(id)
	merchant["salesUnitName"] = []string{"Acme Gym", "Other Name"}

	decided := e.prefill()
	_, err := e.store.StepProductOrder(context.Background(), decided, vippsmgmt.StepSubmit, nil, "")
	must(t, err)
	_, doc := e.get("/console/orders/"+decided, c)
	reject := formValues(doc.One(t, "form.reject"))
	reject["reason"] = []string{"Incomplete KYC", "Fine after all"}

	for _, tc := range []struct {
		name, field string
		do          func() *httptest.ResponseRecorder
	}{
		{"merchant form", "salesUnitName", func() *httptest.ResponseRecorder {
			return e.do(req{method: "POST", path: "/register/prefilled/" + id, form: merchant})
		}},
		{"merchant form, two logos", "salesUnitLogo", func() *httptest.ResponseRecorder {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			for k, v := range e.orderForm(id) {
				_ = mw.WriteField(k, v[0])
			}
			for range 2 {
				fw, _ := mw.CreateFormFile("salesUnitLogo", "logo.png")
				_, _ = fw.Write([]byte("\x89PNG"))
			}
			_ = mw.Close()
			hr := httptest.NewRequest("POST", "/register/prefilled/"+id, &b)
			hr.Header.Set("Content-Type", mw.FormDataContentType())
			w := httptest.NewRecorder()
			e.mux.ServeHTTP(w, hr)
			return w
		}},
		{"console reject", "reason", func() *httptest.ResponseRecorder {
			return e.do(req{method: "POST", path: "/console/orders/" + decided + "/reject", cookie: c, form: reject})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.do()
			wantStatus(t, w, http.StatusBadRequest)
			if got := parseHTML(t, w.Body.String()).One(t, "main p").Text(); !strings.Contains(got, "“"+tc.field+"” more than once") {
				t.Errorf("page says %q", got)
			}
		})
	}
	if o := e.order(id); o.Status != vippsmgmt.StatusMerchantViewed {
		t.Errorf("merchant's order is %s, want it still %s", o.Status, vippsmgmt.StatusMerchantViewed)
	}
	if o := e.order(decided); o.Status != vippsmgmt.StatusOrderSubmitted {
		t.Errorf("console's order is %s, want it still %s", o.Status, vippsmgmt.StatusOrderSubmitted)
	}
}

// TestRefusedFormPageIsValidUTF8 sends forms with a value that is not UTF-8: each page that shows
// the form again says why and is itself valid UTF-8, as its Content-Type promises.
func TestRefusedFormPageIsValidUTF8(t *testing.T) {
	e, c := newConsole(t)
	id := e.prefill()
	merchant := e.orderForm(id)
	merchant.Set("salesUnitName", "Acme \xff Fitness")
	_, doc := e.get("/console/partners", c)
	partner := formValues(doc.One(t, `form[action="/console/partners"]`))
	partner.Set("partnerId", "newpartner")
	partner.Set("name", "New \xff Partner")
	for _, tc := range []struct {
		name, path string
		form       url.Values
		cookie     *http.Cookie
	}{
		{"merchant form", "/register/prefilled/" + id, merchant, nil},
		{"console partner form", "/console/partners", partner, c},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: tc.path, form: tc.form, cookie: tc.cookie})
			wantStatus(t, w, http.StatusBadRequest)
			body := w.Body.String()
			if !utf8.ValidString(body) {
				t.Fatalf("page is not valid UTF-8")
			}
			if !strings.Contains(body, "must be valid UTF-8") {
				t.Errorf("page does not say the value must be valid UTF-8")
			}
		})
	}
}

// TestRefusedFormPageHasNoControlCharacters sends the merchant form with a control character: the
// page that shows the form again says why and holds no control character itself.
func TestRefusedFormPageHasNoControlCharacters(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	v := e.orderForm(id)
	v.Set("salesUnitName", "Acme\x01Fitness")
	w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
	wantStatus(t, w, http.StatusBadRequest)
	body := w.Body.String()
	if strings.ContainsRune(body, '\x01') {
		t.Errorf("page holds the control character")
	}
	if !strings.Contains(body, "must not contain control characters") {
		t.Errorf("page does not say the value must not contain control characters")
	}
	if got := parseHTML(t, body).One(t, "#f-salesUnitName").Attr["value"]; got != "Acme\uFFFDFitness" {
		t.Errorf("field shows %q", got)
	}
}

// TestLogoErrorsArePages opens logo addresses that have no logo to show: each answers an HTML
// page with the status, as every other portal error does, not a plain-text line.
func TestLogoErrorsArePages(t *testing.T) {
	e, c := newConsole(t)
	ctx := context.Background()
	rejected := e.prefill()
	_, err := e.store.StepProductOrder(ctx, rejected, vippsmgmt.StepSubmit, nil, "")
	must(t, err)
	_, err = e.store.StepProductOrder(ctx, rejected, vippsmgmt.StepReject, nil, "Incomplete KYC")
	must(t, err)
	noLogo, _, err := e.store.CreateProductOrder(ctx, &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr(partnerID),
		BusinessIdentifier: bi, ProductType: "PAYMENT_INTEGRATION"}, nil)
	must(t, err)
	const unknown = "01a23d74-8772-79d0-b940-77c71b98d6c5"
	for _, tc := range []struct {
		name, path string
		cookie     bool
		status     int
	}{
		{"merchant, unknown order", "/register/prefilled/" + unknown + "/logo.png", false, http.StatusNotFound},
		{"merchant, decided order", "/register/prefilled/" + rejected + "/logo.png", false, http.StatusGone},
		{"merchant, no logo", "/register/prefilled/" + noLogo + "/logo.png", false, http.StatusNotFound},
		{"console, unknown order", "/console/orders/" + unknown + "/logo.png", true, http.StatusNotFound},
		{"console, no logo", "/console/orders/" + noLogo + "/logo.png", true, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req{method: "GET", path: tc.path}
			if tc.cookie {
				r.cookie = c
			}
			w := e.do(r)
			wantStatus(t, w, tc.status)
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
			checkPage(t, parseHTML(t, w.Body.String()))
		})
	}
}

// TestConsoleRejectRefusesWhatTheAPIRefuses checks that the console's reject form is held to the
// rule every rejection is (vippsmgmt.ValidateRejectionReason: required, valid text, at most 500
// characters) and leaves the order undecided otherwise.
func TestConsoleRejectRefusesWhatTheAPIRefuses(t *testing.T) {
	e, c := newConsole(t)
	for _, tc := range []struct {
		name, reason, want string
	}{
		{"missing", "", "reason: is required"},
		{"blank", "  \n ", "reason: is required"},
		{"control character", "Incomplete\x00KYC", "reason: must not contain control characters"},
		{"not UTF-8", "Incomplete \xff KYC", "reason: must be valid UTF-8"},
		{"too long", strings.Repeat("a", vippsmgmt.MaxRejectionReasonChars+1), "reason: must be at most 500 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.prefill()
			_, err := e.store.StepProductOrder(context.Background(), id, vippsmgmt.StepSubmit, nil, "")
			must(t, err)
			_, doc := e.get("/console/orders/"+id, c)
			v := formValues(doc.One(t, "form.reject"))
			v.Set("reason", tc.reason)
			w := e.do(req{method: "POST", path: "/console/orders/" + id + "/reject", cookie: c, form: v})
			wantStatus(t, w, http.StatusBadRequest)
			if got := parseHTML(t, w.Body.String()).One(t, ".alert").Text(); !strings.Contains(got, tc.want) {
				t.Errorf("error %q, want it to say %q", got, tc.want)
			}
			if o := e.order(id); o.Status != vippsmgmt.StatusOrderSubmitted {
				t.Errorf("order is %s, want it still %s", o.Status, vippsmgmt.StatusOrderSubmitted)
			}
		})
	}
	// A reason over several lines is free text, as in the API.
	id := e.prefill()
	_, err := e.store.StepProductOrder(context.Background(), id, vippsmgmt.StepSubmit, nil, "")
	must(t, err)
	_, doc := e.get("/console/orders/"+id, c)
	v := formValues(doc.One(t, "form.reject"))
	v.Set("reason", "Incomplete KYC:\r\n\tno owner listed")
	wantStatus(t, e.do(req{method: "POST", path: "/console/orders/" + id + "/reject", cookie: c, form: v}), http.StatusSeeOther)
}
