package portal

import (
	"context"
	"net/http"
	"strings"
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

// TestPrefillRequiredFields: a form without what the order needs to be processed (a new business's
// legal name, the settlement account, the website and terms of an online payment product) comes
// back with a message beside each of those fields, and the order is not submitted.
func TestPrefillRequiredFields(t *testing.T) {
	e := newEnv(t)
	id := e.prefill() // PAYMENT_INTEGRATION for a business not registered yet
	_, doc := e.get("/register/prefilled/"+id, nil)
	v := formValues(doc.One(t, "form.order-form"))
	for _, k := range []string{"merchantName", "settlementBankAccount.scheme", "settlementBankAccount.id", "website.url", "website.termsUrl"} {
		v.Set(k, "")
	}
	w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
	wantStatus(t, w, http.StatusBadRequest)
	doc = parseHTML(t, w.Body.String())
	checkPage(t, doc)
	doc.One(t, "p.alert")
	required := []string{"merchantName", "settlementBankAccount.scheme", "settlementBankAccount.id", "website.url", "website.termsUrl"}
	for _, name := range required {
		fid := "f-" + strings.ReplaceAll(name, ".", "-")
		field := doc.One(t, ".field.invalid #"+fid).Parent
		if msg := field.One(t, "p.error#"+fid+"-error").Text(); !strings.Contains(msg, "required") {
			t.Errorf("%s: message %q, want one saying it is required", name, msg)
		}
	}
	if n := len(doc.Find(".field.invalid")); n != len(required) {
		t.Errorf("%d invalid fields, want %d", n, len(required))
	}
	o := e.order(id)
	if o.Status != vippsmgmt.StatusMerchantViewed || o.Details.SettlementBankAccount == nil || o.Details.Website == nil {
		t.Errorf("after the refused submit: status %s, details %+v", o.Status, o.Details)
	}

	v.Set("merchantName", "Acme Fitness AS")
	v.Set("settlementBankAccount.scheme", "BBAN:NO")
	v.Set("settlementBankAccount.id", "12345678903")
	v.Set("website.url", "https://acme.example")
	v.Set("website.termsUrl", "https://acme.example/terms")
	wantStatus(t, e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v}), http.StatusOK)
	if got := e.order(id).Status; got != vippsmgmt.StatusOrderSubmitted {
		t.Errorf("after the completed form: status %s", got)
	}
}

// TestPrefillReceiptHidesTestPassword: the receipt of a submit lists what was submitted without
// the test website's password, as the order's page does afterwards.
func TestPrefillReceiptHidesTestPassword(t *testing.T) {
	e := newEnv(t)
	id := e.prefill()
	v := e.orderForm(id)
	v.Set("website.testWebsiteUrl", "https://test.acme.example")
	v.Set("website.testWebsiteUsername", "reviewer")
	v.Set("website.testWebsitePassword", "s3cret-Passw0rd")
	w := e.do(req{method: "POST", path: "/register/prefilled/" + id, form: v})
	wantStatus(t, w, http.StatusOK)
	doc := parseHTML(t, w.Body.String())
	doc.One(t, "#receipt")
	if body := w.Body.String(); strings.Contains(body, "s3cret-Passw0rd") || !strings.Contains(body, "reviewer") {
		t.Errorf("receipt shows the password or lost the details")
	}
	if got := e.order(id).Details.Website; got == nil || got.TestWebsitePassword == nil || *got.TestWebsitePassword != "s3cret-Passw0rd" {
		t.Errorf("password not stored: %+v", got)
	}
}
