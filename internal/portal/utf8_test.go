package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

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
