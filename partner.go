package vippsmgmt

import (
	"context"
	"regexp"
	"time"
)

// Partner is an integrator acting on behalf of the merchants connected to it.
type Partner struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// PartnerFilter narrows FindPartners.
type PartnerFilter struct {
	Query string // matches id or name, case-insensitive
	Limit int    // 0: all
	After Cursor // only partners after this one in PartnerList's order
}

var partnerIDRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`)

// Validate checks a partner before it is stored.
func (p *Partner) Validate() error {
	var errs []FieldError
	if !partnerIDRE.MatchString(p.ID) {
		errs = append(errs, FieldError{"partnerId", "must be 1 to 64 letters, digits, dots, dashes or underscores"})
	}
	if n := len([]rune(p.Name)); n < 1 || n > 100 {
		errs = append(errs, FieldError{"name", "must be 1 to 100 characters"})
	}
	errs = append(errs, CheckText("", p)...)
	return InvalidFields(errs)
}

// Kinds of API keys.
const (
	KeyPartner    = "partner"    // standard flow, partner's whole portfolio
	KeyManagement = "management" // miami flow, Management API only
	KeyMerchant   = "merchant"   // standard flow, one sales unit's merchant
)

// APIKey is a key set. Secrets are stored only as keyed hashes (see auth.Hasher).
type APIKey struct {
	ClientID            string
	Kind                string
	PartnerID           *string // partner and management keys
	MSN                 *string // merchant keys
	SecretHash          []byte
	SubscriptionKeyHash []byte // nil for management keys
	Revoked             bool
	CreatedAt           time.Time
}

var clientIDRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$`)

// Validate checks a key set before it is stored.
func (k *APIKey) Validate() error {
	var errs []FieldError
	if !clientIDRE.MatchString(k.ClientID) {
		errs = append(errs, FieldError{"clientId", "must be 1 to 100 letters, digits, dots, dashes or underscores"})
	}
	switch k.Kind {
	case KeyPartner, KeyManagement:
		if k.PartnerID == nil || k.MSN != nil {
			errs = append(errs, FieldError{"kind", k.Kind + " keys belong to a partner"})
		}
	case KeyMerchant:
		if k.MSN == nil || k.PartnerID != nil {
			errs = append(errs, FieldError{"kind", "merchant keys belong to a sales unit"})
		}
	default:
		errs = append(errs, FieldError{"kind", "must be partner, management or merchant"})
	}
	if len(k.SecretHash) == 0 {
		errs = append(errs, FieldError{"clientSecret", "is required"})
	}
	if k.Kind == KeyManagement && k.SubscriptionKeyHash != nil {
		errs = append(errs, FieldError{"subscriptionKey", "management keys have no subscription key"})
	}
	if k.Kind != KeyManagement && len(k.SubscriptionKeyHash) == 0 {
		errs = append(errs, FieldError{"subscriptionKey", "is required for " + k.Kind + " keys"})
	}
	return InvalidFields(errs)
}

// Caller is the authenticated party of a Management API request, handed to handlers in the context.
type Caller struct {
	ClientID  string
	Kind      string
	PartnerID string             // partner and management keys
	MSN       string             // merchant keys: the key's own sales unit
	Merchant  BusinessIdentifier // merchant keys: the organisation owning MSN
	// Label is Kind + ":" + ClientID, the caller's name in the request log, made once per key set
	// rather than on every request; empty when the authenticator did not set it.
	Label string
}

// LogLabel returns c.Label, or makes it.
func (c Caller) LogLabel() string {
	if c.Label != "" {
		return c.Label
	}
	return c.Kind + ":" + c.ClientID
}

// IsPartner reports whether the caller acts as a partner.
func (c Caller) IsPartner() bool { return c.Kind == KeyPartner || c.Kind == KeyManagement }

// SalesUnitScope returns the filter of the sales units the caller may see.
func (c Caller) SalesUnitScope() SalesUnitFilter {
	f := SalesUnitFilter{Visible: true}
	if c.IsPartner() {
		p := c.PartnerID
		f.PartnerID = &p
	} else {
		m := c.Merchant
		f.Merchant = &m
	}
	return f
}

// CanSee reports whether the caller may see the sales unit: it must be active, its merchant
// active, and it must be connected to the partner or owned by the merchant.
func (c Caller) CanSee(su *SalesUnit) bool {
	if su.Status != SalesUnitActive || su.MerchantStatus != MerchantActive {
		return false
	}
	if c.IsPartner() {
		return su.PartnerID != nil && *su.PartnerID == c.PartnerID
	}
	return su.Merchant == c.Merchant
}

type callerKey struct{}

// NewContextWithCaller returns ctx carrying the authenticated caller.
func NewContextWithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFromContext returns the caller the authentication middleware put in ctx.
func CallerFromContext(ctx context.Context) (Caller, bool) {
	switch v := ctx.Value(callerKey{}).(type) {
	case Caller:
		return v, true
	case *CallerSlot:
		return v.caller, v.set
	}
	return Caller{}, false
}

// CallerSlot is a place for the caller that a request's context offers before authentication, so
// that authentication fills it in (WithCaller) instead of deriving a new context and request.
// A context type offers it by answering Value with the slot's Value first.
type CallerSlot struct {
	caller Caller
	set    bool
}

// Value returns the slot when key is the caller's context key.
func (s *CallerSlot) Value(key any) (any, bool) {
	if _, ok := key.(callerKey); ok {
		return s, true
	}
	return nil, false
}

// WithCaller returns a context carrying c: ctx itself with c in the empty slot ctx offers, or
// else a new context.
func WithCaller(ctx context.Context, c Caller) context.Context {
	if slot, ok := ctx.Value(callerKey{}).(*CallerSlot); ok && !slot.set {
		slot.caller, slot.set = c, true
		return ctx
	}
	return NewContextWithCaller(ctx, c)
}
