package storetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// Start is the time a new Clock shows: microsecond precision, like the stores.
var Start = time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)

// Clock is a settable vippsmgmt.Clock for tests; it only moves when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// OrgNumber is the i-th of a series of distinct business:NO:ORG numbers (i below 1,000,000) with
// valid check digits: 9, i in six digits, and the first last body digit that a check digit completes.
func OrgNumber(i int) string {
	for d := range 10 {
		if id, ok := vippsmgmt.CompleteBusinessID(vippsmgmt.SchemeNOOrg, fmt.Sprintf("9%06d%d", i, d)); ok {
			return id
		}
	}
	panic("no check digit completes " + fmt.Sprint(i))
}
