package portal

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// maxLogoBytes bounds an uploaded logo; the API's body limit is 2 MiB.
const maxLogoBytes = 1 << 20

// field is one control of the merchant form.
type field struct {
	Name    string // the contract's field name, also the form name
	Label   string
	Kind    string // text, url, number, textarea, select, file
	Value   string
	Error   string
	Hint    string
	Options []option
	Attrs   map[string]string // inputmode, maxlength, autocomplete
}

type option struct {
	Value, Label string
}

type section struct {
	Title  string
	Fields []field
}

// prefillPage is the merchant form and the read-only status page.
type prefillPage struct {
	Order        *vippsmgmt.ProductOrder
	Status       string
	MerchantName string
	PartnerName  string
	PricePackage *vippsmgmt.PricePackage
	LogoURL      string
	Sections     []section
	Errors       int
	ExpiresAt    time.Time
	Receipt      bool
	Decided      bool // COMPLETED or REJECTED: the link shows the outcome only
}

// decided reports whether the operator has decided the order: from then on its link shows the
// outcome and nothing the merchant entered (a link outlives its purpose in mail archives).
func decided(status string) bool {
	return status == vippsmgmt.StatusCompleted || status == vippsmgmt.StatusRejected
}

var percentages = []string{"10", "20", "30", "40", "50", "60", "70", "80", "90", "100"}

// detailValues is the form's view of stored details.
func detailValues(d vippsmgmt.OrderDetails) map[string]string {
	v := map[string]string{}
	set := func(k string, s *string) {
		if s != nil {
			v[k] = *s
		}
	}
	set("salesUnitName", d.SalesUnitName)
	if b := d.SettlementBankAccount; b != nil {
		v["settlementBankAccount.scheme"], v["settlementBankAccount.id"] = b.Scheme, b.ID
	}
	set("productUseCase", d.ProductUseCase)
	if d.AnnualTurnover != nil {
		v["annualTurnover"] = strconv.FormatInt(*d.AnnualTurnover, 10)
	}
	set("annualTurnoverPercentage", d.AnnualTurnoverPercentage)
	set("intendedPurpose", d.IntendedPurpose)
	if d.App != nil {
		v["app.appName"] = d.App.AppName
	}
	if w := d.Website; w != nil {
		v["website.url"], v["website.termsUrl"] = w.URL, w.TermsURL
		set("website.testWebsiteUrl", w.TestWebsiteURL)
		set("website.testWebsiteUsername", w.TestWebsiteUsername)
		set("website.testWebsitePassword", w.TestWebsitePassword)
	}
	if d.HasRecurring != nil {
		v["hasRecurring"] = strconv.FormatBool(*d.HasRecurring)
	}
	set("merchantCategoryCode", d.MerchantCategoryCode)
	set("merchantName", d.MerchantName)
	if a := d.MerchantAddress; a != nil {
		v["merchantAddress.line"] = strings.Join(a.Lines, ", ")
		set("merchantAddress.postCode", a.PostCode)
		set("merchantAddress.city", a.City)
	}
	return v
}

// formDetails builds the corrected details from the submitted form. The price package and, unless
// a new one is uploaded, the logo come from the stored order: the merchant cannot change the
// partner's price package. Problems the form alone can detect are returned as field errors.
func formDetails(r *http.Request, stored vippsmgmt.OrderDetails) (vippsmgmt.OrderDetails, map[string]string, []vippsmgmt.FieldError) {
	vals := map[string]string{}
	for _, k := range formNames {
		vals[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	// Passwords may have meaningful spaces.
	vals["website.testWebsitePassword"] = r.PostFormValue("website.testWebsitePassword")
	opt := func(k string) *string {
		if vals[k] == "" {
			return nil
		}
		s := vals[k]
		return &s
	}
	var errs []vippsmgmt.FieldError
	d := vippsmgmt.OrderDetails{
		SalesUnitName:            opt("salesUnitName"),
		SalesUnitLogo:            stored.SalesUnitLogo,
		PricePackageID:           stored.PricePackageID,
		ProductUseCase:           opt("productUseCase"),
		AnnualTurnoverPercentage: opt("annualTurnoverPercentage"),
		IntendedPurpose:          opt("intendedPurpose"),
		MerchantCategoryCode:     opt("merchantCategoryCode"),
	}
	if vals["settlementBankAccount.scheme"] != "" || vals["settlementBankAccount.id"] != "" {
		d.SettlementBankAccount = &vippsmgmt.BankAccount{Scheme: vals["settlementBankAccount.scheme"],
			ID: strings.ReplaceAll(vals["settlementBankAccount.id"], " ", "")}
	}
	if s := vals["annualTurnover"]; s != "" {
		n, err := strconv.ParseInt(strings.ReplaceAll(s, " ", ""), 10, 64)
		if err != nil {
			errs = append(errs, vippsmgmt.FieldError{Field: "annualTurnover", Problem: "must be a whole number"})
		} else {
			d.AnnualTurnover = &n
		}
	}
	switch s := vals["hasRecurring"]; s {
	case "":
	case "true", "false":
		b := s == "true"
		d.HasRecurring = &b
	default:
		errs = append(errs, vippsmgmt.FieldError{Field: "hasRecurring", Problem: "must be Yes or No"})
	}
	if s := vals["app.appName"]; s != "" {
		d.App = &vippsmgmt.App{AppName: s}
	}
	if vals["website.url"] != "" || vals["website.termsUrl"] != "" || vals["website.testWebsiteUrl"] != "" ||
		vals["website.testWebsiteUsername"] != "" || vals["website.testWebsitePassword"] != "" {
		d.Website = &vippsmgmt.Website{URL: vals["website.url"], TermsURL: vals["website.termsUrl"],
			TestWebsiteURL: opt("website.testWebsiteUrl"), TestWebsiteUsername: opt("website.testWebsiteUsername"),
			TestWebsitePassword: opt("website.testWebsitePassword")}
	}
	d.MerchantName = opt("merchantName")
	if vals["merchantAddress.line"] != "" || vals["merchantAddress.postCode"] != "" || vals["merchantAddress.city"] != "" {
		d.MerchantAddress = &vippsmgmt.Address{Lines: []string{}, PostCode: opt("merchantAddress.postCode"), City: opt("merchantAddress.city")}
		if l := vals["merchantAddress.line"]; l != "" {
			d.MerchantAddress.Lines = []string{l}
		}
	}
	if f, _, err := r.FormFile("salesUnitLogo"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxLogoBytes+1))
		switch {
		case err != nil:
			errs = append(errs, vippsmgmt.FieldError{Field: "salesUnitLogo", Problem: "could not be read"})
		case len(b) > maxLogoBytes:
			errs = append(errs, vippsmgmt.FieldError{Field: "salesUnitLogo", Problem: "must be at most 1 MB"})
		case len(b) > 0:
			s := base64.StdEncoding.EncodeToString(b)
			d.SalesUnitLogo = &s
		}
	}
	return d, vals, errs
}

var formNames = []string{
	"salesUnitName", "settlementBankAccount.scheme", "settlementBankAccount.id", "productUseCase",
	"website.url", "website.termsUrl", "website.testWebsiteUrl", "website.testWebsiteUsername",
	"website.testWebsitePassword", "app.appName", "annualTurnover", "annualTurnoverPercentage",
	"intendedPurpose", "hasRecurring", "merchantCategoryCode",
	"merchantName", "merchantAddress.line", "merchantAddress.postCode", "merchantAddress.city",
}

// sections lays the form out; vals are the values to show and errs the problems per field. A
// business not registered yet (newMerchant) is asked for its legal name and address, which
// approval needs to create it.
func sections(vals, errs map[string]string, newMerchant bool) []section {
	f := func(name, label, kind, hint string, attrs map[string]string, opts ...option) field {
		return field{Name: name, Label: label, Kind: kind, Value: vals[name], Error: errs[name], Hint: hint,
			Options: opts, Attrs: attrs}
	}
	none := option{"", "Not stated"}
	useCases := []option{none}
	for _, u := range vippsmgmt.ProductUseCases {
		useCases = append(useCases, option{u, map[string]string{"Website": "Website", "WebsiteWithTest": "Website with a test site",
			"App": "App", "Unknown": "Unknown"}[u]})
	}
	pcts := []option{none}
	for _, p := range percentages {
		pcts = append(pcts, option{p, p + " %"})
	}
	var business []section
	if newMerchant {
		business = []section{{"Your business", []field{
			f("merchantName", "Legal name", "text", "Your business is not registered with us yet: its name as in the business register, needed to complete the order. Up to 50 characters.",
				map[string]string{"maxlength": "50", "autocomplete": "organization"}),
			f("merchantAddress.line", "Business address", "text", "Street and number. Up to 30 characters.",
				map[string]string{"maxlength": "30", "autocomplete": "address-line1"}),
			f("merchantAddress.postCode", "Post code", "text", "", map[string]string{"maxlength": "20", "autocomplete": "postal-code"}),
			f("merchantAddress.city", "City", "text", "", map[string]string{"maxlength": "30", "autocomplete": "address-level2"}),
		}}}
	}
	return append(business, []section{
		{"Sales unit", []field{
			f("salesUnitName", "Sales unit name", "text", "Shown to customers in the app and on the payment page. Up to 40 characters.",
				map[string]string{"maxlength": "40", "autocomplete": "organization"}),
			f("salesUnitLogo", "Replace the logo", "file", "Optional. A PNG image; leave empty to keep the current logo.", nil),
		}},
		{"Settlement", []field{
			f("settlementBankAccount.scheme", "Bank account scheme", "text", "For example BBAN:NO.", map[string]string{"maxlength": "20"}),
			f("settlementBankAccount.id", "Bank account number", "text", "9 to 34 digits.",
				map[string]string{"inputmode": "numeric", "maxlength": "40"}),
		}},
		{"How the product is used", []field{
			f("productUseCase", "Use case", "select", "", nil, useCases...),
			f("website.url", "Website", "url", "Must start with https://.", map[string]string{"autocomplete": "url"}),
			f("website.termsUrl", "Sales terms", "url", "The page with your terms of sale (https://).", nil),
			f("website.testWebsiteUrl", "Test website", "url", "Only for the use case Website with a test site.", nil),
			f("website.testWebsiteUsername", "Test website username", "text", "", map[string]string{"autocomplete": "off"}),
			f("website.testWebsitePassword", "Test website password", "text", "", map[string]string{"autocomplete": "off"}),
			f("app.appName", "App name", "text", "As listed in App Store or Google Play.", nil),
		}},
		{"About the business", []field{
			f("annualTurnover", "Annual turnover", "text", "In your local currency, whole units.",
				map[string]string{"inputmode": "numeric", "maxlength": "12"}),
			f("annualTurnoverPercentage", "Share of turnover through Vipps MobilePay", "select", "", nil, pcts...),
			f("intendedPurpose", "What you sell", "textarea", "Describe the products or services sold.", nil),
			f("hasRecurring", "Recurring payments", "select", "", nil, none, option{"true", "Yes"}, option{"false", "No"}),
			f("merchantCategoryCode", "Merchant category code (MCC)", "text", "Four digits.",
				map[string]string{"inputmode": "numeric", "maxlength": "4"}),
		}},
	}...)
}

// fieldErrors maps the problems to the form's fields, so that each is shown beside its field.
func fieldErrors(fes []vippsmgmt.FieldError) map[string]string {
	m := map[string]string{}
	for _, fe := range fes {
		field := fe.Field
		if strings.HasPrefix(field, "merchantAddress.lines") {
			field = "merchantAddress.line" // the form's one address line is the contract's lines
		}
		problem := fe.Problem
		if problem != "" {
			problem = strings.ToUpper(problem[:1]) + problem[1:]
		}
		if prev, ok := m[field]; ok {
			m[field] = prev + "; " + fe.Problem
		} else {
			m[field] = problem
		}
	}
	return m
}

// loadPrefill finds a prefilled order and answers for the links that show no form: 404 for an
// unknown or deleted order or one that is not a prefill. It reports whether the caller may go on.
func (p *Portal) loadPrefill(w http.ResponseWriter, r *http.Request) (*vippsmgmt.ProductOrder, bool) {
	o, err := p.store.FindProductOrderByID(r.Context(), r.PathValue("productOrderId"))
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND || (err == nil && o.Type != vippsmgmt.OrderPrefill) {
		p.renderMessage(w, r, http.StatusNotFound, "Order not found",
			"This link does not lead to a product order. It may have been withdrawn by the partner, or the address is incomplete.")
		return nil, false
	} else if err != nil {
		p.serverError(w, r, err)
		return nil, false
	}
	return o, true
}

func (p *Portal) renderExpired(w http.ResponseWriter, r *http.Request) {
	p.renderMessage(w, r, http.StatusGone, "This link has expired",
		"A prefilled order can be submitted for 14 days. Ask your partner to send you a new link.")
}

// page gathers what the merchant pages show besides the form.
func (p *Portal) prefillPage(r *http.Request, o *vippsmgmt.ProductOrder) (*prefillPage, error) {
	ctx := r.Context()
	pg := &prefillPage{Order: o, Status: o.StatusAt(p.clock.Now()), ExpiresAt: o.ExpiresAt()}
	if m, err := p.store.FindMerchant(ctx, o.BusinessIdentifier); err == nil {
		pg.MerchantName = m.Name
	} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		return nil, err
	}
	if o.PartnerID != nil {
		pg.PartnerName = *o.PartnerID
		if pa, err := p.store.FindPartnerByID(ctx, *o.PartnerID); err == nil {
			pg.PartnerName = pa.Name
		} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
			return nil, err
		}
	}
	if id := o.Details.PricePackageID; id != nil {
		pp, err := p.store.FindPricePackageByID(ctx, *id)
		if err == nil {
			pg.PricePackage = pp
		} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
			return nil, err
		} else {
			pg.PricePackage = &vippsmgmt.PricePackage{ID: *id, Name: *id}
		}
	}
	if o.Details.SalesUnitLogo != nil {
		pg.LogoURL = "/register/prefilled/" + o.ID + "/logo.png"
	}
	return pg, nil
}

// handlePrefill serves GET /register/prefilled/{productOrderId}: the form, or the order's status
// once it is no longer open. Opening the form records MERCHANT_VIEWED.
func (p *Portal) handlePrefill(w http.ResponseWriter, r *http.Request) {
	o, ok := p.loadPrefill(w, r)
	if !ok {
		return
	}
	switch o.StatusAt(p.clock.Now()) {
	case vippsmgmt.StatusExpired:
		p.renderExpired(w, r)
		return
	case vippsmgmt.StatusReceived, vippsmgmt.StatusMerchantViewed:
		if !merchantOpened(r) {
			break
		}
		viewed, err := p.store.StepProductOrder(r.Context(), o.ID, vippsmgmt.StepView, nil, "")
		switch {
		case err == nil:
			o = viewed
		case isDomain(err):
			// It changed meanwhile (expired, submitted elsewhere, withdrawn): show what it is now.
			if o, ok = p.loadPrefill(w, r); !ok {
				return
			}
		default:
			p.serverError(w, r, err)
			return
		}
	}
	p.showPrefill(w, r, o, http.StatusOK, detailValues(o.Details), nil)
}

// previewAgents are User-Agent fragments of link-preview fetchers (chat apps, mail scanners,
// social sites) that open links the merchant was only sent.
var previewAgents = []string{
	"slackbot", "slack-imgproxy", "facebookexternalhit", "facebot", "twitterbot", "whatsapp", "telegrambot",
	"discordbot", "linkedinbot", "skypeuripreview", "microsoftpreview", "googlebot", "bingbot",
	"bingpreview", "applebot", "embedly", "pinterest", "redditbot", "mattermost", "iframely", "preview", "crawler", "spider",
}

// merchantOpened reports whether a GET of the prefill link counts as the merchant viewing it:
// HEAD requests, browser prefetches and prerenders, and link-preview bots do not.
func merchantOpened(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	for _, h := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		if v := strings.ToLower(r.Header.Get(h)); strings.Contains(v, "prefetch") || strings.Contains(v, "prerender") || strings.Contains(v, "preview") {
			return false
		}
	}
	ua := strings.ToLower(r.UserAgent())
	for _, a := range previewAgents {
		if strings.Contains(ua, a) {
			return false
		}
	}
	return true
}

// showPrefill renders the form for an open order and the read-only status otherwise.
func (p *Portal) showPrefill(w http.ResponseWriter, r *http.Request, o *vippsmgmt.ProductOrder, status int, vals, errs map[string]string) {
	pg, err := p.prefillPage(r, o)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	switch pg.Status {
	case vippsmgmt.StatusExpired:
		p.renderExpired(w, r)
	case vippsmgmt.StatusReceived, vippsmgmt.StatusMerchantViewed:
		pg.Sections, pg.Errors = sections(vals, errs, pg.MerchantName == ""), len(errs)
		v := view{Title: "Review your order", CSRF: p.formToken("prefill:" + o.ID), Data: pg}
		if len(errs) > 0 {
			v.Error = "Some fields need your attention; see the messages beside them."
			for k, e := range errs {
				if k != "salesUnitLogo" && !slices.Contains(formNames, k) {
					v.Error += " " + k + ": " + e + "."
				}
			}
		}
		p.render(w, r, status, "prefill", v)
	default:
		if decided(pg.Status) {
			pg.Decided, pg.LogoURL = true, ""
		} else {
			pg.Sections = submittedSections(o.Details)
		}
		p.render(w, r, status, "prefill_status", view{Title: "Order " + human(pg.Status), Data: pg})
	}
}

// submittedSections lays out submitted details read-only: the receipt and the order's page show
// them without the test website's password.
func submittedSections(d vippsmgmt.OrderDetails) []section {
	vals := detailValues(d)
	if vals["website.testWebsitePassword"] != "" {
		vals["website.testWebsitePassword"] = "(not shown)"
	}
	return sections(vals, nil, d.MerchantName != nil)
}

func human(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", " ") }

// handlePrefillSubmit serves POST /register/prefilled/{productOrderId}: records ORDER_SUBMITTED
// with the corrected details, or shows the form again with each of their SubmitProblems beside
// its field.
func (p *Portal) handlePrefillSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		p.formReadFailed(w, r, err)
		return
	}
	id := r.PathValue("productOrderId")
	if !p.validFormToken(r, "prefill:"+id) {
		p.renderMessage(w, r, http.StatusForbidden, "Request refused",
			"The form's security token is missing or wrong. Open the link again and submit the form from there.")
		return
	}
	o, ok := p.loadPrefill(w, r)
	if !ok {
		return
	}
	switch o.StatusAt(p.clock.Now()) {
	case vippsmgmt.StatusReceived, vippsmgmt.StatusMerchantViewed:
	case vippsmgmt.StatusExpired:
		p.renderExpired(w, r)
		return
	default:
		p.showPrefill(w, r, o, http.StatusConflict, nil, nil)
		return
	}
	d, vals, errs := formDetails(r, o.Details)
	_, err := p.store.FindMerchant(r.Context(), o.BusinessIdentifier)
	known := err == nil
	if known {
		d.MerchantName, d.MerchantAddress = nil, nil // a registered business keeps its registered name
	} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		p.serverError(w, r, err)
		return
	}
	// The store holds the submit to the same rule in its transaction; asking it here as well shows
	// every problem at once, beside those only the form can have.
	errs = append(errs, o.SubmitProblems(&d, known)...)
	if len(errs) > 0 {
		p.showPrefill(w, r, o, http.StatusBadRequest, vals, fieldErrors(errs))
		return
	}
	submitted, err := p.store.StepProductOrder(r.Context(), id, vippsmgmt.StepSubmitForm, &d, "")
	if err != nil {
		var de *vippsmgmt.Error
		switch {
		case errors.As(err, &de) && de.Code == vippsmgmt.EINVALID && len(de.Fields) > 0:
			p.showPrefill(w, r, o, http.StatusBadRequest, vals, fieldErrors(de.Fields))
		case isDomain(err):
			// Expired, withdrawn or submitted meanwhile.
			if o, ok = p.loadPrefill(w, r); ok {
				p.showPrefill(w, r, o, problem.Status(vippsmgmt.ErrorCode(err)), nil, nil)
			}
		default:
			p.serverError(w, r, err)
		}
		return
	}
	pg, err := p.prefillPage(r, submitted)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	pg.Receipt = true
	pg.Sections = submittedSections(submitted.Details)
	p.render(w, r, http.StatusOK, "prefill_status", view{Title: "Order submitted", Data: pg})
}

// handlePrefillLogo serves GET /register/prefilled/{productOrderId}/logo.png.
func (p *Portal) handlePrefillLogo(w http.ResponseWriter, r *http.Request) {
	o, ok := p.loadPrefill(w, r)
	if !ok {
		return
	}
	if s := o.StatusAt(p.clock.Now()); s == vippsmgmt.StatusExpired || decided(s) {
		p.renderMessage(w, r, http.StatusGone, "Logo no longer shown", "This order's link no longer shows what was entered in it.")
		return
	}
	p.writeLogo(w, r, o)
}

// writeLogo sends the order's logo, or a 404 page when it has none that decodes.
func (p *Portal) writeLogo(w http.ResponseWriter, r *http.Request, o *vippsmgmt.ProductOrder) {
	var b []byte
	ok := o.Details.SalesUnitLogo != nil
	if ok {
		b, ok = vippsmgmt.DecodeLogo(*o.Details.SalesUnitLogo)
	}
	if !ok {
		p.renderMessage(w, r, http.StatusNotFound, "No logo", "This order has no logo.")
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
