package sqlstore

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// unitCache keeps sales units read by MSN, the read behind every GET
// /management/v1/sales-units/{msn} and every merchant-key lookup. It is used on SQLite only,
// where one server process owns the database file: every write to sales units or merchants goes
// through this process and clears the cache, so reads are never stale. A generation number keeps
// a read that raced a write from storing what it read before the write. The short lifetime only
// bounds staleness should a second process write the same file anyway. (Several processes share a
// database on PostgreSQL, which is read every time.)
type unitCache struct {
	gen atomic.Uint64
	mu  sync.RWMutex
	m   map[string]*cachedUnit
}

// cachedUnit is never changed once in the map, except for derived, which is written under the
// cache's write lock.
type cachedUnit struct {
	su vippsmgmt.SalesUnit
	// expires carries the monotonic clock, which time.Until reads alone, at half time.Now's cost.
	expires time.Time
	// derived is what FindSalesUnitDerived made of su; nil until it is asked for.
	derived any
}

const (
	unitCacheTTL = time.Second
	unitCacheMax = 200_000 // past it the cache starts over
)

func newUnitCache() *unitCache { return &unitCache{m: map[string]*cachedUnit{}} }

// get returns a copy of the cached unit; callers may change it freely.
func (c *unitCache) get(msn string) (*vippsmgmt.SalesUnit, bool) {
	c.mu.RLock()
	e := c.m[msn]
	c.mu.RUnlock()
	if e == nil || time.Until(e.expires) < 0 {
		return nil, false
	}
	return cloneSalesUnit(&e.su), true
}

// put stores a unit read while the cache was at generation gen, unless a write has come since.
func (c *unitCache) put(gen uint64, su *vippsmgmt.SalesUnit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if len(c.m) >= unitCacheMax {
		clear(c.m)
	}
	c.m[su.MSN] = &cachedUnit{su: *cloneSalesUnit(su), expires: time.Now().Add(unitCacheTTL)}
}

// getDerived returns what was derived from the cached unit msn, while the unit is cached.
func (c *unitCache) getDerived(msn string) (any, bool) {
	c.mu.RLock()
	e := c.m[msn]
	var v any
	var expires time.Time
	if e != nil {
		v, expires = e.derived, e.expires
	}
	c.mu.RUnlock()
	if v == nil || time.Until(expires) < 0 {
		return nil, false
	}
	return v, true
}

// putDerived keeps v, derived from unit msn as read at generation gen, with the cached unit,
// unless a write has come since.
func (c *unitCache) putDerived(gen uint64, msn string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[msn]; e != nil && c.gen.Load() == gen {
		e.derived = v
	}
}

// invalidate forgets everything; called after a write to sales units or merchants commits.
func (c *unitCache) invalidate() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.m)
	c.mu.Unlock()
}

// unitCopy is a sales unit with room for everything its pointers reach, so that a copy for a
// reader costs one allocation instead of one per pointer (this copy is on the API's most frequent
// read).
type unitCopy struct {
	su             vippsmgmt.SalesUnit
	cfg            vippsmgmt.Configuration
	bank           vippsmgmt.BankAccount
	partnerID      string
	pricePackageID string
	captureType    string
	flags          [8]bool
}

// cloneSalesUnit copies s deeply: no pointer of the copy reaches into s.
func cloneSalesUnit(s *vippsmgmt.SalesUnit) *vippsmgmt.SalesUnit {
	c := &unitCopy{su: *s}
	out := &c.su
	if s.PartnerID != nil {
		c.partnerID = *s.PartnerID
		out.PartnerID = &c.partnerID
	}
	if s.PricePackageID != nil {
		c.pricePackageID = *s.PricePackageID
		out.PricePackageID = &c.pricePackageID
	}
	if s.SettlementBankAccount != nil {
		c.bank = *s.SettlementBankAccount
		out.SettlementBankAccount = &c.bank
	}
	if cfg := s.Configuration; cfg != nil {
		out.Configuration = &c.cfg
		if cfg.CaptureType != nil {
			c.captureType = *cfg.CaptureType
			c.cfg.CaptureType = &c.captureType
		}
		flag := func(i int, dst **bool, src *bool) {
			if src != nil {
				c.flags[i] = *src
				*dst = &c.flags[i]
			}
		}
		flag(0, &c.cfg.PaymentAllowed, cfg.PaymentAllowed)
		flag(1, &c.cfg.SkipLandingPageAllowed, cfg.SkipLandingPageAllowed)
		flag(2, &c.cfg.RecurringAllowed, cfg.RecurringAllowed)
		flag(3, &c.cfg.PartialCaptureAllowed, cfg.PartialCaptureAllowed)
		flag(4, &c.cfg.LateCaptureAllowed, cfg.LateCaptureAllowed)
		flag(5, &c.cfg.LandingPagePhoneNumberLocked, cfg.LandingPagePhoneNumberLocked)
		flag(6, &c.cfg.LongLivingPaymentAllowed, cfg.LongLivingPaymentAllowed)
		flag(7, &c.cfg.CreditCardPaymentAllowed, cfg.CreditCardPaymentAllowed)
	}
	return out
}

// unitsChanged is called after a write to sales units or merchants has committed.
func (d *DB) unitsChanged() {
	if d.units != nil {
		d.units.invalidate()
	}
}
