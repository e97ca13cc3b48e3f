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
	m   map[string]cachedUnit
}

type cachedUnit struct {
	su      vippsmgmt.SalesUnit
	expires time.Time
}

const (
	unitCacheTTL = time.Second
	unitCacheMax = 200_000 // past it the cache starts over
)

func newUnitCache() *unitCache { return &unitCache{m: map[string]cachedUnit{}} }

// get returns a copy of the cached unit; callers may change it freely.
func (c *unitCache) get(msn string) (*vippsmgmt.SalesUnit, bool) {
	c.mu.RLock()
	e, ok := c.m[msn]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
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
	c.m[su.MSN] = cachedUnit{su: *cloneSalesUnit(su), expires: time.Now().Add(unitCacheTTL)}
}

// invalidate forgets everything; called after a write to sales units or merchants commits.
func (c *unitCache) invalidate() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.m)
	c.mu.Unlock()
}

func cloneSalesUnit(s *vippsmgmt.SalesUnit) *vippsmgmt.SalesUnit {
	out := *s
	if s.PartnerID != nil {
		v := *s.PartnerID
		out.PartnerID = &v
	}
	if s.PricePackageID != nil {
		v := *s.PricePackageID
		out.PricePackageID = &v
	}
	if s.SettlementBankAccount != nil {
		v := *s.SettlementBankAccount
		out.SettlementBankAccount = &v
	}
	if s.Configuration != nil {
		out.Configuration = cloneConfiguration(s.Configuration)
	}
	return &out
}

// unitsChanged is called after a write to sales units or merchants has committed.
func (d *DB) unitsChanged() {
	if d.units != nil {
		d.units.invalidate()
	}
}
