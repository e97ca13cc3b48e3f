package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// groupDB opens a store on a SQLite file with two partners, acme owning a CHECKOUT price package
// and other owning one too.
func groupDB(t testing.TB) (d *DB, acmePackage, otherPackage string) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "group.db"), storetest.NewClock(storetest.Start))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for _, partner := range []string{"acme", "other"} {
		if err := d.UpsertPartner(ctx, &vippsmgmt.Partner{ID: partner, Name: "Partner " + partner}); err != nil {
			t.Fatal(err)
		}
	}
	pkg := func(partner string) string {
		p := &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: partner, Name: "Standard", Description: "1.99%",
			VisibleInSignupForm: ptr(true), ProductType: ptr("CHECKOUT"), Market: ptr("NO"), Commission: ptr("1.99")}
		if err := d.CreatePricePackage(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	return d, pkg("acme"), pkg("other")
}

func ptr[T any](v T) *T { return &v }

// prefillOrder is a prefill of partner for the n-th merchant.
func prefillOrder(partner string, n int) *vippsmgmt.ProductOrder {
	return &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr(partner),
		BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: vippsmgmt.SchemeNOOrg, ID: storetest.OrgNumber(n)}, ProductType: "CHECKOUT"}
}

// answerOf is what a handler would store as the first answer to a key.
func answerOf(id string) ([]byte, error) { return []byte(`{"prefilledOrderId":"` + id + `"}`), nil }

// formGroups makes every group wait until it holds size callers (or 10 s pass), so that callers
// started together share one transaction whatever the scheduler does. The returned function
// restores the usual sizes.
func formGroups(d *DB, size int) (restore func()) {
	d.prefills.mu.Lock()
	defer d.prefills.mu.Unlock()
	d.prefills.maxSize, d.prefills.maxWait, d.prefills.lastGroup = size, 10*time.Second, size
	return func() {
		d.prefills.mu.Lock()
		defer d.prefills.mu.Unlock()
		d.prefills.maxSize, d.prefills.maxWait = groupMaxSize, groupMaxWait
	}
}

// call is one CreateProductOrder and its answer.
type call struct {
	ctx      context.Context
	o        *vippsmgmt.ProductOrder
	idem     *vippsmgmt.Idempotency
	id       string
	replayed bool
	err      error
}

// oneGroup runs the calls as one group in the order given: each is started once the one before
// it waits in the queue, and the group closes when the last arrives.
func oneGroup(t *testing.T, d *DB, calls []*call) {
	t.Helper()
	defer formGroups(d, len(calls))()
	groups, _ := d.PrefillGroups()
	var wg sync.WaitGroup
	for i, c := range calls {
		if c.ctx == nil {
			c.ctx = context.Background()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.id, c.replayed, c.err = d.CreateProductOrder(c.ctx, c.o, c.idem)
		}()
		if i == len(calls)-1 {
			break
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			d.prefills.mu.Lock()
			queued := len(d.prefills.waiting)
			d.prefills.mu.Unlock()
			if queued == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %d did not reach the queue", i)
			}
		}
	}
	wg.Wait()
	if after, _ := d.PrefillGroups(); after != groups+1 {
		t.Fatalf("%d calls made %d groups, want 1", len(calls), after-groups)
	}
}

func countOrders(t *testing.T, d *DB, partner string) int {
	t.Helper()
	os, err := d.FindProductOrders(context.Background(), vippsmgmt.ProductOrderFilter{PartnerID: &partner, IncludeExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(os)
}

// TestGroupCommitManyConcurrentPrefills stores 96 concurrent prefills in groups of 16 and checks
// every one is stored once under its own id, and that a retry of each key replays it.
func TestGroupCommitManyConcurrentPrefills(t *testing.T) {
	d, _, _ := groupDB(t)
	const n, size = 96, 16
	restore := formGroups(d, size)
	ctx := context.Background()
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, replayed, err := d.CreateProductOrder(ctx, prefillOrder("acme", i),
				&vippsmgmt.Idempotency{PartnerID: "acme", Key: fmt.Sprint("key-", i), RequestHash: []byte{1}, Answer: answerOf})
			if err != nil || replayed {
				t.Errorf("prefill %d: %v, replayed %v", i, err, replayed)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	restore()
	groups, orders := d.PrefillGroups()
	if orders != n || groups != n/size {
		t.Errorf("%d prefills in %d groups, want %d in %d", orders, groups, n, n/size)
	}
	seen := map[string]bool{}
	for i, id := range ids {
		if id == "" || seen[id] {
			t.Errorf("prefill %d: id %q is empty or not distinct", i, id)
		}
		seen[id] = true
		o, err := d.FindProductOrderByID(ctx, id)
		if err != nil {
			t.Errorf("prefill %d (%s): %v", i, id, err)
		} else if o.BusinessIdentifier.ID != storetest.OrgNumber(i) {
			t.Errorf("prefill %d (%s) holds %s", i, id, o.BusinessIdentifier.ID)
		}
	}
	if got := countOrders(t, d, "acme"); got != n {
		t.Errorf("%d orders stored, want %d", got, n)
	}
	for i := range n {
		idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: fmt.Sprint("key-", i), RequestHash: []byte{1}, Answer: answerOf}
		id, replayed, err := d.CreateProductOrder(ctx, prefillOrder("acme", 100), idem)
		want, _ := answerOf(ids[i])
		if err != nil || !replayed || id != ids[i] || string(idem.Replayed) != string(want) {
			t.Errorf("retry of key-%d: %s %v %v %q, want %s replayed", i, id, replayed, err, idem.Replayed, ids[i])
		}
	}
}

// TestGroupCommitSameKeyInOneGroup puts several calls with one key into one transaction: the first
// stores the order, the others with the same body replay it, one with another body is refused.
func TestGroupCommitSameKeyInOneGroup(t *testing.T) {
	d, _, _ := groupDB(t)
	idem := func(hash byte) *vippsmgmt.Idempotency {
		return &vippsmgmt.Idempotency{PartnerID: "acme", Key: "same", RequestHash: []byte{hash}, Answer: answerOf}
	}
	calls := []*call{
		{o: prefillOrder("acme", 1), idem: idem(1)},
		{o: prefillOrder("acme", 1), idem: idem(1)},
		{o: prefillOrder("acme", 2), idem: idem(2)},
		{o: prefillOrder("acme", 1), idem: idem(1)},
		// The same key of another partner is another key.
		{o: prefillOrder("other", 1), idem: &vippsmgmt.Idempotency{PartnerID: "other", Key: "same", RequestHash: []byte{1}}},
	}
	oneGroup(t, d, calls)
	first := calls[0]
	if first.err != nil || first.replayed {
		t.Fatalf("first: %v, replayed %v", first.err, first.replayed)
	}
	want, _ := answerOf(first.id)
	for _, i := range []int{1, 3} {
		c := calls[i]
		if c.err != nil || !c.replayed || c.id != first.id || string(c.idem.Replayed) != string(want) {
			t.Errorf("call %d: %s %v %v %q, want a replay of %s", i, c.id, c.replayed, c.err, c.idem.Replayed, first.id)
		}
	}
	if code := vippsmgmt.ErrorCode(calls[2].err); code != vippsmgmt.ECONFLICT {
		t.Errorf("same key, another body: %q (%v), want conflict", code, calls[2].err)
	}
	if c := calls[4]; c.err != nil || c.replayed || c.id == first.id {
		t.Errorf("other partner's key: %s %v %v, want a new order", c.id, c.replayed, c.err)
	}
	if got := countOrders(t, d, "acme"); got != 1 {
		t.Errorf("%d orders of acme, want 1", got)
	}
}

// TestGroupCommitRefusedOrderInGroup: orders refused by their own checks get their own errors and
// leave nothing behind, their keys included; the others of the group are stored.
func TestGroupCommitRefusedOrderInGroup(t *testing.T) {
	d, own, foreign := groupDB(t)
	ctx := context.Background()
	withPackage := func(n int, pkg string) *vippsmgmt.ProductOrder {
		o := prefillOrder("acme", n)
		o.Details.PricePackageID = ptr(pkg)
		return o
	}
	key := func(k string, hash byte) *vippsmgmt.Idempotency {
		return &vippsmgmt.Idempotency{PartnerID: "acme", Key: k, RequestHash: []byte{hash}, Answer: answerOf}
	}
	stored, _, err := d.CreateProductOrder(ctx, withPackage(9, own), key("g", 1))
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	calls := []*call{
		{o: withPackage(1, own), idem: key("a", 1)},
		{o: withPackage(2, foreign), idem: key("b", 1)}, // another partner's package
		{o: prefillOrder("acme", 3), idem: key("c", 1)},
		{o: prefillOrder("ghost", 4), idem: nil}, // refused by its only write
		// Refused first, so the same key with another body is stored as the first use.
		{o: withPackage(5, uuid.NewString()), idem: key("e", 1)},
		{o: prefillOrder("acme", 6), idem: key("e", 2)},
		{ctx: canceled, o: prefillOrder("acme", 7), idem: key("f", 1)},
		{o: withPackage(8, own), idem: nil},
		// A stored key is answered as before, even with an order refused now; another body
		// under it is a conflict.
		{o: withPackage(10, foreign), idem: key("g", 1)},
		{o: withPackage(11, foreign), idem: key("g", 2)},
	}
	oneGroup(t, d, calls)
	if n := d.prefills.fallbacks.Load(); n != 0 {
		t.Errorf("%d groups were stored one order at a time, want the group shared", n)
	}
	wantErr := map[int]string{1: vippsmgmt.EINVALID, 3: vippsmgmt.ENOTFOUND, 4: vippsmgmt.EINVALID, 6: vippsmgmt.EINTERNAL,
		9: vippsmgmt.ECONFLICT}
	if c := calls[8]; c.err != nil || !c.replayed || c.id != stored {
		t.Errorf("stored key with an order refused now: %s %v %v, want a replay of %s", c.id, c.replayed, c.err, stored)
	}
	created := 1
	for i, c := range calls {
		if i == 8 {
			continue
		}
		if code, bad := wantErr[i]; bad {
			if got := vippsmgmt.ErrorCode(c.err); got != code || c.id != "" {
				t.Errorf("call %d: %q %q (%v), want %q", i, c.id, got, c.err, code)
			}
			continue
		}
		if c.err != nil || c.replayed {
			t.Errorf("call %d: %v, replayed %v", i, c.err, c.replayed)
			continue
		}
		created++
		if _, err := d.FindProductOrderByID(ctx, c.id); err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if !errors.Is(calls[6].err, context.Canceled) {
		t.Errorf("canceled caller: %v", calls[6].err)
	}
	if got := countOrders(t, d, "acme"); got != created {
		t.Errorf("%d orders stored, want %d", got, created)
	}
	// The refused orders' keys were not used up.
	for _, k := range []string{"b", "f"} {
		if _, replayed, err := d.CreateProductOrder(ctx, prefillOrder("acme", 9), key(k, 1)); err != nil || replayed {
			t.Errorf("key %s after its refused order: %v, replayed %v", k, err, replayed)
		}
	}
}

// TestGroupCommitFailureFallsBackToOneTransactionEach: an order that fails for a reason other
// than its own checks, or after it wrote, makes the group store every order in a transaction of
// its own, so only that order fails.
func TestGroupCommitFailureFallsBackToOneTransactionEach(t *testing.T) {
	d, _, _ := groupDB(t)
	ctx := context.Background()
	if _, err := d.db.ExecContext(ctx, `CREATE TRIGGER refuse_one BEFORE INSERT ON product_orders
		WHEN NEW.merchant_id = '`+storetest.OrgNumber(0)+`' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	existing, _, err := d.CreateProductOrder(ctx, prefillOrder("acme", 99), nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls []*call
	for i := range 6 {
		calls = append(calls, &call{o: prefillOrder("acme", i),
			idem: &vippsmgmt.Idempotency{PartnerID: "acme", Key: fmt.Sprint("k", i), RequestHash: []byte{1}}})
	}
	oneGroup(t, d, calls[:3])
	// Refused only by their inserts, after their key rows were written: the transaction must go.
	calls[3].o.ID = existing
	oneGroup(t, d, calls[3:6])
	calls = append(calls, &call{o: prefillOrder("acme", 6), idem: &vippsmgmt.Idempotency{PartnerID: "acme", Key: "k6", RequestHash: []byte{1}}},
		// A partner deleted after its caller was authenticated.
		&call{o: prefillOrder("ghost", 7), idem: &vippsmgmt.Idempotency{PartnerID: "ghost", Key: "k7", RequestHash: []byte{1}}})
	oneGroup(t, d, calls[6:])
	if n := d.prefills.fallbacks.Load(); n != 3 {
		t.Errorf("%d groups were stored one order at a time, want 3", n)
	}
	wantErr := map[int]string{0: vippsmgmt.EINTERNAL, 3: vippsmgmt.ECONFLICT, 7: vippsmgmt.ENOTFOUND}
	for i, c := range calls {
		if code, bad := wantErr[i]; bad {
			if got := vippsmgmt.ErrorCode(c.err); got != code {
				t.Errorf("call %d: %q (%v), want %q", i, got, c.err, code)
			}
		} else if c.err != nil || c.replayed {
			t.Errorf("call %d: %v, replayed %v", i, c.err, c.replayed)
		}
	}
	if msg := vippsmgmt.ErrorMessage(calls[7].err); msg != "Partner ghost was not found." {
		t.Errorf("unknown partner: %q", msg)
	}
	if got := countOrders(t, d, "acme"); got != 6 {
		t.Errorf("%d orders stored, want 6", got)
	}
	for _, k := range []string{"k0", "k3"} {
		if _, replayed, err := d.CreateProductOrder(ctx, prefillOrder("acme", 100),
			&vippsmgmt.Idempotency{PartnerID: "acme", Key: k, RequestHash: []byte{1}}); err != nil || replayed {
			t.Errorf("key %s of a failed order: %v, replayed %v", k, err, replayed)
		}
	}
}

// TestGroupCommitPanicFailsOnlyItsGroup: a panic while storing a group (here in a handler's answer
// builder) answers every caller of the group with an error, stores none of them, and the next
// prefills are stored.
func TestGroupCommitPanicFailsOnlyItsGroup(t *testing.T) {
	d, _, _ := groupDB(t)
	ctx := context.Background()
	var calls []*call
	for i := range 4 {
		idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: fmt.Sprint("p", i), RequestHash: []byte{1}, Answer: answerOf}
		if i == 2 {
			idem.Answer = func(string) ([]byte, error) { panic("answer builder broke") }
		}
		calls = append(calls, &call{o: prefillOrder("acme", i), idem: idem})
	}
	oneGroup(t, d, calls)
	for i, c := range calls {
		if c.err == nil || c.id != "" || !strings.Contains(c.err.Error(), "answer builder broke") {
			t.Errorf("call %d: %q %v, want the panic as its error", i, c.id, c.err)
		}
	}
	if got := countOrders(t, d, "acme"); got != 0 {
		t.Errorf("%d orders stored by the group that panicked", got)
	}
	for i := range 2 {
		if _, _, err := d.CreateProductOrder(ctx, prefillOrder("acme", 10+i), nil); err != nil {
			t.Errorf("prefill after the panic: %v", err)
		}
	}
}

// TestGroupCommitLoneCallerIsAlone: calls one after the other make groups of one.
func TestGroupCommitLoneCallerIsAlone(t *testing.T) {
	d, _, _ := groupDB(t)
	for i := range 3 {
		if _, _, err := d.CreateProductOrder(context.Background(), prefillOrder("acme", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if groups, orders := d.PrefillGroups(); groups != 3 || orders != 3 {
		t.Errorf("3 calls in turn: %d groups of %d orders, want 3 of 3", groups, orders)
	}
}
