package report_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// TestFlushWhenWorthIt: the running collector leaves a few observations buffered until a batch
// has gathered or the oldest has waited MaxAge, and still stores everything at shutdown.
func TestFlushWhenWorthIt(t *testing.T) {
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "db"), storetest.NewClock(storetest.Start))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := func(client string) int64 {
		callers, _, err := st.ReportCallers(context.Background(), client)
		if err != nil {
			t.Fatal(err)
		}
		if len(callers) == 0 {
			return 0
		}
		return callers[0].Requests
	}
	waitStored := func(client string, want int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); stored(client) != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d requests stored, want %d", client, stored(client), want)
			}
		}
	}
	observe := func(c *report.Collector, client string, n int) {
		for range n {
			c.Observe(report.Observation{RequestFacts: vippsmgmt.RequestFacts{Time: time.Now(), ClientID: client,
				Kind: vippsmgmt.KeyPartner, Method: "GET", Route: "GET /management/v1/sales-units/{msn}", Status: 200,
				SystemName: true, SystemVersion: true}})
		}
	}
	run := func(c *report.Collector) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { c.Run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}

	// By amount: fewer than a batch stay buffered however many looks pass.
	byAmount := report.New(report.Config{Store: st, FlushEvery: 2 * time.Millisecond, FlushBatch: 10, MaxAge: time.Hour})
	stop := run(byAmount)
	observe(byAmount, "by-amount", 9)
	time.Sleep(100 * time.Millisecond)
	if n := stored("by-amount"); n != 0 {
		t.Fatalf("%d requests stored before a batch gathered", n)
	}
	observe(byAmount, "by-amount", 1)
	waitStored("by-amount", 10)
	// At shutdown what is buffered is stored, however little.
	observe(byAmount, "by-amount", 3)
	stop()
	if n := stored("by-amount"); n != 13 {
		t.Fatalf("after shutdown %d requests stored, want 13", n)
	}

	// By age: one observation is stored once it has waited MaxAge.
	byAge := report.New(report.Config{Store: st, FlushEvery: 2 * time.Millisecond, FlushBatch: 1000, MaxAge: 50 * time.Millisecond})
	stop = run(byAge)
	defer stop()
	observe(byAge, "by-age", 1)
	waitStored("by-age", 1)
}
