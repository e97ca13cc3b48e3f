package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
)

// listLimit bounds the console's lists; the search box narrows them.
const listLimit = 200

func contains(q string, fields ...string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// failed reports a domain error on the page it came from, with its status; anything else is a 500.
func (p *Portal) failed(w http.ResponseWriter, r *http.Request, err error, retry func(status int, msg string)) {
	if !isDomain(err) {
		p.serverError(w, r, err)
		return
	}
	retry(statusOf(err), errorText(err))
}

func redirect(w http.ResponseWriter, r *http.Request, path string, done string) {
	if done != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + url.QueryEscape(done)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

var doneText = map[string]string{
	"created": "Created.", "saved": "Saved.", "revoked": "The key set was revoked; it stops working at once.",
}

// ---- partners and API keys

type partnersPage struct {
	Q        string
	Partners []*vippsmgmt.Partner
	Form     url.Values
}

// handlePartners serves GET /console/partners.
func (p *Portal) handlePartners(w http.ResponseWriter, r *http.Request, s *session) {
	p.showPartners(w, r, s, http.StatusOK, "", nil)
}

func (p *Portal) showPartners(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values) {
	all, err := p.store.FindPartners(r.Context())
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	pg := partnersPage{Q: strings.TrimSpace(r.URL.Query().Get("q")), Form: form}
	for _, pa := range all {
		if contains(pg.Q, pa.ID, pa.Name) {
			pg.Partners = append(pg.Partners, pa)
		}
	}
	v := p.consoleView(s, "partners", "Partners", pg)
	v.Error, v.Flash = msg, doneText[r.URL.Query().Get("done")]
	p.render(w, r, status, "partners", v)
}

// handlePartnerCreate serves POST /console/partners.
func (p *Portal) handlePartnerCreate(w http.ResponseWriter, r *http.Request, s *session) {
	pa := &vippsmgmt.Partner{ID: strings.TrimSpace(r.PostFormValue("partnerId")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	retry := func(status int, msg string) { p.showPartners(w, r, s, status, msg, r.PostForm) }
	if err := pa.Validate(); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	// Upsert would rename an existing partner; creating one must not.
	if _, err := p.store.FindPartnerByID(r.Context(), pa.ID); err == nil {
		retry(http.StatusConflict, "A partner with the id "+pa.ID+" already exists.")
		return
	} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		p.serverError(w, r, err)
		return
	}
	if err := p.store.UpsertPartner(r.Context(), pa); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/partners/"+url.PathEscape(pa.ID), "created")
}

type partnerPage struct {
	Partner       *vippsmgmt.Partner
	Keys          []*vippsmgmt.APIKey
	PricePackages []*vippsmgmt.PricePackage
	Issued        *credentials.Issued
	Form          url.Values
}

// handlePartner serves GET /console/partners/{id}: the partner, its key sets and price packages.
func (p *Portal) handlePartner(w http.ResponseWriter, r *http.Request, s *session) {
	p.showPartner(w, r, s, http.StatusOK, "", nil, nil)
}

func (p *Portal) showPartner(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values, issued *credentials.Issued) {
	ctx := r.Context()
	pa, err := p.store.FindPartnerByID(ctx, r.PathValue("id"))
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		p.render(w, r, http.StatusNotFound, "message", p.consoleView(s, "partners", "Partner not found",
			message{Text: "There is no partner " + r.PathValue("id") + "."}))
		return
	} else if err != nil {
		p.serverError(w, r, err)
		return
	}
	pg := partnerPage{Partner: pa, Issued: issued, Form: form}
	if pg.Keys, err = p.store.FindAPIKeys(ctx, pa.ID, ""); err != nil {
		p.serverError(w, r, err)
		return
	}
	if pg.PricePackages, err = p.store.FindPricePackages(ctx, pa.ID); err != nil {
		p.serverError(w, r, err)
		return
	}
	v := p.consoleView(s, "partners", "Partner "+pa.Name, pg)
	v.Error, v.Flash = msg, doneText[r.URL.Query().Get("done")]
	p.render(w, r, status, "partner", v)
}

// handlePartnerRename serves POST /console/partners/{id}.
func (p *Portal) handlePartnerRename(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	pa, err := p.store.FindPartnerByID(ctx, r.PathValue("id"))
	if err != nil {
		p.failed(w, r, err, func(status int, msg string) { p.showPartner(w, r, s, status, msg, r.PostForm, nil) })
		return
	}
	pa.Name = strings.TrimSpace(r.PostFormValue("name"))
	if err := pa.Validate(); err == nil {
		err = p.store.UpsertPartner(ctx, pa)
	}
	if err != nil {
		p.failed(w, r, err, func(status int, msg string) { p.showPartner(w, r, s, status, msg, r.PostForm, nil) })
		return
	}
	redirect(w, r, "/console/partners/"+url.PathEscape(pa.ID), "saved")
}

// handlePartnerKeyIssue serves POST /console/partners/{id}/keys. The secrets are shown in this
// response only; the store keeps hashes.
func (p *Portal) handlePartnerKeyIssue(w http.ResponseWriter, r *http.Request, s *session) {
	kind := r.PostFormValue("kind")
	retry := func(status int, msg string) { p.showPartner(w, r, s, status, msg, r.PostForm, nil) }
	if kind != vippsmgmt.KeyPartner && kind != vippsmgmt.KeyManagement {
		retry(http.StatusBadRequest, "kind: must be partner or management")
		return
	}
	is, err := credentials.Issue(r.Context(), p.store, p.hasher, kind, r.PathValue("id"), "", strings.TrimSpace(r.PostFormValue("clientId")))
	if err != nil {
		p.failed(w, r, err, retry)
		return
	}
	p.showPartner(w, r, s, http.StatusOK, "", nil, is)
}

// handleKeyRevoke serves POST /console/keys/{clientId}/revoke, then drops the key from the auth
// cache so its tokens stop working at once rather than when the cache expires.
func (p *Portal) handleKeyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("clientId")
	ctx := r.Context()
	k, err := p.store.FindAPIKeyByClientID(ctx, id)
	if err == nil {
		err = p.store.RevokeAPIKey(ctx, id)
	}
	if err != nil {
		p.failed(w, r, err, func(status int, msg string) {
			p.render(w, r, status, "message", p.consoleView(s, "partners", "Key set not revoked", message{Text: msg}))
		})
		return
	}
	p.forgetKey(id)
	p.logger.InfoContext(ctx, "api key revoked in console", "client_id", id)
	back := "/console/partners"
	if k.PartnerID != nil {
		back += "/" + url.PathEscape(*k.PartnerID)
	} else if k.MSN != nil {
		back = "/console/sales-units/" + url.PathEscape(*k.MSN)
	}
	redirect(w, r, back, "revoked")
}

// ---- merchants

type merchantsPage struct {
	Q         string
	Merchants []*vippsmgmt.Merchant
	Form      url.Values
}

// handleMerchants serves GET /console/merchants.
func (p *Portal) handleMerchants(w http.ResponseWriter, r *http.Request, s *session) {
	p.showMerchants(w, r, s, http.StatusOK, "", nil)
}

func (p *Portal) showMerchants(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	ms, err := p.store.FindMerchants(r.Context(), vippsmgmt.MerchantFilter{Query: q, Limit: listLimit})
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if form == nil {
		form = url.Values{"scheme": {"business:NO:ORG"}, "countryCode": {"NO"}}
	}
	v := p.consoleView(s, "merchants", "Merchants", merchantsPage{Q: q, Merchants: ms, Form: form})
	v.Error, v.Flash = msg, doneText[r.URL.Query().Get("done")]
	p.render(w, r, status, "merchants", v)
}

// handleMerchantCreate serves POST /console/merchants.
func (p *Portal) handleMerchantCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	now := p.clock.Now()
	m := &vippsmgmt.Merchant{
		BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: f("scheme"), ID: f("id")},
		Name:               f("name"), Status: vippsmgmt.MerchantActive, CountryCode: strings.ToUpper(f("countryCode")),
		CreatedAt: now, UpdatedAt: now,
	}
	retry := func(status int, msg string) { p.showMerchants(w, r, s, status, msg, r.PostForm) }
	if err := m.Validate(); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	if _, err := p.store.FindMerchant(r.Context(), m.BusinessIdentifier); err == nil {
		retry(http.StatusConflict, "The merchant "+m.BusinessIdentifier.String()+" already exists.")
		return
	} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		p.serverError(w, r, err)
		return
	}
	if err := p.store.UpsertMerchant(r.Context(), m); err != nil {
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
	if status != vippsmgmt.MerchantActive && status != vippsmgmt.MerchantDeactivated {
		retry(http.StatusBadRequest, "status: must be ACTIVE or DEACTIVATED")
		return
	}
	m, err := p.store.FindMerchant(ctx, vippsmgmt.BusinessIdentifier{Scheme: r.PostFormValue("scheme"), ID: r.PostFormValue("id")})
	if err == nil {
		m.Status = status
		m.UpdatedAt = p.clock.Now()
		err = p.store.UpsertMerchant(ctx, m)
	}
	if err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/merchants?q="+url.QueryEscape(m.BusinessIdentifier.ID), "saved")
}

// ---- sales units

type salesUnitsPage struct {
	Q          string
	SalesUnits []*vippsmgmt.SalesUnit
}

// handleSalesUnits serves GET /console/sales-units.
func (p *Portal) handleSalesUnits(w http.ResponseWriter, r *http.Request, s *session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	sus, err := p.store.FindSalesUnits(r.Context(), vippsmgmt.SalesUnitFilter{Query: q, Limit: listLimit})
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "sales_units", p.consoleView(s, "sales-units", "Sales units", salesUnitsPage{Q: q, SalesUnits: sus}))
}

// flag is a tri-state configuration flag on the sales unit form.
type flag struct {
	Name, Label, Value string
}

type salesUnitPage struct {
	SalesUnit *vippsmgmt.SalesUnit
	Partners  []*vippsmgmt.Partner
	Flags     []flag
	Capture   string
	Captures  []string
	Keys      []*vippsmgmt.APIKey
	Issued    *credentials.Issued
}

var flagLabels = []struct{ name, label string }{
	{"paymentAllowed", "Payments allowed"},
	{"skipLandingPageAllowed", "Skip landing page allowed"},
	{"recurringAllowed", "Recurring allowed"},
	{"partialCaptureAllowed", "Partial capture allowed"},
	{"lateCaptureAllowed", "Late capture allowed"},
	{"landingPagePhoneNumberLocked", "Landing page phone number locked"},
	{"longLivingPaymentAllowed", "Long-living payments allowed"},
	{"creditCardPaymentAllowed", "Credit card payments allowed"},
}

func configFlags(c *vippsmgmt.Configuration) map[string]**bool {
	return map[string]**bool{
		"paymentAllowed": &c.PaymentAllowed, "skipLandingPageAllowed": &c.SkipLandingPageAllowed,
		"recurringAllowed": &c.RecurringAllowed, "partialCaptureAllowed": &c.PartialCaptureAllowed,
		"lateCaptureAllowed": &c.LateCaptureAllowed, "landingPagePhoneNumberLocked": &c.LandingPagePhoneNumberLocked,
		"longLivingPaymentAllowed": &c.LongLivingPaymentAllowed, "creditCardPaymentAllowed": &c.CreditCardPaymentAllowed,
	}
}

// handleSalesUnit serves GET /console/sales-units/{msn}.
func (p *Portal) handleSalesUnit(w http.ResponseWriter, r *http.Request, s *session) {
	p.showSalesUnit(w, r, s, http.StatusOK, "", nil)
}

func (p *Portal) showSalesUnit(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, issued *credentials.Issued) {
	ctx := r.Context()
	su, err := p.store.FindSalesUnitByMSN(ctx, r.PathValue("msn"))
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		p.render(w, r, http.StatusNotFound, "message", p.consoleView(s, "sales-units", "Sales unit not found",
			message{Text: "There is no sales unit with MSN " + r.PathValue("msn") + "."}))
		return
	} else if err != nil {
		p.serverError(w, r, err)
		return
	}
	pg := salesUnitPage{SalesUnit: su, Issued: issued,
		Captures: []string{vippsmgmt.CaptureReserve, vippsmgmt.CaptureDirect, vippsmgmt.CaptureNotApplicable}}
	if pg.Partners, err = p.store.FindPartners(ctx); err != nil {
		p.serverError(w, r, err)
		return
	}
	if pg.Keys, err = p.store.FindAPIKeys(ctx, "", su.MSN); err != nil {
		p.serverError(w, r, err)
		return
	}
	c := vippsmgmt.Configuration{}
	if su.Configuration != nil {
		c = *su.Configuration
	}
	cf := configFlags(&c)
	for _, fl := range flagLabels {
		v := ""
		if b := *cf[fl.name]; b != nil {
			v = map[bool]string{true: "true", false: "false"}[*b]
		}
		pg.Flags = append(pg.Flags, flag{Name: fl.name, Label: fl.label, Value: v})
	}
	if c.CaptureType != nil {
		pg.Capture = *c.CaptureType
	}
	v := p.consoleView(s, "sales-units", "Sales unit "+su.MSN, pg)
	v.Error, v.Flash = msg, doneText[r.URL.Query().Get("done")]
	p.render(w, r, status, "sales_unit", v)
}

// handleSalesUnitUpdate serves POST /console/sales-units/{msn}: name, status, configuration flags
// and partner connection, through store.UpdateSalesUnit.
func (p *Portal) handleSalesUnitUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	retry := func(status int, msg string) { p.showSalesUnit(w, r, s, status, msg, nil) }
	name, status := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("status")
	upd := vippsmgmt.SalesUnitUpdate{Name: &name, Status: &status, Configuration: &vippsmgmt.Configuration{}}
	cf := configFlags(upd.Configuration)
	for _, fl := range flagLabels {
		switch r.PostFormValue(fl.name) {
		case "true":
			b := true
			*cf[fl.name] = &b
		case "false":
			b := false
			*cf[fl.name] = &b
		}
	}
	if c := r.PostFormValue("captureType"); c != "" {
		upd.Configuration.CaptureType = &c
	}
	if pid := r.PostFormValue("partnerId"); pid == "" {
		upd.ClearPartner = true
	} else {
		upd.PartnerID = &pid
	}
	if _, err := p.store.UpdateSalesUnit(r.Context(), r.PathValue("msn"), upd); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/sales-units/"+url.PathEscape(r.PathValue("msn")), "saved")
}

// handleSalesUnitKeyIssue serves POST /console/sales-units/{msn}/keys: a merchant key set.
func (p *Portal) handleSalesUnitKeyIssue(w http.ResponseWriter, r *http.Request, s *session) {
	is, err := credentials.Issue(r.Context(), p.store, p.hasher, vippsmgmt.KeyMerchant, "", r.PathValue("msn"),
		strings.TrimSpace(r.PostFormValue("clientId")))
	if err != nil {
		p.failed(w, r, err, func(status int, msg string) { p.showSalesUnit(w, r, s, status, msg, nil) })
		return
	}
	p.showSalesUnit(w, r, s, http.StatusOK, "", is)
}

// ---- price packages

type pricePackagesPage struct {
	Q             string
	PricePackages []*vippsmgmt.PricePackage
	Partners      []*vippsmgmt.Partner
	ProductTypes  []string
	Markets       []string
	Form          url.Values
}

// handlePricePackages serves GET /console/price-packages.
func (p *Portal) handlePricePackages(w http.ResponseWriter, r *http.Request, s *session) {
	p.showPricePackages(w, r, s, http.StatusOK, "", nil)
}

func (p *Portal) showPricePackages(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values) {
	ctx := r.Context()
	all, err := p.store.FindPricePackages(ctx, "")
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	pg := pricePackagesPage{Q: strings.TrimSpace(r.URL.Query().Get("q")), ProductTypes: vippsmgmt.ProductTypes,
		Markets: vippsmgmt.Markets, Form: form}
	for _, pp := range all {
		if contains(pg.Q, pp.ID, pp.Name, pp.PartnerID, pp.Description) {
			pg.PricePackages = append(pg.PricePackages, pp)
		}
	}
	if pg.Partners, err = p.store.FindPartners(ctx); err != nil {
		p.serverError(w, r, err)
		return
	}
	v := p.consoleView(s, "price-packages", "Price packages", pg)
	v.Error, v.Flash = msg, doneText[r.URL.Query().Get("done")]
	p.render(w, r, status, "price_packages", v)
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
	if v := f("visibleInSignupForm"); v != "" {
		b := v == "true"
		pp.VisibleInSignupForm = &b
	}
	retry := func(status int, msg string) { p.showPricePackages(w, r, s, status, msg, r.PostForm) }
	if err := pp.Validate(); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	if _, err := p.store.FindPartnerByID(ctx, pp.PartnerID); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	if _, err := p.store.FindPricePackageByID(ctx, pp.ID); err == nil {
		retry(http.StatusConflict, "A price package with the id "+pp.ID+" already exists.")
		return
	} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		p.serverError(w, r, err)
		return
	}
	if err := p.store.UpsertPricePackage(ctx, pp); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/price-packages?q="+url.QueryEscape(pp.ID), "created")
}
