package auth

import (
	"sync"
	"time"
)

// ttlCache is a bounded map whose entries carry their own expiry. When full, it drops expired
// entries and, failing that, an arbitrary quarter of the rest: it is a cache, so losing an entry
// only costs a recomputation.
type ttlCache[V any] struct {
	max int

	mu sync.RWMutex
	m  map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](max int) *ttlCache[V] {
	return &ttlCache[V]{max: max, m: make(map[string]ttlEntry[V])}
}

// get returns the value of key if it has not expired at now.
func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(key string, v V, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max*3/4 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = ttlEntry[V]{v: v, expires: expires}
}

func (c *ttlCache[V]) delete(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}
