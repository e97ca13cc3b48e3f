package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

func testIdempotency(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	newOrder := func(partner string) *vippsmgmt.ProductOrder {
		return &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr(partner), BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
	}
	idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-1", RequestHash: []byte{1, 2, 3}}
	id, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder("acme"), idem)
	must(t, err)
	if replayed {
		t.Error("first call: got replayed true")
	}
	e.clock.Advance(time.Minute)
	id2, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder("acme"), idem)
	must(t, err)
	if id2 != id || !replayed {
		t.Errorf("replay: got %s %v, want %s true", id2, replayed, id)
	}
	_, _, err = e.s.CreateProductOrder(e.ctx, newOrder("acme"), &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-1", RequestHash: []byte{9}})
	wantCode(t, err, vippsmgmt.ECONFLICT)
	if !strings.Contains(vippsmgmt.ErrorMessage(err), "Idempotency-Key") {
		t.Errorf("conflict message: got %q", vippsmgmt.ErrorMessage(err))
	}
	id3, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder("beta"), &vippsmgmt.Idempotency{PartnerID: "beta", Key: "key-1", RequestHash: []byte{1, 2, 3}})
	must(t, err)
	if id3 == id || replayed {
		t.Errorf("same key of another partner: got %s %v, want a new order", id3, replayed)
	}
	os, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	if len(os) != 2 {
		t.Errorf("got %d orders, want 2", len(os))
	}
	// A failed create must not consume the key.
	bad := newOrder("acme")
	bad.ProductType = "NOPE"
	_, _, err = e.s.CreateProductOrder(e.ctx, bad, &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-2", RequestHash: []byte{7}})
	wantCode(t, err, vippsmgmt.EINVALID)
	_, replayed, err = e.s.CreateProductOrder(e.ctx, newOrder("acme"), &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-2", RequestHash: []byte{8}})
	must(t, err)
	if replayed {
		t.Error("key of a failed request: got replayed true")
	}
	// Nor must a create that failed on its write: the key's row goes back with the order.
	ghostKey := &vippsmgmt.Idempotency{PartnerID: "ghost", Key: "key-3", RequestHash: []byte{5}}
	_, _, err = e.s.CreateProductOrder(e.ctx, newOrder("ghost"), ghostKey)
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	e.partner("ghost")
	_, replayed, err = e.s.CreateProductOrder(e.ctx, newOrder("ghost"), ghostKey)
	must(t, err)
	if replayed {
		t.Error("key of a request whose order was not stored: got replayed true")
	}
}

// testIdempotencyConcurrent races 20 creates with one key, in several rounds so the later ones
// run on a warm connection pool where the transactions really overlap.
func testIdempotencyConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	const rounds, n = 3, 20
	for round := range rounds {
		key := fmt.Sprintf("key-%d", round)
		ids := make([]string, n)
		replays := make([]bool, n)
		race(n, func(i int) {
			o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
			id, replayed, err := e.s.CreateProductOrder(e.ctx, o, &vippsmgmt.Idempotency{PartnerID: "acme", Key: key, RequestHash: []byte("body")})
			if err != nil {
				t.Errorf("round %d, goroutine %d: %v", round, i, err)
			}
			ids[i], replays[i] = id, replayed
		})
		firsts := 0
		for i := range ids {
			if ids[i] != ids[0] {
				t.Fatalf("round %d: concurrent creates returned different ids: %q", round, ids)
			}
			if !replays[i] {
				firsts++
			}
		}
		if firsts != 1 {
			t.Errorf("round %d: got %d non-replayed answers, want 1", round, firsts)
		}
		e.order(ids[0])
	}
	os, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	if len(os) != rounds {
		t.Errorf("got %d orders, want exactly %d", len(os), rounds)
	}
}

func testPurgeIdempotencyKeys(t *testing.T, e *env) {
	e.partner("acme")
	create := func(key string) (string, bool) {
		t.Helper()
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
		id, replayed, err := e.s.CreateProductOrder(e.ctx, o, &vippsmgmt.Idempotency{PartnerID: "acme", Key: key, RequestHash: []byte("h")})
		must(t, err)
		return id, replayed
	}
	old, _ := create("old")
	e.clock.Advance(vippsmgmt.IdempotencyRetention)
	create("new")
	n, err := e.s.PurgeIdempotencyKeys(e.ctx, e.clock.Now().Add(-vippsmgmt.IdempotencyRetention+time.Microsecond))
	must(t, err)
	if n != 1 {
		t.Errorf("purged %d keys, want 1", n)
	}
	if id, replayed := create("old"); replayed || id == old {
		t.Errorf("purged key: got %s replayed %v, want a new order", id, replayed)
	}
	if _, replayed := create("new"); !replayed {
		t.Error("kept key: got replayed false")
	}
}

// testIdempotencyChosenPackage: a prefill naming a price package reads it before it writes,
// which stores it by another way than a prefill without one (on PostgreSQL, a transaction
// instead of one statement); its Idempotency-Key must be kept the same way.
func testIdempotencyChosenPackage(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("other")
	own, foreign := e.pricePackage("acme").ID, e.pricePackage("other").ID
	newOrder := func(pkg string) *vippsmgmt.ProductOrder {
		return &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"),
			ProductType: "CHECKOUT", Details: vippsmgmt.OrderDetails{PricePackageID: ptr(pkg)}}
	}
	key := func(k string, hash byte) *vippsmgmt.Idempotency {
		return &vippsmgmt.Idempotency{PartnerID: "acme", Key: k, RequestHash: []byte{hash}}
	}
	id, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(own), key("a", 1))
	must(t, err)
	if replayed {
		t.Error("first call: got replayed true")
	}
	if id2, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(own), key("a", 1)); err != nil || id2 != id || !replayed {
		t.Errorf("replay: got %s %v %v, want %s true", id2, replayed, err, id)
	}
	// A stored key is answered as before, even where the same order would be refused now.
	if id2, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(foreign), key("a", 1)); err != nil || id2 != id || !replayed {
		t.Errorf("replay of an order refused now: got %s %v %v, want %s true", id2, replayed, err, id)
	}
	_, _, err = e.s.CreateProductOrder(e.ctx, newOrder(own), key("a", 2))
	wantCode(t, err, vippsmgmt.ECONFLICT)
	_, _, err = e.s.CreateProductOrder(e.ctx, newOrder(foreign), key("a", 2))
	wantCode(t, err, vippsmgmt.ECONFLICT)
	// A refused order does not use its key up.
	_, _, err = e.s.CreateProductOrder(e.ctx, newOrder(foreign), key("b", 1))
	wantCode(t, err, vippsmgmt.EINVALID)
	if _, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(own), key("b", 2)); err != nil || replayed {
		t.Errorf("key of a refused order: got %v replayed %v, want a new order", err, replayed)
	}

	const n = 10
	ids := make([]string, n)
	firsts := 0
	var mu sync.Mutex
	race(n, func(i int) {
		id, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(own), key("c", 1))
		if err != nil {
			t.Errorf("concurrent call %d: %v", i, err)
		}
		mu.Lock()
		defer mu.Unlock()
		ids[i] = id
		if !replayed {
			firsts++
		}
	})
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("concurrent calls returned different ids: %q", ids)
		}
	}
	if firsts != 1 {
		t.Errorf("concurrent calls: got %d non-replayed answers, want 1", firsts)
	}
	os, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	if len(os) != 3 {
		t.Errorf("got %d orders, want 3", len(os))
	}
}
