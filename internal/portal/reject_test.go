package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

// TestConsoleRejectRefusesWhatTheAPIRefuses checks that the console's reject form holds the reason
// to the operator API's rules (required, valid text, bounded) and leaves the order undecided
// otherwise, instead of rejecting it with a reason the API would refuse.
func TestConsoleRejectRefusesWhatTheAPIRefuses(t *testing.T) {
	e, c := newConsole(t)
	for _, tc := range []struct {
		name, reason, want string
	}{
		{"missing", "", "reason: is required"},
		{"blank", "  \n ", "reason: is required"},
		{"control character", "Incomplete\x00KYC", "reason: must not contain control characters"},
		{"not UTF-8", "Incomplete \xff KYC", "reason: must be valid UTF-8"},
		{"too long", strings.Repeat("a", vippsmgmt.MaxTextBytes+1), "reason: must be at most 2000 bytes"},
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
