package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/report"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// benchRoutes is the soak's mix of operations.
var benchRoutes = []string{"POST /accesstoken/get", "GET /management/v1/sales-units", "GET /management/v1/sales-units/{msn}",
	vippsmgmt.RouteOrderDetails, vippsmgmt.RoutePrefill, vippsmgmt.RouteOrderList}

// observation is request i of the soak's shape: 10 callers, six operations, every 7th without
// system headers.
func observation(i int) report.Observation {
	return report.Observation{RequestFacts: vippsmgmt.RequestFacts{
		Time: storetest.Start.Add(time.Duration(i) * 5 * time.Millisecond), RequestID: fmt.Sprintf("req-%d", i),
		ClientID: fmt.Sprintf("client-%d", i%10), Kind: vippsmgmt.KeyPartner, Method: "GET",
		Route: benchRoutes[i%len(benchRoutes)], Path: fmt.Sprintf("/management/v2/product-orders/%d/details", i%500),
		Status: 200, SystemName: i%7 != 0, SystemVersion: true,
	}}
}

// BenchmarkObserve is what a request pays on its own path: queueing its facts. The buffer is
// flushed (untimed) as the background flusher would.
func BenchmarkObserve(b *testing.B) {
	st := sqlitetest.Open(b, storetest.NewClock(storetest.Start))
	c := report.New(report.Config{Store: st})
	o := observation(1)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(o)
		if n++; n == report.DefaultMaxBuffered/4 {
			b.StopTimer()
			if err := c.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			n = 0
			b.StartTimer()
		}
	}
}

// BenchmarkFlush is the deferred work per request: the rules and the aggregate writes of a
// flush of a second of the soak (200 requests from 10 callers), on SQLite. Its wall time is
// mostly the commit's fsync; run it with -cpuprofile for the CPU.
func BenchmarkFlush(b *testing.B) {
	clock := storetest.NewClock(storetest.Start)
	st := sqlitetest.Open(b, clock)
	c := report.New(report.Config{Store: st, MaxBuffered: 1 << 20})
	const batch = 200
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		for range batch {
			c.Observe(observation(i))
			i++
		}
		if err := c.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/request")
}
