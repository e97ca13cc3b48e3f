package autopilot

import (
	"context"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
)

// TestAdvanceBeyondOffsetRange: advances that each pass the operator API's bound must still not
// add up past the clock offset's range, which would wrap it round into the past.
func TestAdvanceBeyondOffsetRange(t *testing.T) {
	ctx := context.Background()
	clk := clock.New()
	e := New(sqlitetest.Open(t, clk), clk, nil)
	const step = 99 * 365 * 24 * time.Hour
	for range 2 {
		if _, err := e.Advance(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	before := clk.Offset()
	_, err := e.Advance(ctx, step)
	if code := vippsmgmt.ErrorCode(err); code != vippsmgmt.EINVALID {
		t.Fatalf("third advance: error %v (code %q), want %s", err, code, vippsmgmt.EINVALID)
	}
	if got := clk.Offset(); got != before {
		t.Errorf("offset after the refused advance: got %v, want %v", got, before)
	}
}
