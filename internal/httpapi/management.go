package httpapi

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// callerFrom returns the authenticated caller; the authentication middleware guarantees one on
// every /management route.
func callerFrom(ctx context.Context) (vippsmgmt.Caller, error) {
	c, ok := vippsmgmt.CallerFromContext(ctx)
	if !ok {
		return c, vippsmgmt.Errorf(vippsmgmt.EUNAUTHORIZED, "The request is not authenticated.")
	}
	return c, nil
}

// partnerFrom returns the caller of a partner-only operation, which requirePartnerRole has already
// refused to merchant keys.
func partnerFrom(ctx context.Context) (vippsmgmt.Caller, error) {
	c, err := callerFrom(ctx)
	if err == nil && !c.IsPartner() {
		// Only reachable if a route skipped requirePartnerRole: refuse rather than serve.
		err = vippsmgmt.Errorf(vippsmgmt.EINTERNAL, "partner-only operation reached without its role check")
	}
	return c, err
}

// Not-found messages never depend on whether the thing exists: "not yours" must read exactly like
// "does not exist".
func salesUnitNotFound(msn string) error {
	return vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "No sales unit with MSN %s is available to the caller.", msn)
}

func merchantNotFound(b vippsmgmt.BusinessIdentifier) error {
	return vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "No merchant %s %s is available to the caller.", b.Scheme, b.ID)
}

func orderNotFound(id string) error {
	return vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "No product order %s is available to the caller.", id)
}

// GetAllSalesUnits serves GET /management/v1/sales-units.
func (s *Server) GetAllSalesUnits(ctx context.Context, _ openapi.GetAllSalesUnitsRequestObject) (openapi.GetAllSalesUnitsResponseObject, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return salesUnitStream{ctx: ctx, store: s.store, filter: c.SalesUnitScope()}, nil
}

// salesUnitStream writes the list as it reads it, so a partner with 100,000 sales units costs a
// buffer, not an array.
type salesUnitStream struct {
	ctx    context.Context
	store  vippsmgmt.Store
	filter vippsmgmt.SalesUnitFilter
}

func (l salesUnitStream) VisitGetAllSalesUnitsResponse(w http.ResponseWriter) error {
	a := newArrayStream(w, nil)
	var b []byte // one item, reused: a list of 100,000 costs no garbage per item here
	err := l.store.EachSalesUnit(l.ctx, l.filter, func(m vippsmgmt.MsnInfo) error {
		b = appendMsnInfo(b[:0], m)
		return a.item(b)
	})
	return a.end(err)
}

// arrayStream writes a 200 answer holding a JSON array item by item while a list is read. The
// status goes out with the first item (or at the end of an empty list), so that an error before
// it is still answered with a problem.
type arrayStream struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	header  func(http.Header) // adds the list's own headers to the answer; may be nil
	started bool
}

func newArrayStream(w http.ResponseWriter, header func(http.Header)) *arrayStream {
	return &arrayStream{w: w, bw: bufio.NewWriterSize(w, 32<<10), header: header}
}

func (a *arrayStream) start() {
	a.w.Header()["Content-Type"] = jsonUTF8ContentType
	if a.header != nil {
		a.header(a.w.Header())
	}
	a.w.WriteHeader(http.StatusOK)
	a.bw.WriteByte('[')
	a.started = true
}

// item writes one JSON-encoded item.
func (a *arrayStream) item(b []byte) error {
	if !a.started {
		a.start()
	} else {
		a.bw.WriteByte(',')
	}
	_, err := a.bw.Write(b)
	return err
}

// end closes the array once the list's read returned err.
func (a *arrayStream) end(err error) error {
	if err != nil {
		if !a.started {
			return err // nothing written yet: the error handler answers with a problem
		}
		// Half a JSON array must not look complete: cut the connection.
		panic(http.ErrAbortHandler)
	}
	if !a.started {
		a.start()
	}
	a.bw.WriteString("]\n")
	return a.bw.Flush()
}

// appendMsnInfo appends m as json.Marshal(openapi.MsnInfo) does.
func appendMsnInfo(b []byte, m vippsmgmt.MsnInfo) []byte {
	b = append(b, `{"msn":`...)
	b = appendJSONString(b, m.MSN)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, m.Name)
	return append(b, '}')
}

// GetMsn serves GET /management/v1/sales-units/{msn}.
func (s *Server) GetMsn(ctx context.Context, req openapi.GetMsnRequestObject) (openapi.GetMsnResponseObject, error) {
	a, err := s.salesUnit(ctx, req.Msn)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// derivedUnitStore is a store that keeps a value derived from each sales unit it caches
// (sqlstore.DB): GetMsn keeps its answer there, so a read of a cached unit writes stored bytes.
type derivedUnitStore interface {
	FindSalesUnitDerived(ctx context.Context, msn string, derive func(*vippsmgmt.SalesUnit) any) (any, error)
}

// salesUnit is GetMsn's answer, unboxed for fastGetMsn.
func (s *Server) salesUnit(ctx context.Context, msn string) (*salesUnitAnswer, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	var a *salesUnitAnswer
	if s.derivedUnits != nil {
		var v any
		v, err = s.derivedUnits.FindSalesUnitDerived(ctx, msn, newSalesUnitAnswer)
		a, _ = v.(*salesUnitAnswer)
	} else {
		var su *vippsmgmt.SalesUnit
		if su, err = s.store.FindSalesUnitByMSN(ctx, msn); err == nil {
			a = newSalesUnitAnswer(su).(*salesUnitAnswer)
		}
	}
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND || (err == nil && a != nil && !c.CanSee(a.unit)) {
		return nil, salesUnitNotFound(msn)
	} else if err != nil {
		return nil, err
	} else if a == nil {
		return nil, errors.New("sales unit answer of an unexpected type")
	}
	return a, nil
}

// salesUnitAnswer is GetMsn's answer, made once per cached unit and then shared by every read of
// it until the unit changes: nothing may change it.
type salesUnitAnswer struct {
	unit *vippsmgmt.SalesUnit // who may see it: Caller.CanSee
	body []byte               // the JSON answer
}

func newSalesUnitAnswer(su *vippsmgmt.SalesUnit) any {
	r := salesUnitResponse{
		Msn: su.MSN, Name: su.Name,
		BusinessIdentifier: openapi.BusinessIdentifier{Scheme: su.Merchant.Scheme, Id: su.Merchant.ID},
		Configuration:      configurationOut(su.Configuration),
	}
	return &salesUnitAnswer{unit: su, body: r.appendJSON(nil)}
}

// jsonUTF8ContentType is set as the header's value without a copy: nothing changes a header
// value in place, and appending to it copies.
var jsonUTF8ContentType = []string{"application/json;charset=UTF-8"}

func (a *salesUnitAnswer) VisitGetMsnResponse(w http.ResponseWriter) error {
	w.Header()["Content-Type"] = jsonUTF8ContentType
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(a.body)
	return err
}

// salesUnitResponse is GetMsn's answer: the bytes json.Encoder writes for
// openapi.GetMsn200ApplicationJSONCharsetUTF8Response (TestSalesUnitResponseJSON holds it to that),
// written without reflection, as this is the API's most frequent read.
type salesUnitResponse openapi.SalesUnit

// appendJSON appends r as encoding/json does: fields in declaration order, omitempty pointers
// left out, a newline at the end.
func (r salesUnitResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"businessIdentifier":{"id":`...)
	b = appendJSONString(b, r.BusinessIdentifier.Id)
	b = append(b, `,"scheme":`...)
	b = appendJSONString(b, r.BusinessIdentifier.Scheme)
	b = append(b, `},"configuration":{`...)
	c := r.Configuration
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	flag := func(name string, v *bool) {
		if v != nil {
			field(name)
			b = strconv.AppendBool(b, *v)
		}
	}
	if c.CaptureType != nil {
		field("captureType")
		b = appendJSONString(b, string(*c.CaptureType))
	}
	flag("creditCardPaymentAllowed", c.CreditCardPaymentAllowed)
	flag("landingPagePhoneNumberLocked", c.LandingPagePhoneNumberLocked)
	flag("lateCaptureAllowed", c.LateCaptureAllowed)
	flag("longLivingPaymentAllowed", c.LongLivingPaymentAllowed)
	flag("partialCaptureAllowed", c.PartialCaptureAllowed)
	flag("paymentAllowed", c.PaymentAllowed)
	flag("recurringAllowed", c.RecurringAllowed)
	flag("skipLandingPageAllowed", c.SkipLandingPageAllowed)
	b = append(b, `},"msn":`...)
	b = appendJSONString(b, r.Msn)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string exactly as encoding/json writes it: printable ASCII
// other than the characters it escapes is copied, anything else goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// configurationIn is configurationOut's inverse; nil (no configuration given) stays nil.
func configurationIn(c *openapi.SalesUnitConfiguration) *vippsmgmt.Configuration {
	if c == nil {
		return nil
	}
	return &vippsmgmt.Configuration{
		PaymentAllowed: c.PaymentAllowed, CaptureType: (*string)(c.CaptureType), SkipLandingPageAllowed: c.SkipLandingPageAllowed,
		RecurringAllowed: c.RecurringAllowed, PartialCaptureAllowed: c.PartialCaptureAllowed,
		LateCaptureAllowed: c.LateCaptureAllowed, LandingPagePhoneNumberLocked: c.LandingPagePhoneNumberLocked,
		LongLivingPaymentAllowed: c.LongLivingPaymentAllowed, CreditCardPaymentAllowed: c.CreditCardPaymentAllowed,
	}
}

func configurationOut(c *vippsmgmt.Configuration) openapi.SalesUnitConfiguration {
	if c == nil {
		return openapi.SalesUnitConfiguration{}
	}
	out := openapi.SalesUnitConfiguration{
		PaymentAllowed: c.PaymentAllowed, SkipLandingPageAllowed: c.SkipLandingPageAllowed,
		RecurringAllowed: c.RecurringAllowed, PartialCaptureAllowed: c.PartialCaptureAllowed,
		LateCaptureAllowed: c.LateCaptureAllowed, LandingPagePhoneNumberLocked: c.LandingPagePhoneNumberLocked,
		LongLivingPaymentAllowed: c.LongLivingPaymentAllowed, CreditCardPaymentAllowed: c.CreditCardPaymentAllowed,
	}
	// The configuration is the caller's own copy, so its capture type can be shared.
	out.CaptureType = (*openapi.SalesUnitConfigurationCaptureType)(c.CaptureType)
	return out
}

// visibleUnitsAt lists the units the caller may see of the merchant a lookup's path names. An
// identifier that no merchant can have (a wrong check digit, a malformed number) is a 400 naming
// the parameter rather than a 404, so a typing mistake is told apart from a merchant the caller
// may not see.
func (s *Server) visibleUnitsAt(ctx context.Context, scheme, id string, limit int) (vippsmgmt.BusinessIdentifier, []openapi.MsnInfo, error) {
	b := vippsmgmt.BusinessIdentifier{Scheme: scheme, ID: id}
	c, err := callerFrom(ctx)
	if err != nil {
		return b, nil, err
	}
	if err := vippsmgmt.InvalidFields(b.Validate("")); err != nil {
		return b, nil, err
	}
	out := []openapi.MsnInfo{}
	f := c.SalesUnitScope()
	if f.Merchant != nil && *f.Merchant != b {
		return b, out, nil // merchant keys see their own organisation only
	}
	f.Merchant, f.Limit = &b, limit
	err = s.store.EachSalesUnit(ctx, f, func(m vippsmgmt.MsnInfo) error {
		out = append(out, openapi.MsnInfo{Msn: m.MSN, Name: m.Name})
		return nil
	})
	return b, out, err
}

// GetMerchantByBusinessIdentifier serves GET /management/v1/merchants/{scheme}/{id}. A partner
// sees a merchant only while one of its active sales units is connected to the partner.
func (s *Server) GetMerchantByBusinessIdentifier(ctx context.Context, req openapi.GetMerchantByBusinessIdentifierRequestObject) (openapi.GetMerchantByBusinessIdentifierResponseObject, error) {
	// Both queries always run, so an unknown merchant and another partner's answer alike.
	b, units, err := s.visibleUnitsAt(ctx, req.Scheme, req.Id, 1)
	if err != nil {
		return nil, err
	}
	m, err := s.store.FindMerchant(ctx, b)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND || (err == nil && (len(units) == 0 || m.Status != vippsmgmt.MerchantActive)) {
		return nil, merchantNotFound(b)
	} else if err != nil {
		return nil, err
	}
	return openapi.GetMerchantByBusinessIdentifier200ApplicationJSONCharsetUTF8Response(merchantOut(m)), nil
}

func merchantOut(m *vippsmgmt.Merchant) openapi.Merchant {
	return openapi.Merchant{
		BusinessIdentifier:  openapi.BusinessIdentifier{Scheme: m.BusinessIdentifier.Scheme, Id: m.BusinessIdentifier.ID},
		Name:                m.Name,
		Status:              openapi.MerchantStatus(m.Status),
		CreatedAt:           m.CreatedAt,
		UpdatedAt:           m.UpdatedAt,
		CountryCode:         m.CountryCode,
		BusinessAddress:     addressOut(m.BusinessAddress),
		BusinessPostAddress: addressOut(m.BusinessPostAddress),
	}
}

func addressOut(a *vippsmgmt.Address) *openapi.Address {
	if a == nil {
		return nil
	}
	lines := a.Lines
	if lines == nil {
		lines = []string{}
	}
	return &openapi.Address{Lines: lines, PostCode: a.PostCode, City: a.City, CountryCode: a.CountryCode}
}

// GetSalesUnitsByBusinessIdentifier serves GET /management/v1/merchants/{scheme}/{id}/sales-units.
func (s *Server) GetSalesUnitsByBusinessIdentifier(ctx context.Context, req openapi.GetSalesUnitsByBusinessIdentifierRequestObject) (openapi.GetSalesUnitsByBusinessIdentifierResponseObject, error) {
	b, units, err := s.visibleUnitsAt(ctx, req.Scheme, req.Id, 0)
	if err != nil {
		return nil, err
	}
	if len(units) == 0 {
		return nil, merchantNotFound(b)
	}
	return openapi.GetSalesUnitsByBusinessIdentifier200ApplicationJSONCharsetUTF8Response(units), nil
}

// GetPartnerPricePackages serves GET /management/v1/partners/price-packages.
func (s *Server) GetPartnerPricePackages(ctx context.Context, _ openapi.GetPartnerPricePackagesRequestObject) (openapi.GetPartnerPricePackagesResponseObject, error) {
	c, err := partnerFrom(ctx)
	if err != nil {
		return nil, err
	}
	pkgs, err := s.store.FindPricePackages(ctx, vippsmgmt.PricePackageFilter{PartnerID: c.PartnerID})
	if err != nil {
		return nil, err
	}
	out := make([]openapi.PricePackage, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, pricePackageOut(p))
	}
	return openapi.GetPartnerPricePackages200ApplicationJSONCharsetUTF8Response(out), nil
}

func pricePackageOut(p *vippsmgmt.PricePackage) openapi.PricePackage {
	out := openapi.PricePackage{
		PricePackageId: uuid.MustParse(p.ID), Name: p.Name, Description: p.Description,
		VisibleInSignupForm: p.VisibleInSignupForm, Commission: p.Commission,
	}
	if p.ProductType != nil {
		pt := openapi.ProductType(*p.ProductType)
		out.ProductType = &pt
	}
	if p.Market != nil {
		m := openapi.PricePackageMarket(*p.Market)
		out.Market = &m
	}
	return out
}

// routePrefill is the prefill, the one operation whose body its handler decodes itself.
const routePrefill = "POST /management/v1/product-orders"

// orderProduct serves POST /management/v1/product-orders in place of the generated strict handler.
// The body is read once and decoded once, into the generated request type, by openapi.DecodeJSON,
// which holds it to the contract's types, required members and names; it is converted once to the
// domain's order, and the domain's rules judge its values once: in the store, in the prefill's
// transaction, or here when the decoder has already refused the body, so that one answer names
// every fault.
func (s *Server) orderProduct(w http.ResponseWriter, r *http.Request, params openapi.OrderProductParams) {
	raw, ok := s.spec.ReadBody(w, r)
	if !ok {
		return
	}
	var in openapi.ProductOrderRequest
	faults, err := openapi.DecodeJSON(raw, &in)
	var resp openapi.OrderProductResponseObject
	if err == nil {
		resp, err = s.prefill(r.Context(), params.IdempotencyKey, &in, faults)
	}
	if err == nil {
		err = resp.VisitOrderProductResponse(w)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// OrderProduct serves POST /management/v1/product-orders for a body the generated strict handler
// decoded. The server routes the prefill to orderProduct instead, which decodes it as strictly as
// the contract reads; this serves the strict interface's other users.
func (s *Server) OrderProduct(ctx context.Context, req openapi.OrderProductRequestObject) (openapi.OrderProductResponseObject, error) {
	return s.prefill(ctx, req.Params.IdempotencyKey, req.Body, nil)
}

// prefill stores the prefill in for the calling partner, at most once per Idempotency-Key. faults
// are what the decoder found wrong with the body; the prefill is then refused.
func (s *Server) prefill(ctx context.Context, key string, in *openapi.ProductOrderRequest, faults []vippsmgmt.FieldError) (openapi.OrderProductResponseObject, error) {
	c, err := partnerFrom(ctx)
	if err != nil {
		return nil, err
	}
	order := prefillOrder(c.PartnerID, in)
	if len(faults) > 0 {
		return nil, s.refusedPrefill(ctx, order, faults, order.Validate())
	}
	// The hash of the decoded request identifies "the same request": the struct encodes in a fixed
	// order, so formatting and key order of the sent JSON do not matter.
	canonical, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	hash := sha256.Sum256(canonical)
	notePrefill(ctx, hash[:], "")

	var first []byte
	idem := &vippsmgmt.Idempotency{
		PartnerID: c.PartnerID, Key: key, RequestHash: hash[:],
		Answer: func(id string) ([]byte, error) {
			var err error
			first, err = s.prefillAnswer(id)
			return first, err
		},
	}
	id, replayed, err := s.store.CreateProductOrder(ctx, order, idem)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.EINVALID {
		return nil, s.refusedPrefill(ctx, order, nil, err)
	} else if err != nil {
		return nil, err
	}
	notePrefill(ctx, hash[:], id)
	if replayed && idem.Replayed != nil {
		return storedAnswer{body: idem.Replayed, replayed: true}, nil
	}
	if !replayed {
		return storedAnswer{body: first}, nil
	}
	// A key stored before answers were kept: rebuild the answer.
	body, err := s.prefillAnswer(id)
	return storedAnswer{body: body, replayed: true}, err
}

// prefillOrder is the domain's prefill of in for partnerID: every member but the business
// identifier and the product type is a detail the merchant reviews. The details share in's values.
func prefillOrder(partnerID string, in *openapi.ProductOrderRequest) *vippsmgmt.ProductOrder {
	d := vippsmgmt.OrderDetails{
		SalesUnitName:            in.SalesUnitName,
		ProductUseCase:           (*string)(in.ProductUseCase),
		AnnualTurnover:           in.AnnualTurnover,
		AnnualTurnoverPercentage: in.AnnualTurnoverPercentage,
		IntendedPurpose:          in.IntendedPurpose,
		HasRecurring:             in.HasRecurring,
		MerchantCategoryCode:     in.MerchantCategoryCode,
	}
	if in.SalesUnitLogo != nil {
		logo := base64.StdEncoding.EncodeToString(*in.SalesUnitLogo)
		d.SalesUnitLogo = &logo
	}
	if a := in.SettlementBankAccount; a != nil {
		d.SettlementBankAccount = &vippsmgmt.BankAccount{Scheme: a.Scheme, ID: a.Id}
	}
	if in.PricePackageId != nil {
		id := in.PricePackageId.String()
		d.PricePackageID = &id
	}
	if in.App != nil {
		d.App = &vippsmgmt.App{AppName: in.App.AppName}
	}
	if w := in.Website; w != nil {
		d.Website = &vippsmgmt.Website{URL: w.Url, TermsURL: w.TermsUrl, TestWebsiteURL: w.TestWebsiteUrl,
			TestWebsiteUsername: w.TestWebsiteUsername, TestWebsitePassword: w.TestWebsitePassword}
	}
	return &vippsmgmt.ProductOrder{
		Type:               vippsmgmt.OrderPrefill,
		PartnerID:          &partnerID,
		Status:             vippsmgmt.StatusReceived,
		BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: in.BusinessIdentifier.Scheme, ID: in.BusinessIdentifier.Id},
		ProductType:        string(in.ProductType),
		Details:            d,
	}
}

// refusedPrefill names every fault of a refused prefill in one answer: first faults (the
// decoder's), then those of invalid (the domain's rules, as o.Validate or the store answered
// them), then the price package's, each only for a field no earlier one names, nor any field it is
// part of. The store checks the price package after the other rules, so a prefill they refuse
// would otherwise learn of its package only on the next try.
func (s *Server) refusedPrefill(ctx context.Context, o *vippsmgmt.ProductOrder, faults []vippsmgmt.FieldError, invalid error) error {
	var domain *vippsmgmt.Error
	if invalid != nil && !errors.As(invalid, &domain) {
		return invalid
	}
	fields := faults
	if domain != nil {
		if domain.Code != vippsmgmt.EINVALID {
			return invalid
		}
		if len(domain.Fields) == 0 && len(faults) == 0 {
			return invalid // an invalid request that names no field
		}
		fields = namedOnce(fields, domain.Fields)
	}
	if id := o.Details.PricePackageID; id != nil {
		fields = namedOnce(fields, s.checkPricePackage(ctx, *o.PartnerID, o.ProductType, *id))
	}
	return vippsmgmt.InvalidFields(fields)
}

// namedOnce appends the entries of more whose fields are not named in fields, nor inside one named
// there: a field faulted once keeps that reason alone.
func namedOnce(fields, more []vippsmgmt.FieldError) []vippsmgmt.FieldError {
	named := fields
next:
	for _, m := range more {
		for _, f := range named {
			if m.Field == f.Field || (strings.HasPrefix(m.Field, f.Field) &&
				(m.Field[len(f.Field)] == '.' || m.Field[len(f.Field)] == '[')) {
				continue next
			}
		}
		fields = append(fields, m)
	}
	return fields
}

// prefillAnswer is the body of a prefill's 201, as the generated response type would write it.
func (s *Server) prefillAnswer(id string) ([]byte, error) {
	b, err := json.Marshal(openapi.ProductOrderResponse{PrefilledOrderId: uuid.MustParse(id), PrefillUrl: s.prefillURL(id)})
	return append(b, '\n'), err
}

// storedAnswer is a prefill's 201 as first answered. A replay says so in Idempotent-Replayed.
type storedAnswer struct {
	body     []byte
	replayed bool
}

func (a storedAnswer) VisitOrderProductResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	if a.replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(http.StatusCreated)
	_, err := w.Write(a.body)
	return err
}

// checkPricePackage reports what vippsmgmt.PricePackageProblem finds in a prefill the store did
// not reach the package of, so that the answer names it with the other fields.
func (s *Server) checkPricePackage(ctx context.Context, partnerID, productType, id string) []vippsmgmt.FieldError {
	p, err := s.store.FindPricePackageByID(ctx, id)
	if err != nil {
		p = nil
	}
	if why := vippsmgmt.PricePackageProblem(p, partnerID, productType); why != "" {
		return []vippsmgmt.FieldError{{Field: "pricePackageId", Problem: why}}
	}
	return nil
}

func (s *Server) prefillURL(id string) string { return s.cfg.PublicURL + "/register/prefilled/" + id }

// convertJSON copies between a wire type and a domain type with the same JSON shape.
func convertJSON(src, dst any) error {
	b, err := json.Marshal(src)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// GetProductOrders serves GET /management/v2/product-orders.
func (s *Server) GetProductOrders(ctx context.Context, req openapi.GetProductOrdersRequestObject) (openapi.GetProductOrdersResponseObject, error) {
	l, err := s.orderStream(ctx, req.Params.IncludeExpired, false)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// orderStream is the caller's list of orders: v2, or v1 for the deprecated list.
func (s *Server) orderStream(ctx context.Context, includeExpired *bool, v1 bool) (productOrderStream, error) {
	c, err := partnerFrom(ctx)
	if err != nil {
		return productOrderStream{}, err
	}
	f := vippsmgmt.ProductOrderFilter{PartnerID: &c.PartnerID, WithoutDetails: true, IncludeExpired: deref(includeExpired)}
	return productOrderStream{ctx: ctx, s: s, filter: f, v1: v1}, nil
}

// productOrderStream writes the list as it reads it, so a partner's growing list of orders costs
// a buffer, not an array. The bytes are those json.Encoder writes for
// openapi.GetProductOrders200ApplicationJSONCharsetUTF8Response.
type productOrderStream struct {
	ctx    context.Context
	s      *Server
	filter vippsmgmt.ProductOrderFilter
	// v1 is the deprecated v1 list: prefilled orders only, marked Deprecation: true.
	v1 bool
}

// VisitGetProductOrdersV1Response writes the v1 list.
func (l productOrderStream) VisitGetProductOrdersV1Response(w http.ResponseWriter) error {
	return l.VisitGetProductOrdersResponse(w)
}

func (l productOrderStream) VisitGetProductOrdersResponse(w http.ResponseWriter) error {
	var deprecated func(http.Header)
	if l.v1 {
		deprecated = func(h http.Header) { h.Set("Deprecation", "true") }
	}
	a := newArrayStream(w, deprecated)
	now := l.s.clock.Now()
	err := l.s.store.EachProductOrder(l.ctx, l.filter, func(o *vippsmgmt.ProductOrder) error {
		if l.v1 && o.Type != vippsmgmt.OrderPrefill {
			return nil
		}
		b, err := json.Marshal(l.s.orderOut(o, now))
		if err != nil {
			return err
		}
		return a.item(b)
	})
	return a.end(err)
}

// GetProductOrdersV1 serves the deprecated GET /management/v1/product-orders: the v2 list of
// the orders the partner prefilled, without template and manual orders.
func (s *Server) GetProductOrdersV1(ctx context.Context, req openapi.GetProductOrdersV1RequestObject) (openapi.GetProductOrdersV1ResponseObject, error) {
	l, err := s.orderStream(ctx, req.Params.IncludeExpired, true)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (s *Server) orderOut(o *vippsmgmt.ProductOrder, now time.Time) openapi.ProductOrderDetailsResponseV2 {
	id := uuid.MustParse(o.ID)
	typ := openapi.ProductOrderType(o.Type)
	pt := openapi.ProductType(o.ProductType)
	out := openapi.ProductOrderDetailsResponseV2{
		ProductOrderId: &id, ProductOrderType: &typ, ProductType: &pt,
		Status:             openapi.ProductOrderStatus(o.StatusAt(now)),
		BusinessIdentifier: openapi.BusinessIdentifier{Scheme: o.BusinessIdentifier.Scheme, Id: o.BusinessIdentifier.ID},
	}
	if o.Type == vippsmgmt.OrderPrefill {
		u := s.prefillURL(o.ID)
		out.ProductOrderUrl = &u
	}
	if o.SalesUnit != nil && o.Status == vippsmgmt.StatusCompleted {
		out.SalesUnit = &openapi.ProductOrderSalesUnit{Msn: o.SalesUnit.MSN, Name: o.SalesUnit.Name}
	}
	return out
}

// partnerOrder returns the order if it names the caller's partner.
func (s *Server) partnerOrder(ctx context.Context, id string) (*vippsmgmt.ProductOrder, error) {
	c, err := partnerFrom(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.store.FindProductOrderByID(ctx, id)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND || (err == nil && (o.PartnerID == nil || *o.PartnerID != c.PartnerID)) {
		return nil, orderNotFound(id)
	}
	return o, err
}

// GetProductOrderDetails serves GET /management/v2/product-orders/{productOrderId}/details.
func (s *Server) GetProductOrderDetails(ctx context.Context, req openapi.GetProductOrderDetailsRequestObject) (openapi.GetProductOrderDetailsResponseObject, error) {
	o, err := s.partnerOrder(ctx, req.ProductOrderId.String())
	if err != nil {
		return nil, err
	}
	return openapi.GetProductOrderDetails200ApplicationJSONCharsetUTF8Response(s.orderOut(o, s.clock.Now())), nil
}

// GetProductOrderDetailsV1 serves the deprecated GET /management/v1/product-orders/{productOrderId}/details.
func (s *Server) GetProductOrderDetailsV1(ctx context.Context, req openapi.GetProductOrderDetailsV1RequestObject) (openapi.GetProductOrderDetailsV1ResponseObject, error) {
	o, err := s.partnerOrder(ctx, req.ProductOrderId.String())
	if err != nil {
		return nil, err
	}
	deprecation := "true"
	return openapi.GetProductOrderDetailsV1200ApplicationJSONCharsetUTF8Response{
		Body: s.orderOut(o, s.clock.Now()), Headers: openapi.GetProductOrderDetailsV1200ResponseHeaders{Deprecation: &deprecation},
	}, nil
}

// DeleteProductOrder serves DELETE /management/v1/product-orders/{productOrderId}.
func (s *Server) DeleteProductOrder(ctx context.Context, req openapi.DeleteProductOrderRequestObject) (openapi.DeleteProductOrderResponseObject, error) {
	c, err := partnerFrom(ctx)
	if err != nil {
		return nil, err
	}
	id := req.ProductOrderId.String()
	if err := s.store.DeleteProductOrder(ctx, c.PartnerID, id); vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		return nil, orderNotFound(id)
	} else if err != nil {
		return nil, err
	}
	return openapi.DeleteProductOrder200Response{}, nil
}
