package portal

import (
	"net/http"
	"strings"
	"testing"
)

// TestPrefillAddressLineErrorBesideItsField sends a business address the contract refuses: the
// problem, which the rules name merchantAddress.lines, is shown beside the form's address field.
func TestPrefillAddressLineErrorBesideItsField(t *testing.T) {
	e := newEnv(t)
	for name, line := range map[string]string{"too long": strings.Repeat("a", 31), "control character": "Gate\x01 1"} {
		t.Run(name, func(t *testing.T) {
			id := e.prefill()
			v := e.orderForm(id)
			v.Set("merchantName", "Acme Fitness AS")
			v.Set("merchantAddress.line", line)
			w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
			wantStatus(t, w, http.StatusBadRequest)
			doc := parseHTML(t, w.Body.String())
			field := doc.One(t, ".field.invalid #f-merchantAddress-line").Parent
			if len(field.Find("p.error#f-merchantAddress-line-error")) != 1 {
				t.Errorf("no error beside the address field")
			}
			if got := doc.One(t, "p.alert").Text(); strings.Contains(got, "merchantAddress.lines") {
				t.Errorf("alert names the contract's field: %q", got)
			}
		})
	}
}
