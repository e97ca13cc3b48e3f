package portal

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

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
