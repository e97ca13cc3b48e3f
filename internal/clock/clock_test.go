package clock_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

func TestAdvanceIsSharedThroughTheStore(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	a, b := clock.New(), clock.New()
	store, err := sqlstore.Open(ctx, dsn, a)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

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
