package auth

import (
	"container/list"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiters bounds the limiter map. Keys are remote addresses and client ids, so the map must
// not grow without limit.
const maxLimiters = 10000

// limiterSet holds one token bucket per key (a client id or a remote address), evicting the least
// recently used.
// Evicting a bucket hands that id a fresh burst, which only matters to someone cycling through
// more than maxLimiters ids, and such a caller gets a fresh burst per new id anyway.
type limiterSet struct {
	limit rate.Limit
	burst int

	mu  sync.Mutex
	lru *list.List // of *limiterEntry, most recent first
	m   map[string]*list.Element
}

type limiterEntry struct {
	key string
	lim *rate.Limiter
}

func newLimiterSet(limit rate.Limit, burst int) *limiterSet {
	return &limiterSet{limit: limit, burst: burst, lru: list.New(), m: make(map[string]*list.Element)}
}

// allow takes one token from key's bucket at now. When the bucket is empty it reports how long
// until a token is available and takes nothing, so refused calls do not push the wait further.
func (s *limiterSet) allow(key string, now time.Time) (bool, time.Duration) {
	if s.limit == rate.Inf {
		return true, 0
	}
	s.mu.Lock()
	var lim *rate.Limiter
	if el, ok := s.m[key]; ok {
		s.lru.MoveToFront(el)
		lim = el.Value.(*limiterEntry).lim
	} else {
		lim = rate.NewLimiter(s.limit, s.burst)
		s.m[key] = s.lru.PushFront(&limiterEntry{key: key, lim: lim})
		for s.lru.Len() > maxLimiters {
			old := s.lru.Back()
			s.lru.Remove(old)
			delete(s.m, old.Value.(*limiterEntry).key)
		}
	}
	s.mu.Unlock()

	r := lim.ReserveN(now, 1)
	if !r.OK() { // burst 0: nothing is ever allowed
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfterSeconds rounds d up to whole seconds, at least one, for the Retry-After header.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
