// Package clock provides the server's clock: real time plus an offset that the operator can move
// forward in sandbox mode, so expiry and token lifetimes can be tested without waiting 14 days.
package clock

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// SettingName is where the offset is kept, so every server process on one database shares it.
const SettingName = "clock_offset_ns"

// Settings is the part of the store the clock needs.
type Settings interface {
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error
}

// Clock is real time shifted by an offset that only grows.
type Clock struct {
	offset atomic.Int64 // nanoseconds
	now    func() time.Time
}

// New returns a clock at real time.
func New() *Clock { return &Clock{now: time.Now} }

// Now returns the current time of the clock, in UTC.
func (c *Clock) Now() time.Time { return c.now().Add(time.Duration(c.offset.Load())).UTC() }

// Offset returns how far the clock is ahead of real time.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Advance moves the clock forward by d, stores the new offset and returns it.
func (c *Clock) Advance(ctx context.Context, s Settings, d time.Duration) (time.Duration, error) {
	if d <= 0 {
		return 0, errors.New("advance must be positive")
	}
	if err := c.Refresh(ctx, s); err != nil {
		return 0, err
	}
	next := c.offset.Add(int64(d))
	if err := s.SetSetting(ctx, SettingName, strconv.FormatInt(next, 10)); err != nil {
		return 0, err
	}
	return time.Duration(next), nil
}

// Refresh adopts the stored offset if another process moved the clock further.
func (c *Clock) Refresh(ctx context.Context, s Settings) error {
	v, err := s.Setting(ctx, SettingName)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		return nil // never advanced
	} else if err != nil {
		return err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return err
	}
	for {
		cur := c.offset.Load()
		if n <= cur || c.offset.CompareAndSwap(cur, n) {
			return nil
		}
	}
}
