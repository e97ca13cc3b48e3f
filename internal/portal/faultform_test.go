package portal

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fault"
)

// TestConsoleFaultFormRefusesWhatItDoesNotOffer sends the fault form with a budget or a drop value
// its controls do not offer: the form comes back with a 400 naming the field and no rule is
// stored, rather than a rule that fires until deleted or never drops.
func TestConsoleFaultFormRefusesWhatItDoesNotOffer(t *testing.T) {
	e, c := newConsole(t)
	catalog, err := fault.DefaultCatalog()
	must(t, err)
	e.portal.faults = fault.NewInjector(e.store, e.clock, catalog, nil, nil)
	_, doc := e.get("/console/scenarios", c)
	for _, tc := range []struct{ field, value, want string }{
		{"budget", "forever", "budget: must be count, probability, until or empty"},
		{"drop", "yes", "effect.drop: must be on or not sent"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			v := formValues(doc.One(t, "form[action=/console/faults]"))
			v.Set("operationId", "orderProduct")
			v.Set("status", "503")
			v.Set(tc.field, tc.value)
			w := e.do(req{method: "POST", path: "/console/faults", cookie: c, form: v})
			wantStatus(t, w, http.StatusBadRequest)
			if msg := parseHTML(t, w.Body.String()).One(t, "p.alert").Text(); !strings.Contains(msg, tc.want) {
				t.Errorf("alert %q, want it to say %q", msg, tc.want)
			}
			rules, err := e.store.FindFaultRules(t.Context())
			must(t, err)
			if len(rules) != 0 {
				t.Errorf("%d rules stored", len(rules))
			}
		})
	}
}
