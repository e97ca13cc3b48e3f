package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

type pricePackagesPage struct {
	Q             string
	PricePackages []*vippsmgmt.PricePackage
	Pager         pager
	Partners      []*vippsmgmt.Partner
	PartnerTyped  bool
	ProductTypes  []string
	Markets       []string
	Form          url.Values
}

// showPricePackages serves GET /console/price-packages, and shows the list again after a failed
// form.
func (p *Portal) showPricePackages(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values) {
	ctx := r.Context()
	pg := pricePackagesPage{ProductTypes: vippsmgmt.ProductTypes, Markets: vippsmgmt.Markets, Form: form}
	var ok bool
	pg.Q, pg.PricePackages, pg.Pager, ok = searchPage(p, w, r, s, "price-packages", vippsmgmt.PricePackageList, func(q string, page vippsmgmt.Page) ([]*vippsmgmt.PricePackage, error) {
		return p.store.FindPricePackages(ctx, vippsmgmt.PricePackageFilter{Query: q, Limit: page.Limit, After: page.After})
	})
	if !ok {
		return
	}
	var err error
	if pg.Partners, pg.PartnerTyped, err = p.partnerChoices(ctx); err != nil {
		p.serverError(w, r, err)
		return
	}
	p.render(w, r, status, "price_packages", p.formView(r, s, msg, "price-packages", "Price packages", pg))
}

// handlePricePackageCreate serves POST /console/price-packages.
func (p *Portal) handlePricePackageCreate(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	opt := func(k string) *string {
		if v := f(k); v != "" {
			return &v
		}
		return nil
	}
	pp := &vippsmgmt.PricePackage{ID: f("pricePackageId"), PartnerID: f("partnerId"), Name: f("name"),
		Description: f("description"), ProductType: opt("productType"), Market: opt("market"), Commission: opt("commission")}
	if pp.ID == "" {
		pp.ID = uuid.NewString()
	}
	retry := func(status int, msg string) { p.showPricePackages(w, r, s, status, msg, r.PostForm) }
	visible, bad := formBool(r, "visibleInSignupForm", "visibleInSignupForm")
	if bad != nil {
		p.failed(w, r, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{*bad}), retry)
		return
	}
	pp.VisibleInSignupForm = visible
	if err := p.store.CreatePricePackage(ctx, pp); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/price-packages?q="+url.QueryEscape(pp.ID), "created")
}
