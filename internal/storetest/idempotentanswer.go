package storetest

import (
	"bytes"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

// testIdempotentAnswer: the first answer is stored with its key in the order's transaction and
// handed back on every replay, also once the order is deleted; a key stored without an answer
// replays with none.
func testIdempotentAnswer(t *testing.T, e *env) {
	e.partner("acme")
	newOrder := func() *vippsmgmt.ProductOrder {
		return &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
	}
	answer := func(id string) ([]byte, error) { return []byte(`{"id":"` + id + `"}` + "\n"), nil }
	id, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(), &vippsmgmt.Idempotency{PartnerID: "acme", Key: "a", RequestHash: []byte{1}, Answer: answer})
	must(t, err)
	if replayed {
		t.Fatal("first call replayed")
	}
	want, _ := answer(id)
	replay := func() []byte {
		t.Helper()
		// Another process would build another answer: the stored one must win.
		idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: "a", RequestHash: []byte{1},
			Answer: func(string) ([]byte, error) { return []byte("not this"), nil }}
		got, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(), idem)
		must(t, err)
		if got != id || !replayed {
			t.Fatalf("replay: got %s %v, want %s true", got, replayed, id)
		}
		return idem.Replayed
	}
	if got := replay(); !bytes.Equal(got, want) {
		t.Errorf("replayed answer %q, want %q", got, want)
	}
	must(t, e.s.DeleteProductOrder(e.ctx, "acme", id))
	if got := replay(); !bytes.Equal(got, want) {
		t.Errorf("replayed answer after delete %q, want %q", got, want)
	}

	_, _, err = e.s.CreateProductOrder(e.ctx, newOrder(), &vippsmgmt.Idempotency{PartnerID: "acme", Key: "b", RequestHash: []byte{2}})
	must(t, err)
	idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: "b", RequestHash: []byte{2}}
	if _, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder(), idem); err != nil || !replayed || idem.Replayed != nil {
		t.Errorf("key without an answer: replayed %v, answer %q, err %v", replayed, idem.Replayed, err)
	}
}
