package vippsmgmt

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Product types of the contract.
var ProductTypes = []string{"PAYMENT_INTEGRATION", "CASHIER", "CHECKOUT", "LOGIN", "DONATIONS"}

// ValidProductType reports whether s is one of ProductTypes.
func ValidProductType(s string) bool { return oneOf(s, ProductTypes...) }

// PricedProductTypes are the product types a price package applies to.
var PricedProductTypes = []string{"PAYMENT_INTEGRATION", "CASHIER", "CHECKOUT"}

// Product order types.
const (
	OrderPrefill  = "PREFILL"
	OrderTemplate = "TEMPLATE"
	OrderManual   = "MANUAL"
)

// Product order statuses.
const (
	StatusReceived       = "RECEIVED"
	StatusMerchantViewed = "MERCHANT_VIEWED"
	StatusOrderSubmitted = "ORDER_SUBMITTED"
	StatusExpired        = "EXPIRED"
	StatusCompleted      = "COMPLETED"
	StatusRejected       = "REJECTED"
)

// PrefillLifetime is how long a prefilled order can be opened and submitted (regulatory: 14 days).
const PrefillLifetime = 336 * time.Hour

// ProductUseCases are the values of productUseCase.
var ProductUseCases = []string{"Website", "WebsiteWithTest", "App", "Unknown"}

// App describes a native app a product is used in.
type App struct {
	AppName string `json:"appName"`
}

// Website describes the merchant's web shop.
type Website struct {
	URL                 string  `json:"url"`
	TermsURL            string  `json:"termsUrl"`
	TestWebsiteURL      *string `json:"testWebsiteUrl,omitempty"`
	TestWebsiteUsername *string `json:"testWebsiteUsername,omitempty"`
	TestWebsitePassword *string `json:"testWebsitePassword,omitempty"`
}

// OrderDetails are the optional fields of a prefill request that the merchant can review and correct.
// The JSON names are the contract's, so the details are stored and shown as sent.
type OrderDetails struct {
	SalesUnitName            *string      `json:"salesUnitName,omitempty"`
	SalesUnitLogo            *string      `json:"salesUnitLogo,omitempty"` // base64 PNG
	SettlementBankAccount    *BankAccount `json:"settlementBankAccount,omitempty"`
	PricePackageID           *string      `json:"pricePackageId,omitempty"`
	ProductUseCase           *string      `json:"productUseCase,omitempty"`
	AnnualTurnover           *int64       `json:"annualTurnover,omitempty"`
	AnnualTurnoverPercentage *string      `json:"annualTurnoverPercentage,omitempty"`
	IntendedPurpose          *string      `json:"intendedPurpose,omitempty"`
	App                      *App         `json:"app,omitempty"`
	Website                  *Website     `json:"website,omitempty"`
	HasRecurring             *bool        `json:"hasRecurring,omitempty"`
	MerchantCategoryCode     *string      `json:"merchantCategoryCode,omitempty"`

	// MerchantName and MerchantAddress are the legal name and business address the merchant gives
	// in the prefill form when the business is not registered yet; approval creates the merchant
	// with them unless the operator names it otherwise. Not part of the partner's contract.
	MerchantName    *string  `json:"merchantName,omitempty"`
	MerchantAddress *Address `json:"merchantAddress,omitempty"`
}

var (
	// The contract's pattern, verbatim: `\)-_` is a range, which RE2 accepts as the contract means it.
	salesUnitNameRE = regexp.MustCompile("^[\\p{L}\\p{M}\\d\\\\(\\)-_\\+\\s\\.`]+$")
	turnoverPctRE   = regexp.MustCompile(`^(10|[1-9])0$`)
	mccRE           = regexp.MustCompile(`^[0-9]{4}$`)
	pngSignature    = []byte("\x89PNG\r\n\x1a\n")
)

// ValidSalesUnitName reports whether name fits the prefill contract's salesUnitName.
func ValidSalesUnitName(name string) bool {
	n := len([]rune(name))
	return n >= 1 && n <= 40 && salesUnitNameRE.MatchString(name) && BlankProblem(name) == "" && TextProblem(name, false) == ""
}

// DecodeLogo decodes a base64 salesUnitLogo and checks that it is a PNG.
func DecodeLogo(s string) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, bytes.HasPrefix(b, pngSignature)
}

// httpsURL reports whether s is an absolute https URL written with only the characters a URL may
// hold unescaped: quotes, angle brackets, spaces and the like would break out of every page and
// e-mail that shows it.
func httpsURL(s string) bool {
	if strings.ContainsAny(s, "\"'<>`{}|\\^ ") || TextProblem(s, false) != "" {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// Validate checks the details against the contract; the price package's ownership is checked by
// the caller, which knows the partner.
func (d *OrderDetails) Validate() []FieldError {
	var errs []FieldError
	add := func(field, problem string) { errs = append(errs, FieldError{field, problem}) }
	if d.SalesUnitName != nil && !ValidSalesUnitName(*d.SalesUnitName) {
		add("salesUnitName", "must be 1 to 40 letters, digits, spaces or .-_+()` characters")
	}
	if d.SalesUnitLogo != nil {
		if _, ok := DecodeLogo(*d.SalesUnitLogo); !ok {
			add("salesUnitLogo", "must be a base64-encoded PNG image")
		}
	}
	errs = append(errs, d.SettlementBankAccount.Validate("settlementBankAccount")...)
	if d.ProductUseCase != nil && !oneOf(*d.ProductUseCase, ProductUseCases...) {
		add("productUseCase", "must be Website, WebsiteWithTest, App or Unknown")
	}
	if d.AnnualTurnover != nil && (*d.AnnualTurnover < 0 || *d.AnnualTurnover > 999999999) {
		add("annualTurnover", "must be between 0 and 999999999")
	}
	if d.AnnualTurnoverPercentage != nil && !turnoverPctRE.MatchString(*d.AnnualTurnoverPercentage) {
		add("annualTurnoverPercentage", "must be one of 10, 20, ..., 100")
	}
	if d.App != nil && d.App.AppName == "" {
		add("app.appName", "is required")
	}
	if w := d.Website; w != nil {
		if !httpsURL(w.URL) {
			add("website.url", "must be an https URL")
		}
		if !httpsURL(w.TermsURL) {
			add("website.termsUrl", "must be an https URL")
		}
		if w.TestWebsiteURL != nil && !httpsURL(*w.TestWebsiteURL) {
			add("website.testWebsiteUrl", "must be an https URL")
		}
	}
	if d.MerchantCategoryCode != nil && !mccRE.MatchString(*d.MerchantCategoryCode) {
		add("merchantCategoryCode", "must be four digits")
	}
	if d.MerchantName != nil {
		if n := len([]rune(*d.MerchantName)); n < 1 || n > 50 {
			add("merchantName", "must be 1 to 50 characters")
		} else if p := BlankProblem(*d.MerchantName); p != "" {
			add("merchantName", p)
		}
	}
	errs = append(errs, d.MerchantAddress.Validate("merchantAddress")...)
	return append(errs, CheckText("", d)...)
}

// takesPayments reports whether a sales unit for productType takes payments: every product but
// LOGIN, which only signs users in.
func takesPayments(productType string) bool { return productType != "LOGIN" }

// SubmitProblems is what keeps the merchant from submitting details d for the order in the prefill
// form: the contract's checks (Validate), and the fields approval and processing need that the
// contract leaves optional for the partner's prefill:
//   - merchantName, when the business is not registered yet (merchantKnown false): approval
//     creates the merchant with it;
//   - settlementBankAccount, for every product that takes payments (all but LOGIN): the sales
//     unit's payouts go there;
//   - website (url and termsUrl), for PAYMENT_INTEGRATION: the contract calls it required for that
//     product and has the merchant type it in the form when the partner did not send it.
//
// The price package is not asked for: the form cannot change the partner's choice.
func (o *ProductOrder) SubmitProblems(d *OrderDetails, merchantKnown bool) []FieldError {
	errs := d.Validate()
	required := func(field, problem string) { errs = append(errs, FieldError{field, problem}) }
	if !merchantKnown && d.MerchantName == nil {
		required("merchantName", "is required: the business is not registered with Vipps MobilePay yet")
	}
	if takesPayments(o.ProductType) && d.SettlementBankAccount == nil {
		required("settlementBankAccount.scheme", "is required: payments are paid out to this account")
		required("settlementBankAccount.id", "is required: payments are paid out to this account")
	}
	if o.ProductType == "PAYMENT_INTEGRATION" && d.Website == nil {
		required("website.url", "is required for online payments (PAYMENT_INTEGRATION)")
		required("website.termsUrl", "is required for online payments (PAYMENT_INTEGRATION)")
	}
	return errs
}

// ProductOrder is an order for a product, made by prefill, template or manually on the portal.
type ProductOrder struct {
	ID                 string
	Type               string
	PartnerID          *string // the partner the order names, if any
	Status             string  // as stored; see StatusAt for what callers see
	BusinessIdentifier BusinessIdentifier
	ProductType        string
	Details            OrderDetails
	RejectionReason    string
	SalesUnit          *MsnInfo // set once COMPLETED
	CreatedAt          time.Time
	UpdatedAt          time.Time
	ViewedAt           *time.Time
	SubmittedAt        *time.Time
	DecidedAt          *time.Time // COMPLETED or REJECTED
	ExpiredAt          *time.Time
}

// ExpiringStatuses are the stored statuses of a prefill that expires: not yet submitted.
var ExpiringStatuses = []string{StatusReceived, StatusMerchantViewed}

// ExpiresAt is when an unsubmitted prefilled order expires.
func (o *ProductOrder) ExpiresAt() time.Time { return o.CreatedAt.Add(PrefillLifetime) }

// ExpiryCutoff is the newest CreatedAt of a prefill that is expired at now. Stores select expired
// orders with it (created at or before the cutoff), which is what StatusAt decides for one order.
func ExpiryCutoff(now time.Time) time.Time { return now.Add(-PrefillLifetime) }

// StatusAt is the status at now: unsubmitted prefills are EXPIRED from ExpiresAt on, whether or not
// a sweep has written it yet.
func (o *ProductOrder) StatusAt(now time.Time) string {
	if o.Type == OrderPrefill && oneOf(o.Status, ExpiringStatuses...) && !o.CreatedAt.After(ExpiryCutoff(now)) {
		return StatusExpired
	}
	return o.Status
}

// Validate checks an order before it is first stored.
func (o *ProductOrder) Validate() error {
	errs := o.BusinessIdentifier.Validate("businessIdentifier")
	if !oneOf(o.Type, OrderPrefill, OrderTemplate, OrderManual) {
		errs = append(errs, FieldError{"productOrderType", "must be PREFILL, TEMPLATE or MANUAL"})
	}
	if !ValidProductType(o.ProductType) {
		errs = append(errs, FieldError{"productType", "must be one of PAYMENT_INTEGRATION, CASHIER, CHECKOUT, LOGIN, DONATIONS"})
	}
	if !oneOf(o.Status, StatusReceived, StatusMerchantViewed, StatusOrderSubmitted, StatusExpired, StatusCompleted, StatusRejected) {
		errs = append(errs, FieldError{"status", "unknown status"})
	}
	if o.Type != OrderPrefill && !oneOf(o.Status, StatusReceived, StatusCompleted, StatusRejected) {
		errs = append(errs, FieldError{"status", o.Type + " orders are only RECEIVED, COMPLETED or REJECTED"})
	}
	if o.Status == StatusCompleted && o.SalesUnit == nil {
		errs = append(errs, FieldError{"salesUnit", "is required for a COMPLETED order"})
	}
	if o.SalesUnit != nil && !ValidMSN(o.SalesUnit.MSN) {
		errs = append(errs, FieldError{"salesUnit.msn", "must be 4 to 10 digits"})
	}
	errs = append(errs, o.Details.Validate()...)
	withoutDetails := *o
	withoutDetails.Details = OrderDetails{}
	errs = append(errs, CheckText("", &withoutDetails)...)
	return InvalidFields(errs)
}

// Steps of the product order lifecycle.
const (
	StepView    = "view"    // merchant opens the prefill link
	StepSubmit  = "submit"  // the order is submitted as it stands (sandbox autopilot, operator API)
	StepApprove = "approve" // operator approves: the sales unit is created
	StepReject  = "reject"  // operator rejects
	StepExpire  = "expire"  // the sweep records an expiry
	StepDelete  = "delete"  // partner withdraws a prefill

	// StepSubmitForm is the merchant submitting the prefill form: StepSubmit, from the same
	// statuses, with details that must leave no SubmitProblems.
	StepSubmitForm = "submit-form"
)

// MaxRejectionReasonChars is the longest rejection reason the operator API's contract takes.
const MaxRejectionReasonChars = 500

// ValidateRejectionReason is the rule for the reason an order is rejected with, from the operator
// API, the console or the autopilot alike: required, text of one or more lines, at most
// MaxRejectionReasonChars characters. The reason goes into the merchant's e-mail.
func ValidateRejectionReason(reason string) error {
	problem := "is required"
	if reason != "" {
		problem = rejectionReasonProblem(reason)
	}
	if problem == "" {
		return nil
	}
	return InvalidFields([]FieldError{{Field: "reason", Problem: problem}})
}

// rejectionReasonProblem says what is wrong with a rejection reason that was given, or "".
func rejectionReasonProblem(reason string) string {
	if msg := BlankProblem(reason); msg != "" {
		return msg
	}
	if msg := TextProblem(reason, MultiLineField("reason")); msg != "" {
		return msg
	}
	if utf8.RuneCountInString(reason) > MaxRejectionReasonChars {
		return fmt.Sprintf("must be at most %d characters", MaxRejectionReasonChars)
	}
	return ""
}

// Apply moves the order one step at now, or returns why it cannot: ECONFLICT for a step the
// lifecycle does not allow from the current status, EINVALID for a delete of a submitted order.
// It is the only place that decides transitions; stores call it inside their transaction.
func (o *ProductOrder) Apply(step string, now time.Time) error {
	from := o.StatusAt(now)
	conflict := func() error {
		return Errorf(ECONFLICT, "A product order in status %s cannot be %s.", from, pastTense[step])
	}
	set := func(to string, at **time.Time) {
		o.Status, o.UpdatedAt = to, now
		if at != nil {
			t := now
			*at = &t
		}
	}
	switch step {
	case StepView:
		if o.Type != OrderPrefill {
			return conflict()
		}
		switch from {
		case StatusReceived:
			set(StatusMerchantViewed, &o.ViewedAt)
			return nil
		case StatusMerchantViewed:
			return nil // opening the link again changes nothing
		}
	case StepSubmit, StepSubmitForm:
		if o.Type == OrderPrefill && (from == StatusReceived || from == StatusMerchantViewed) {
			if o.ViewedAt == nil {
				t := now
				o.ViewedAt = &t
			}
			set(StatusOrderSubmitted, &o.SubmittedAt)
			return nil
		}
	case StepApprove, StepReject:
		to := StatusCompleted
		if step == StepReject {
			to = StatusRejected
		}
		if (o.Type == OrderPrefill && from == StatusOrderSubmitted) || (o.Type != OrderPrefill && from == StatusReceived) {
			set(to, &o.DecidedAt)
			return nil
		}
	case StepExpire:
		if from == StatusExpired && o.Status != StatusExpired {
			t := o.ExpiresAt()
			o.Status, o.UpdatedAt, o.ExpiredAt = StatusExpired, now, &t
			return nil
		}
	case StepDelete:
		if o.Type != OrderPrefill {
			return Errorf(EINVALID, "Only prefilled product orders can be deleted; this one is %s.", o.Type)
		}
		switch from {
		case StatusReceived, StatusMerchantViewed, StatusExpired:
			return nil
		}
		return Errorf(EINVALID, "The product order is %s: it has been submitted by the merchant and can no longer be deleted.", from)
	default:
		return Errorf(EINVALID, "unknown step %q", step)
	}
	return conflict()
}

var pastTense = map[string]string{
	StepView: "viewed", StepSubmit: "submitted", StepSubmitForm: "submitted", StepApprove: "approved",
	StepReject: "rejected", StepExpire: "expired", StepDelete: "deleted",
}

// ProductOrderFilter selects orders.
type ProductOrderFilter struct {
	PartnerID      *string
	Statuses       []string // stored statuses; empty means all
	IncludeExpired bool     // false hides orders whose StatusAt(now) is EXPIRED
	WithoutDetails bool     // leave OrderDetails empty: lists that do not show them skip decoding
	Limit          int
	After          Cursor // only orders after this one in ProductOrderList's order
}

// Approval is what an operator decides when approving: the MSN (empty: next free one) and the
// merchant's name when the merchant is not known yet.
type Approval struct {
	MSN          string `json:"msn,omitempty"`
	MerchantName string `json:"merchantName,omitempty"`
}

// ApprovalMerchant is the merchant an approval creates when the order's is not known yet: named
// by the operator, or else as the merchant gave in the form, at the address the merchant gave,
// active, in the country of the order's business identifier.
func (o *ProductOrder) ApprovalMerchant(name string, now time.Time) (*Merchant, error) {
	if name == "" && o.Details.MerchantName != nil {
		name = *o.Details.MerchantName
	}
	if name == "" {
		return nil, Errorf(EINVALID, "merchantName is required for a new merchant (the merchant gave none in the form)")
	}
	cc := o.BusinessIdentifier.CountryCode()
	if cc == "" {
		return nil, Errorf(EINVALID, "The business identifier scheme %s names no country.", o.BusinessIdentifier.Scheme)
	}
	m := &Merchant{BusinessIdentifier: o.BusinessIdentifier, Name: name, Status: MerchantActive, CountryCode: cc,
		BusinessAddress: o.Details.MerchantAddress, CreatedAt: now, UpdatedAt: now}
	return m, m.Validate()
}

// ApprovalSalesUnit is the sales unit approving the order creates under msn for merchant m: named
// as the order asks or else after the merchant, connected to the order's partner with its price
// package and settlement account, taking payments unless the product is LOGIN, with reserve
// capture, and recurring payments as the order says.
func (o *ProductOrder) ApprovalSalesUnit(msn string, m *Merchant, now time.Time) *SalesUnit {
	name := m.Name
	if o.Details.SalesUnitName != nil && *o.Details.SalesUnitName != "" {
		name = *o.Details.SalesUnitName
	}
	paymentAllowed := takesPayments(o.ProductType)
	recurring := o.Details.HasRecurring != nil && *o.Details.HasRecurring
	capture := CaptureReserve
	return &SalesUnit{
		MSN:                   msn,
		Name:                  name,
		Status:                SalesUnitActive,
		Merchant:              o.BusinessIdentifier,
		MerchantStatus:        m.Status,
		PartnerID:             o.PartnerID,
		SettlementBankAccount: o.Details.SettlementBankAccount,
		Configuration:         &Configuration{PaymentAllowed: &paymentAllowed, CaptureType: &capture, RecurringAllowed: &recurring},
		PricePackageID:        o.Details.PricePackageID,
		CreatedAt:             now,
		UpdatedAt:             now,
	}
}

// Idempotency identifies a write that may be retried: the caller's key and a hash of the request.
// The first request's answer is stored with the key, so that a retry gets those very bytes back
// from any process, even one that would word the answer differently (another --public-url), and
// even when the order was deleted since.
type Idempotency struct {
	PartnerID   string
	Key         string
	RequestHash []byte
	// Answer builds the answer to the first request from the new order's id; the store keeps it
	// with the key in the order's transaction. Nil stores no answer.
	Answer func(orderID string) ([]byte, error)
	// Replayed is set by the store when the key was used before with the same request: the first
	// request's stored answer, or nil for a key stored without one.
	Replayed []byte
}

// IdempotencyRetention is how long an Idempotency-Key is remembered at least, by the server's
// clock (a sandbox clock moved forward forgets keys too). Keys are purged after twice as long.
const IdempotencyRetention = 24 * time.Hour
