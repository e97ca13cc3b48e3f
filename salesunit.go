package vippsmgmt

import (
	"regexp"
	"strings"
	"time"
)

// Sales unit statuses.
const (
	SalesUnitActive   = "ACTIVE"
	SalesUnitInactive = "INACTIVE"
)

// Capture types of a sales unit's configuration.
const (
	CaptureReserve       = "ReserveCapture"
	CaptureDirect        = "DirectCapture"
	CaptureNotApplicable = "NotApplicable"
)

var msnRE = regexp.MustCompile(`^\d{4,10}$`)

// ValidMSN reports whether s is a merchant serial number as the contract defines it.
func ValidMSN(s string) bool { return msnRE.MatchString(s) }

// BankAccount is a settlement account (BBAN only).
type BankAccount struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

var bankAccountIDRE = regexp.MustCompile(`^\d{9,34}$`)

// Validate checks the contract's rules for a bank account.
func (b *BankAccount) Validate(field string) []FieldError {
	if b == nil {
		return nil
	}
	var errs []FieldError
	if country, ok := strings.CutPrefix(b.Scheme, "BBAN:"); !ok || !oneOf(country, Markets...) {
		errs = append(errs, FieldError{field + ".scheme", "must be BBAN:NO, BBAN:DK or BBAN:FI (IBAN is not accepted)"})
	}
	if !bankAccountIDRE.MatchString(b.ID) {
		errs = append(errs, FieldError{field + ".id", "must be 9 to 34 digits"})
	}
	return errs
}

// Configuration holds the optional flags of a sales unit; a nil field is "not provided".
type Configuration struct {
	PaymentAllowed               *bool   `json:"paymentAllowed,omitempty"`
	CaptureType                  *string `json:"captureType,omitempty"`
	SkipLandingPageAllowed       *bool   `json:"skipLandingPageAllowed,omitempty"`
	RecurringAllowed             *bool   `json:"recurringAllowed,omitempty"`
	PartialCaptureAllowed        *bool   `json:"partialCaptureAllowed,omitempty"`
	LateCaptureAllowed           *bool   `json:"lateCaptureAllowed,omitempty"`
	LandingPagePhoneNumberLocked *bool   `json:"landingPagePhoneNumberLocked,omitempty"`
	LongLivingPaymentAllowed     *bool   `json:"longLivingPaymentAllowed,omitempty"`
	CreditCardPaymentAllowed     *bool   `json:"creditCardPaymentAllowed,omitempty"`
}

// Validate checks the enum of the capture type.
func (c *Configuration) Validate(field string) []FieldError {
	if c == nil || c.CaptureType == nil {
		return nil
	}
	switch *c.CaptureType {
	case CaptureReserve, CaptureDirect, CaptureNotApplicable:
		return nil
	}
	return []FieldError{{field + ".captureType", "must be ReserveCapture, DirectCapture or NotApplicable"}}
}

// SalesUnit is a point of sale identified by its MSN.
type SalesUnit struct {
	MSN                   string
	Name                  string
	Status                string
	Merchant              BusinessIdentifier
	MerchantStatus        string // filled by reads, for visibility checks
	PartnerID             *string
	SettlementBankAccount *BankAccount
	Configuration         *Configuration
	PricePackageID        *string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// SalesUnitNameProblem says what is wrong with a sales unit's name, or "" when nothing is: the one
// rule for the names of stored sales units, wherever they come from. (A prefill's salesUnitName has
// the contract's stricter rule, ValidSalesUnitName.)
func SalesUnitNameProblem(name string) string {
	if n := len([]rune(name)); n < 1 || n > 50 {
		return "must be 1 to 50 characters"
	}
	return BlankProblem(name)
}

// Validate checks a sales unit before it is stored.
func (s *SalesUnit) Validate() error {
	var errs []FieldError
	if !ValidMSN(s.MSN) {
		errs = append(errs, FieldError{"msn", "must be 4 to 10 digits"})
	}
	if p := SalesUnitNameProblem(s.Name); p != "" {
		errs = append(errs, FieldError{"name", p})
	}
	if s.Status != SalesUnitActive && s.Status != SalesUnitInactive {
		errs = append(errs, FieldError{"status", "must be ACTIVE or INACTIVE"})
	}
	errs = append(errs, s.Merchant.Validate("businessIdentifier")...)
	errs = append(errs, s.SettlementBankAccount.Validate("settlementBankAccount")...)
	errs = append(errs, s.Configuration.Validate("configuration")...)
	errs = append(errs, CheckText("", s)...)
	return InvalidFields(errs)
}

// MsnInfo is the short form of a sales unit in lists.
type MsnInfo struct {
	MSN  string `json:"msn"`
	Name string `json:"name"`
}

// SalesUnitFilter selects sales units. Visible restricts to ACTIVE units of ACTIVE merchants, which
// is all the Management API ever shows.
type SalesUnitFilter struct {
	PartnerID *string
	Merchant  *BusinessIdentifier
	Visible   bool
	Query     string // operator views: matches MSN or name
	Limit     int
	After     Cursor // only units after this one in SalesUnitList's order
}

// SalesUnitUpdate changes a sales unit; nil fields stay as they are. ClearPartner disconnects it.
type SalesUnitUpdate struct {
	Name          *string
	Status        *string
	Configuration *Configuration
	PartnerID     *string
	ClearPartner  bool
}

// Apply changes s as the update says and checks the result: the one rule for an operator's change
// to a sales unit, whichever entry point it comes from.
func (u SalesUnitUpdate) Apply(s *SalesUnit) error {
	if u.Name != nil {
		s.Name = *u.Name
	}
	if u.Status != nil {
		s.Status = *u.Status
	}
	if u.Configuration != nil {
		c := *u.Configuration
		s.Configuration = &c
	}
	if u.ClearPartner {
		s.PartnerID = nil
	} else if u.PartnerID != nil {
		p := *u.PartnerID
		s.PartnerID = &p
	}
	return s.Validate()
}
