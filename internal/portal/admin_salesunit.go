package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
)

type salesUnitsPage struct {
	Q          string
	SalesUnits []*vippsmgmt.SalesUnit
	Pager      pager
}

// handleSalesUnits serves GET /console/sales-units.
func (p *Portal) handleSalesUnits(w http.ResponseWriter, r *http.Request, s *session) {
	q, sus, links, ok := searchPage(p, w, r, s, "sales-units", vippsmgmt.SalesUnitList, func(q string, page vippsmgmt.Page) ([]*vippsmgmt.SalesUnit, error) {
		return p.store.FindSalesUnits(r.Context(), vippsmgmt.SalesUnitFilter{Query: q, Limit: page.Limit, After: page.After})
	})
	if !ok {
		return
	}
	p.render(w, r, http.StatusOK, "sales_units", p.consoleView(s, "sales-units", "Sales units",
		salesUnitsPage{Q: q, SalesUnits: sus, Pager: links}))
}

// flag is a tri-state configuration flag on the sales unit form.
type flag struct {
	Name, Label, Value string
}

type salesUnitPage struct {
	SalesUnit *vippsmgmt.SalesUnit
	Partners  []*vippsmgmt.Partner
	// PartnerTyped asks for the partner id as text: there are too many for a drop-down.
	PartnerTyped bool
	MoreKeys     bool // more key sets than the page shows
	Flags        []flag
	Capture      string
	Captures     []string
	Keys         []*vippsmgmt.APIKey
	Issued       *credentials.Issued
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

// formBool reads the yes/no select name: nil when not set, and a problem of field (its name in the
// operator API) for any value but true and false, which the select does not offer.
func formBool(r *http.Request, name, field string) (*bool, *vippsmgmt.FieldError) {
	switch v := r.PostFormValue(name); v {
	case "":
		return nil, nil
	case "true", "false":
		b := v == "true"
		return &b, nil
	}
	return nil, &vippsmgmt.FieldError{Field: field, Problem: "must be true or false"}
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
	if !p.found(w, r, s, err, "sales-units", "Sales unit not found", "There is no sales unit with MSN "+r.PathValue("msn")+".") {
		return
	}
	pg := salesUnitPage{SalesUnit: su, Issued: issued,
		Captures: []string{vippsmgmt.CaptureReserve, vippsmgmt.CaptureDirect, vippsmgmt.CaptureNotApplicable}}
	if pg.Partners, pg.PartnerTyped, err = p.partnerChoices(ctx); err != nil {
		p.serverError(w, r, err)
		return
	}
	if pg.Keys, err = p.store.FindAPIKeys(ctx, "", su.MSN, vippsmgmt.Page{Limit: pageSize + 1}); err != nil {
		p.serverError(w, r, err)
		return
	}
	pg.Keys, pg.MoreKeys = firstRows(pg.Keys)
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
	p.render(w, r, status, "sales_unit", p.formView(r, s, msg, "sales-units", "Sales unit "+su.MSN, pg))
}

// handleSalesUnitUpdate serves POST /console/sales-units/{msn}: name, status, configuration flags
// and partner connection, through store.UpdateSalesUnit.
func (p *Portal) handleSalesUnitUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	retry := func(status int, msg string) { p.showSalesUnit(w, r, s, status, msg, nil) }
	name, status := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("status")
	upd := vippsmgmt.SalesUnitUpdate{Name: &name, Status: &status, Configuration: &vippsmgmt.Configuration{}}
	cf := configFlags(upd.Configuration)
	var errs []vippsmgmt.FieldError
	for _, fl := range flagLabels {
		b, err := formBool(r, fl.name, "configuration."+fl.name)
		if err != nil {
			errs = append(errs, *err)
		}
		*cf[fl.name] = b
	}
	if err := vippsmgmt.InvalidFields(errs); err != nil {
		p.failed(w, r, err, retry)
		return
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
