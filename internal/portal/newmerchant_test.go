package portal

import (
	"context"
	"net/http"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

// TestUnknownMerchantGivesItsLegalName: for a business not registered yet the merchant form asks
// for the legal name and address, approval creates the merchant with them, and the operator's
// console offers the given name for approval, where it may still be changed.
func TestUnknownMerchantGivesItsLegalName(t *testing.T) {
	for _, override := range []string{"", "Acme Fitness Holding AS"} {
		e, c := newConsole(t)
		id := e.prefill()
		_, doc := e.get("/register/prefilled/"+id, nil)
		form := doc.One(t, "form.order-form")
		form.One(t, "input[name=merchantName]")
		form.One(t, "input[name=merchantAddress.line]")
		v := formValues(form)
		v.Set("merchantName", "Acme Fitness AS")
		v.Set("merchantAddress.line", "Robert Levins gate 5")
		v.Set("merchantAddress.postCode", "0154")
		v.Set("merchantAddress.city", "Oslo")
		wantStatus(t, e.do(req{method: "POST", path: form.Attr["action"], form: v}), http.StatusOK)

		_, doc = e.get("/console/orders/"+id, c)
		approve := doc.One(t, "form.approve")
		if got := approve.One(t, "input[name=merchantName]").Attr["value"]; got != "Acme Fitness AS" {
			t.Errorf("approval form offers merchant name %q, want the one the merchant gave", got)
		}
		a := formValues(approve)
		if override != "" {
			a.Set("merchantName", override)
		}
		wantStatus(t, e.do(req{method: "POST", path: approve.Attr["action"], cookie: c, form: a}), http.StatusSeeOther)
		m, err := e.store.FindMerchant(context.Background(), e.order(id).BusinessIdentifier)
		must(t, err)
		want := "Acme Fitness AS"
		if override != "" {
			want = override
		}
		if m.Name != want || m.BusinessAddress == nil || m.BusinessAddress.City == nil || *m.BusinessAddress.City != "Oslo" ||
			len(m.BusinessAddress.Lines) != 1 || m.BusinessAddress.Lines[0] != "Robert Levins gate 5" {
			t.Errorf("merchant created as %q at %+v, want %q at the address given", m.Name, m.BusinessAddress, want)
		}
	}

	// A registered business is not asked.
	e := newEnv(t)
	id := e.prefill()
	must(t, e.store.UpsertMerchant(context.Background(), &vippsmgmt.Merchant{BusinessIdentifier: e.order(id).BusinessIdentifier,
		Name: "Registered AS", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}))
	_, doc := e.get("/register/prefilled/"+id, nil)
	if n := len(doc.Find("input[name=merchantName]")); n != 0 {
		t.Errorf("the form asks a registered business for its name")
	}
}
