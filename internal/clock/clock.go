// Package clock provides the server's clock: real time plus an offset that the operator can move
// forward (or reset) in sandbox mode, so expiry and token lifetimes can be tested without waiting
// 14 days.
package clock

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// SettingName is where the offset is kept, so every server process on one database shares it.
const SettingName = "clock_offset_ns"

// Settings is the part of the store the clock needs.
type Settings interface {
	Setting(ctx context.Context, name string) (string, error)
	SwapSetting(ctx context.Context, name, old, value string) (bool, error)
}

// maxSwaps bounds how often a change is retried when other processes keep changing the clock.
const maxSwaps = 100

// Clock is real time shifted by an offset that the operator moves forward, or resets to zero.
//
// The stored value is "RESETS:OFFSET_NS" (a plain number is an offset from before resets
// existed). Within one reset generation the offset only grows, so a process that read an older
// value never takes the clock back; a higher generation wins whatever its offset, so a reset
// reaches every process.
type Clock struct {
	offset atomic.Int64 // nanoseconds; read on every request
	now    func() time.Time

	mu     sync.Mutex // serialises changes of offset and resets
	resets int64
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
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.change(ctx, s, func(resets, offset int64) (int64, int64, error) {
		if err := CheckAdvance(time.Duration(offset), d); err != nil {
			return 0, 0, err
		}
		return resets, offset + int64(d), nil
	})
	return time.Duration(c.offset.Load()), err
}

// CheckAdvance refuses to move a clock at offset forward by d past the furthest it can go: the
// offset is a Duration, which past its largest value (some 292 years) would wrap round and put
// the clock centuries in the past.
func CheckAdvance(offset, d time.Duration) error {
	if room := time.Duration(math.MaxInt64) - offset; d > room {
		return vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "advance",
			Problem: fmt.Sprintf("moves the clock past the furthest it can go; it can move at most %v more, or reset it first", room.Truncate(time.Hour))}})
	}
	return nil
}

// Reset puts the clock back to real time, for every process on the store.
func (c *Clock) Reset(ctx context.Context, s Settings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.change(ctx, s, func(resets, _ int64) (int64, int64, error) { return resets + 1, 0, nil })
}

// Refresh adopts the stored offset if another process moved the clock further or reset it.
func (c *Clock) Refresh(ctx context.Context, s Settings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.refresh(ctx, s)
	return err
}

// change applies next to the stored (resets, offset) and stores the result only if no other
// process changed the setting in between; otherwise it reads again and retries, so concurrent
// advances from several processes all count. An error from next changes nothing.
func (c *Clock) change(ctx context.Context, s Settings, next func(resets, offset int64) (int64, int64, error)) error {
	for range maxSwaps {
		stored, err := c.refresh(ctx, s)
		if err != nil {
			return err
		}
		resets, offset, err := next(c.resets, c.offset.Load())
		if err != nil {
			return err
		}
		swapped, err := s.SwapSetting(ctx, SettingName, stored, strconv.FormatInt(resets, 10)+":"+strconv.FormatInt(offset, 10))
		if err != nil {
			return err
		}
		if swapped {
			c.resets = resets
			c.offset.Store(offset)
			return nil
		}
	}
	return fmt.Errorf("clock setting kept changing under %d attempts", maxSwaps)
}

// refresh adopts the stored setting as Refresh does, and returns it as stored ("" if unset).
func (c *Clock) refresh(ctx context.Context, s Settings) (string, error) {
	v, err := s.Setting(ctx, SettingName)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		return "", nil // never advanced
	} else if err != nil {
		return "", err
	}
	resets, offset, err := parseSetting(v)
	if err != nil {
		return "", err
	}
	switch {
	case resets > c.resets:
		c.resets = resets
		c.offset.Store(offset)
	case resets == c.resets && offset > c.offset.Load():
		c.offset.Store(offset)
	}
	return v, nil
}

func parseSetting(v string) (resets, offset int64, err error) {
	r, o, ok := strings.Cut(v, ":")
	if !ok {
		r, o = "0", v
	}
	if resets, err = strconv.ParseInt(r, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("clock setting %q: %w", v, err)
	}
	if offset, err = strconv.ParseInt(o, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("clock setting %q: %w", v, err)
	}
	return resets, offset, nil
}
