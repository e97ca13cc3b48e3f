package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"

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
