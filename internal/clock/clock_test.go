package clock_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

// openStore opens a store on a new SQLite file that the clocks of several processes share; it is
// closed when the test ends.
func openStore(t *testing.T, c *clock.Clock) *sqlstore.DB {
	t.Helper()
	return sqlitetest.Open(t, c)
}

func TestAdvanceIsSharedThroughTheStore(t *testing.T) {
	ctx := context.Background()
	a, b := clock.New(), clock.New()
	store := openStore(t, a)

	if err := b.Refresh(ctx, store); err != nil {
		t.Fatalf("refresh before any advance: %v", err)
	}
	before := a.Now()
	if _, err := a.Advance(ctx, store, 0); err == nil {
		t.Fatal("advance by 0 accepted")
	}
	if _, err := a.Advance(ctx, store, -time.Hour); err == nil {
		t.Fatal("advance backwards accepted")
	}
	off, err := a.Advance(ctx, store, 337*time.Hour)
	if err != nil || off != 337*time.Hour {
		t.Fatalf("advance: %v %v", off, err)
	}
	if d := a.Now().Sub(before); d < 337*time.Hour || d > 338*time.Hour {
		t.Fatalf("clock moved %v", d)
	}
	// Another process's clock adopts the stored offset, and both keep adding to it.
	if err := b.Refresh(ctx, store); err != nil || b.Offset() != 337*time.Hour {
		t.Fatalf("second clock offset %v, %v", b.Offset(), err)
	}
	if off, err := b.Advance(ctx, store, time.Hour); err != nil || off != 338*time.Hour {
		t.Fatalf("second advance: %v %v", off, err)
	}
	if err := a.Refresh(ctx, store); err != nil || a.Offset() != 338*time.Hour {
		t.Fatalf("first clock after refresh %v, %v", a.Offset(), err)
	}
	if a.Now().Location() != time.UTC {
		t.Fatal("clock is not in UTC")
	}
}

// TestResetReachesEveryProcess: a reset takes the clock back to real time, and a process that
// still holds the old offset adopts the reset instead of writing its larger offset back.
func TestResetReachesEveryProcess(t *testing.T) {
	ctx := context.Background()
	a, b := clock.New(), clock.New()
	store := openStore(t, a)

	// A value written before resets existed is a plain offset.
	if err := store.SetSetting(ctx, clock.SettingName, fmt.Sprint(int64(48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*clock.Clock{a, b} {
		if err := c.Refresh(ctx, store); err != nil || c.Offset() != 48*time.Hour {
			t.Fatalf("old-format offset: %v, %v", c.Offset(), err)
		}
	}
	if err := a.Reset(ctx, store); err != nil {
		t.Fatal(err)
	}
	if a.Offset() != 0 || time.Since(a.Now()).Abs() > time.Minute {
		t.Fatalf("after reset: offset %v, now %v", a.Offset(), a.Now())
	}
	// b still runs 48h ahead; its next advance must start from the reset, not from 48h.
	if off, err := b.Advance(ctx, store, time.Hour); err != nil || off != time.Hour {
		t.Fatalf("advance after another process reset: %v %v", off, err)
	}
	if err := a.Refresh(ctx, store); err != nil || a.Offset() != time.Hour {
		t.Fatalf("first clock after the advance: %v, %v", a.Offset(), err)
	}
	// A reset and a refresh again: both processes at real time.
	if err := b.Reset(ctx, store); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx, store); err != nil || a.Offset() != 0 {
		t.Fatalf("first clock after the second reset: %v, %v", a.Offset(), err)
	}
}

// TestConcurrentAdvancesAllCount: processes that advance the clock at the same time each read
// the stored offset and write their own; none of the advances may be lost.
func TestConcurrentAdvancesAllCount(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, clock.New())

	const processes, advances = 4, 10
	errs := make(chan error, processes)
	for range processes {
		go func() {
			c := clock.New()
			for range advances {
				if _, err := c.Advance(ctx, store, time.Hour); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range processes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	c := clock.New()
	if err := c.Refresh(ctx, store); err != nil {
		t.Fatal(err)
	}
	if want := processes * advances * time.Hour; c.Offset() != want {
		t.Fatalf("offset %v after %d advances of 1h: some were lost", c.Offset(), processes*advances)
	}
}

// TestAdvanceStopsAtTheFurthestOffset: advances that together pass the largest offset a Duration
// holds are refused as invalid, naming advance, and leave the clock where it was instead of
// wrapping it round into the past. Another process that moved the clock first counts too.
func TestAdvanceStopsAtTheFurthestOffset(t *testing.T) {
	ctx := context.Background()
	a, b := clock.New(), clock.New()
	store := openStore(t, a)
	const century = 100 * 365 * 24 * time.Hour
	if _, err := a.Advance(ctx, store, 2*century); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Advance(ctx, store, century/2); err != nil {
		t.Fatal(err)
	}
	// a still holds 200 years; the store holds 250, and 50 more pass the furthest (some 292).
	_, err := a.Advance(ctx, store, century/2)
	if vippsmgmt.ErrorCode(err) != vippsmgmt.EINVALID || !strings.Contains(vippsmgmt.ErrorMessage(err), "advance") {
		t.Fatalf("advance past the furthest offset: %v, want an invalid advance", err)
	}
	if a.Offset() != 2*century+century/2 {
		t.Fatalf("offset %v after the refused advance, want 250 years", a.Offset())
	}
	if now := a.Now(); now.Before(time.Now()) {
		t.Fatalf("clock at %v, in the past", now)
	}
	if off, err := a.Advance(ctx, store, 40*365*24*time.Hour); err != nil || off != 290*365*24*time.Hour {
		t.Fatalf("advance within the room left: %v %v", off, err)
	}
}
