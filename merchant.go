package vippsmgmt

import (
	"regexp"
	"strings"
	"time"
)

// BusinessIdentifier is a merchant's registration number in a scheme such as business:NO:ORG.
type BusinessIdentifier struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

func (b BusinessIdentifier) String() string { return b.Scheme + "/" + b.ID }

// CountryCode returns the two-letter country of a business:CC:TYPE scheme, or "".
func (b BusinessIdentifier) CountryCode() string {
	parts := strings.Split(b.Scheme, ":")
	if len(parts) >= 2 && countryCodeRE.MatchString(parts[1]) {
		return parts[1]
	}
	return ""
}

var (
	businessIDRE  = regexp.MustCompile(`^[\d-]{4,50}$`)
	countryCodeRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Validate checks the contract's rules for a business identifier, and the check digit of the
// schemes whose numbers have one. The fields are named field.scheme and field.id, or scheme and
// id when field is "" (the path parameters of a lookup).
func (b BusinessIdentifier) Validate(field string) []FieldError {
	var errs []FieldError
	if n := len([]rune(b.Scheme)); n < 10 || n > 30 {
		errs = append(errs, FieldError{joinField(field, "scheme"), "must be 10 to 30 characters, such as business:NO:ORG"})
	}
	if !businessIDRE.MatchString(b.ID) {
		errs = append(errs, FieldError{joinField(field, "id"), "must be 4 to 50 digits or dashes"})
	} else if HasBusinessIDCheckDigit(b.Scheme) && !ValidBusinessIDCheckDigit(b) {
		errs = append(errs, FieldError{joinField(field, "id"), businessIDCheckDigitProblem(b.Scheme)})
	}
	return errs
}

// Address is a business or postal address.
type Address struct {
	Lines       []string `json:"lines"`
	PostCode    *string  `json:"postCode"`
	City        *string  `json:"city"`
	CountryCode *string  `json:"countryCode"`
}

// Validate checks the contract's rules for an address.
func (a *Address) Validate(field string) []FieldError {
	if a == nil {
		return nil
	}
	var errs []FieldError
	if a.Lines == nil {
		errs = append(errs, FieldError{field + ".lines", "is required (it may be empty)"})
	}
	for _, l := range a.Lines {
		if len([]rune(l)) > 30 {
			errs = append(errs, FieldError{field + ".lines", "each line must be at most 30 characters"})
			break
		}
	}
	if a.PostCode != nil && len([]rune(*a.PostCode)) > 20 {
		errs = append(errs, FieldError{field + ".postCode", "must be at most 20 characters"})
	}
	if a.City != nil && len([]rune(*a.City)) > 30 {
		errs = append(errs, FieldError{field + ".city", "must be at most 30 characters"})
	}
	if a.CountryCode != nil && !countryCodeRE.MatchString(*a.CountryCode) {
		errs = append(errs, FieldError{field + ".countryCode", "must be two capital letters"})
	}
	return errs
}

// Merchant statuses.
const (
	MerchantActive      = "ACTIVE"
	MerchantDeactivated = "DEACTIVATED"
)

// Merchant is an organisation that owns sales units.
type Merchant struct {
	BusinessIdentifier  BusinessIdentifier
	Name                string
	Status              string
	CountryCode         string
	BusinessAddress     *Address
	BusinessPostAddress *Address
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Validate checks a merchant before it is stored.
func (m *Merchant) Validate() error {
	errs := m.BusinessIdentifier.Validate("businessIdentifier")
	if n := len([]rune(m.Name)); n < 1 || n > 50 {
		errs = append(errs, FieldError{"name", "must be 1 to 50 characters"})
	} else if p := BlankProblem(m.Name); p != "" {
		errs = append(errs, FieldError{"name", p})
	}
	if m.Status != MerchantActive && m.Status != MerchantDeactivated {
		errs = append(errs, FieldError{"status", "must be ACTIVE or DEACTIVATED"})
	}
	if !countryCodeRE.MatchString(m.CountryCode) {
		errs = append(errs, FieldError{"countryCode", "must be two capital letters"})
	}
	errs = append(errs, m.BusinessAddress.Validate("businessAddress")...)
	errs = append(errs, m.BusinessPostAddress.Validate("businessPostAddress")...)
	errs = append(errs, CheckText("", m)...)
	return InvalidFields(errs)
}

// MerchantFilter selects merchants for the operator views.
type MerchantFilter struct {
	Query string // matches name or business id, case-insensitive
	Limit int
	After Cursor // only merchants after this one in MerchantList's order
}
