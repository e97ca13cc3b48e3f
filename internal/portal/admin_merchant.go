package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
)

type merchantsPage struct {
	Q         string
	Merchants []*vippsmgmt.Merchant
	Pager     pager
	Form      url.Values
}

// showMerchants serves GET /console/merchants, and shows the list again after a failed form.
func (p *Portal) showMerchants(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values) {
	q, ms, links, ok := searchPage(p, w, r, s, "merchants", vippsmgmt.MerchantList, func(q string, page vippsmgmt.Page) ([]*vippsmgmt.Merchant, error) {
		return p.store.FindMerchants(r.Context(), vippsmgmt.MerchantFilter{Query: q, Limit: page.Limit, After: page.After})
	})
	if !ok {
		return
	}
	if form == nil {
		form = url.Values{"scheme": {"business:NO:ORG"}, "countryCode": {"NO"}}
	}
	p.render(w, r, status, "merchants", p.formView(r, s, msg, "merchants", "Merchants",
		merchantsPage{Q: q, Merchants: ms, Pager: links, Form: form}))
}

// handleMerchantCreate serves POST /console/merchants.
func (p *Portal) handleMerchantCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	m := &vippsmgmt.Merchant{
		BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: f("scheme"), ID: f("id")},
		Name:               f("name"), Status: vippsmgmt.MerchantActive, CountryCode: strings.ToUpper(f("countryCode")),
	}
	retry := func(status int, msg string) { p.showMerchants(w, r, s, status, msg, r.PostForm) }
	if err := p.store.CreateMerchant(r.Context(), m); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/merchants?q="+url.QueryEscape(m.BusinessIdentifier.ID), "created")
}

// handleMerchantStatus serves POST /console/merchants/status: activates or deactivates a merchant,
// which hides or shows all its sales units in the API.
func (p *Portal) handleMerchantStatus(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	retry := func(status int, msg string) { p.showMerchants(w, r, s, status, msg, nil) }
	status := r.PostFormValue("status")
	m, err := p.store.SetMerchantStatus(ctx, vippsmgmt.BusinessIdentifier{Scheme: r.PostFormValue("scheme"), ID: r.PostFormValue("id")}, status)
	if err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/merchants?q="+url.QueryEscape(m.BusinessIdentifier.ID), "saved")
}
