package vippsmgmt

import "github.com/google/uuid"

// PricePackage is a price a partner may preselect when prefilling an order.
type PricePackage struct {
	ID                  string
	PartnerID           string
	Name                string
	Description         string
	VisibleInSignupForm *bool
	ProductType         *string
	Market              *string
	Commission          *string
}

// PricePackageFilter narrows FindPricePackages.
type PricePackageFilter struct {
	PartnerID string // "": every partner's
	Query     string // matches id, name, partner id or description, case-insensitive
	Limit     int    // 0: all
	After     Cursor // only packages after this one in PricePackageList's order
}

// Markets a price package can be valid for.
var Markets = []string{"DK", "NO", "FI"}

// Validate checks a price package against the contract.
func (p *PricePackage) Validate() error {
	var errs []FieldError
	if _, err := uuid.Parse(p.ID); err != nil || len(p.ID) != 36 {
		errs = append(errs, FieldError{"pricePackageId", "must be a UUID"})
	}
	if n := len([]rune(p.Name)); n < 1 || n > 30 {
		errs = append(errs, FieldError{"name", "must be 1 to 30 characters"})
	}
	if n := len([]rune(p.Description)); n > 6 {
		errs = append(errs, FieldError{"description", "must be at most 6 characters"})
	}
	if p.ProductType != nil && !ValidProductType(*p.ProductType) {
		errs = append(errs, FieldError{"productType", "must be one of PAYMENT_INTEGRATION, CASHIER, CHECKOUT, LOGIN, DONATIONS"})
	}
	if p.Market != nil && !oneOf(*p.Market, Markets...) {
		errs = append(errs, FieldError{"market", "must be DK, NO or FI"})
	}
	errs = append(errs, CheckText("", p)...)
	return InvalidFields(errs)
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// PricePackageProblem says why the package p (nil: unknown) cannot be chosen for a prefill of
// partnerID for productType, or "" when it can: only the partner's own packages, for a product
// type they price. An empty productType (one the schema faulted) skips the product-type checks.
func PricePackageProblem(p *PricePackage, partnerID, productType string) string {
	switch {
	case p == nil || p.PartnerID != partnerID:
		return "is not one of your price packages (see GET /management/v1/partners/price-packages)"
	case productType == "":
		return ""
	case p.ProductType != nil && *p.ProductType != productType:
		return "is a package for " + *p.ProductType + ", not " + productType
	case !oneOf(productType, PricedProductTypes...):
		return "applies only to PAYMENT_INTEGRATION, CASHIER and CHECKOUT"
	}
	return ""
}
