package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

func testExpiry(t *testing.T, e *env) {
	e.partner("acme")
	received := e.prefill("acme", "911111101")
	viewed := e.prefill("acme", "922222223")
	_, err := e.s.StepProductOrder(e.ctx, viewed.ID, vippsmgmt.StepView, nil, "")
	must(t, err)
	submitted := e.submitted("acme", "933333329")
	e.clock.Advance(time.Hour)
	young := e.prefill("acme", "944444440")

	visible := func() []string { return e.orderIDs(vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme")}) }
	all := []string{young.ID, submitted.ID, viewed.ID, received.ID}
	e.clock.Set(Start.Add(vippsmgmt.PrefillLifetime - time.Microsecond))
	wantSame(t, "just before expiry", all, visible())
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 0 {
		t.Errorf("sweep before expiry: got %d, %v, want 0", n, err)
	}

	// At ExpiresAt the orders are EXPIRED for callers although no sweep has written it.
	e.clock.Set(Start.Add(vippsmgmt.PrefillLifetime))
	wantSame(t, "expired but not swept", []string{young.ID, submitted.ID}, visible())
	if got := e.order(received.ID); got.Status != vippsmgmt.StatusReceived || got.StatusAt(e.clock.Now()) != vippsmgmt.StatusExpired {
		t.Errorf("unswept order: stored %s, StatusAt %s", got.Status, got.StatusAt(e.clock.Now()))
	}
	withExpired, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	if len(withExpired) != 4 {
		t.Errorf("IncludeExpired: got %d orders, want 4", len(withExpired))
	}
	// EachProductOrder streams exactly what FindProductOrders lists, in the same order.
	for _, f := range []vippsmgmt.ProductOrderFilter{{IncludeExpired: true}, {PartnerID: ptr("acme")}, {WithoutDetails: true, IncludeExpired: true}} {
		listed, err := e.s.FindProductOrders(e.ctx, f)
		must(t, err)
		var streamed []*vippsmgmt.ProductOrder
		must(t, e.s.EachProductOrder(e.ctx, f, func(o *vippsmgmt.ProductOrder) error {
			streamed = append(streamed, o)
			return nil
		}))
		if diff := cmp.Diff(listed, streamed); diff != "" {
			t.Errorf("EachProductOrder(%+v) differs from FindProductOrders (-listed +streamed):\n%s", f, diff)
		}
	}
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, viewed.ID, vippsmgmt.StepSubmit, nil, "")), vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, received.ID, vippsmgmt.StepView, nil, "")), vippsmgmt.ECONFLICT)

	sweepAt := e.clock.Advance(time.Minute)
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 2 {
		t.Fatalf("sweep: got %d, %v, want 2", n, err)
	}
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 0 {
		t.Errorf("second sweep: got %d, %v, want 0", n, err)
	}
	for _, id := range []string{received.ID, viewed.ID} {
		got := e.order(id)
		if got.Status != vippsmgmt.StatusExpired || got.ExpiredAt == nil || !got.ExpiredAt.Equal(got.ExpiresAt()) || !got.UpdatedAt.Equal(sweepAt) {
			t.Errorf("swept order: got %s expired %v updated %v, want EXPIRED at %v", got.Status, got.ExpiredAt, got.UpdatedAt, got.ExpiresAt())
		}
	}
	if got := e.order(submitted.ID); got.Status != vippsmgmt.StatusOrderSubmitted {
		t.Errorf("submitted order: got %s", got.Status)
	}
	wantSame(t, "after sweep", []string{young.ID, submitted.ID}, visible())
	expired, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{Statuses: []string{vippsmgmt.StatusExpired}, IncludeExpired: true})
	must(t, err)
	if len(expired) != 2 {
		t.Errorf("stored EXPIRED: got %d, want 2", len(expired))
	}
}

// testConcurrentSweeps runs sweeps side by side; the second round runs on a warm pool.
func testConcurrentSweeps(t *testing.T, e *env) {
	e.partner("acme")
	const rounds, orders, sweepers = 2, 30, 6
	for round := range rounds {
		for i := range orders {
			e.prefill("acme", OrgNumber(i))
		}
		e.clock.Advance(vippsmgmt.PrefillLifetime)
		expired := make([]int, sweepers)
		race(sweepers, func(i int) {
			var err error
			if expired[i], err = e.s.ExpireProductOrders(e.ctx); err != nil {
				t.Error(err)
			}
		})
		total := 0
		for _, n := range expired {
			total += n
		}
		if total != orders {
			t.Errorf("round %d: concurrent sweeps expired %d orders in total, want %d", round, total, orders)
		}
	}
}

// testExpiryAgreesWithStatusAt: the orders FindProductOrders hides and ExpireProductOrders sweeps
// are exactly those ProductOrder.StatusAt calls EXPIRED, on both sides of the cutoff.
func testExpiryAgreesWithStatusAt(t *testing.T, e *env) {
	e.partner("acme")
	e.clock.Set(Start.Add(vippsmgmt.PrefillLifetime + time.Hour))
	now := e.clock.Now()
	cutoff := vippsmgmt.ExpiryCutoff(now)
	var orders []*vippsmgmt.ProductOrder
	for _, typ := range []string{vippsmgmt.OrderPrefill, vippsmgmt.OrderTemplate} {
		for _, status := range []string{vippsmgmt.StatusReceived, vippsmgmt.StatusMerchantViewed, vippsmgmt.StatusOrderSubmitted, vippsmgmt.StatusRejected} {
			if typ != vippsmgmt.OrderPrefill && status != vippsmgmt.StatusReceived && status != vippsmgmt.StatusRejected {
				continue
			}
			for _, created := range []time.Time{cutoff.Add(-time.Microsecond), cutoff, cutoff.Add(time.Microsecond)} {
				o := &vippsmgmt.ProductOrder{ID: uuid.NewString(), Type: typ, Status: status, PartnerID: ptr("acme"),
					BusinessIdentifier: bid("911111101"), ProductType: "CHECKOUT", CreatedAt: created, UpdatedAt: created}
				must(t, e.s.UpsertProductOrder(e.ctx, o))
				orders = append(orders, o)
			}
		}
	}
	listed, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{})
	must(t, err)
	shown := map[string]bool{}
	for _, o := range listed {
		shown[o.ID] = true
	}
	wantSwept := 0
	for _, o := range orders {
		expired := o.StatusAt(now) == vippsmgmt.StatusExpired
		if shown[o.ID] == expired {
			t.Errorf("%s %s created %v before now: listed %v, StatusAt %s", o.Type, o.Status, now.Sub(o.CreatedAt), shown[o.ID], o.StatusAt(now))
		}
		if expired {
			wantSwept++
		}
	}
	if wantSwept != 4 {
		t.Fatalf("the table has %d orders StatusAt calls expired, want 4", wantSwept)
	}
	n, err := e.s.ExpireProductOrders(e.ctx)
	must(t, err)
	if n != wantSwept {
		t.Errorf("ExpireProductOrders: swept %d, want %d", n, wantSwept)
	}
	for _, o := range orders {
		if got := e.order(o.ID).Status; got != o.StatusAt(now) {
			t.Errorf("%s %s created %v before now: stored %s after the sweep, StatusAt said %s", o.Type, o.Status, now.Sub(o.CreatedAt), got, o.StatusAt(now))
		}
	}
}
