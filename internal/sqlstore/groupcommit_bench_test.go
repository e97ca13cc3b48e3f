//go:build unix

package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/cputime"
)

// BenchmarkCreateProductOrder stores prefills with an idempotency key each on a SQLite file:
// "alone" one after the other in a transaction each (the load tool's bare loop), "grouped-N" from
// N goroutines through the commit queue. Besides ns/op it reports the process's CPU time per
// prefill and the prefills per transaction.
func BenchmarkCreateProductOrder(b *testing.B) {
	answer := func(id string) ([]byte, error) {
		return []byte(`{"prefilledOrderId":"` + id + `","prefillUrl":"http://127.0.0.1:8080/register/prefilled/` + id + `"}`), nil
	}
	newOrder := func() *vippsmgmt.ProductOrder {
		o := prefillOrder("acme", 1)
		o.Details = vippsmgmt.OrderDetails{SalesUnitName: ptr("Bench shop"), IntendedPurpose: ptr("Books sold on the website."),
			MerchantCategoryCode: ptr("5942"), AnnualTurnover: ptr(int64(2500000))}
		return o
	}
	hash := []byte("0123456789abcdef0123456789abcdef")
	for _, workers := range []int{0, 4, 16} {
		name := "alone"
		if workers > 0 {
			name = fmt.Sprint("grouped-", workers)
		}
		b.Run(name, func(b *testing.B) {
			d, _, _ := groupDB(b)
			ctx := context.Background()
			var key atomic.Int64
			create, callers := d.CreateProductOrder, workers
			if workers == 0 {
				create, callers = d.CreateProductOrderAlone, 1
			}
			g0, o0 := d.PrefillGroups()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cputime.Process()
			var wg sync.WaitGroup
			var left atomic.Int64
			left.Store(int64(b.N))
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: fmt.Sprint("k", key.Add(1)), RequestHash: hash, Answer: answer}
						if _, _, err := create(ctx, newOrder(), idem); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64((cputime.Process()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			if g1, o1 := d.PrefillGroups(); g1 > g0 {
				b.ReportMetric(float64(o1-o0)/float64(g1-g0), "prefills/tx")
			}
		})
	}
}
