package sqlstore

import (
	"database/sql"
	"encoding/json"
	"sync"

	"github.com/vippsmgmt/vippsmgmt"
)

// configCache remembers decoded sales-unit configurations by their stored JSON. A handful of
// distinct configurations serve every read of GET /management/v1/sales-units/{msn}, and decoding
// JSON on each read was about a tenth of that request's cost. Callers get copies, so the cached
// values never change.
var configCache = struct {
	sync.RWMutex
	m map[string]*vippsmgmt.Configuration
}{m: map[string]*vippsmgmt.Configuration{}}

// maxCachedConfigs bounds the cache; past it configurations are decoded on every read.
const maxCachedConfigs = 256

// scanConfiguration decodes a nullable configuration column, as jsonScan does.
func scanConfiguration(v sql.NullString) (*vippsmgmt.Configuration, error) {
	if !v.Valid {
		return nil, nil
	}
	configCache.RLock()
	c, ok := configCache.m[v.String]
	configCache.RUnlock()
	if ok {
		return cloneConfiguration(c), nil
	}
	c = new(vippsmgmt.Configuration)
	if err := json.Unmarshal([]byte(v.String), c); err != nil {
		return nil, err
	}
	configCache.Lock()
	if len(configCache.m) < maxCachedConfigs {
		configCache.m[v.String] = c
	}
	configCache.Unlock()
	return cloneConfiguration(c), nil
}

// cloneConfiguration copies c deeply: no pointer of the copy reaches into c.
func cloneConfiguration(c *vippsmgmt.Configuration) *vippsmgmt.Configuration {
	out := &vippsmgmt.Configuration{
		PaymentAllowed:               cloneBool(c.PaymentAllowed),
		SkipLandingPageAllowed:       cloneBool(c.SkipLandingPageAllowed),
		RecurringAllowed:             cloneBool(c.RecurringAllowed),
		PartialCaptureAllowed:        cloneBool(c.PartialCaptureAllowed),
		LateCaptureAllowed:           cloneBool(c.LateCaptureAllowed),
		LandingPagePhoneNumberLocked: cloneBool(c.LandingPagePhoneNumberLocked),
		LongLivingPaymentAllowed:     cloneBool(c.LongLivingPaymentAllowed),
		CreditCardPaymentAllowed:     cloneBool(c.CreditCardPaymentAllowed),
	}
	if c.CaptureType != nil {
		t := *c.CaptureType
		out.CaptureType = &t
	}
	return out
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}
