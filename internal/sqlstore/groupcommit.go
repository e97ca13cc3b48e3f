package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// Group commit of prefills on SQLite. SQLite has one writer, and with synchronous=FULL each commit
// waits for an fsync, so one transaction per prefill bounds prefills/s by the disk's fsyncs.
// Concurrent CreateProductOrder calls therefore queue; the first becomes the leader, waits a short
// bounded time for more to arrive, stores the whole group in one transaction (each order's
// refusals decided before it writes, so one order's error is that caller's answer only) and
// commits once. Every caller returns after that commit, so its answer still means durably stored.
//
// PostgreSQL keeps one transaction per order: its commits from concurrent sessions already share
// WAL flushes, and a group would hold row locks of unrelated orders.

// Sizes of a group. A leader waits for others only when the previous group had company, so a lone
// caller never waits; the wait ends early when the group is full.
const (
	groupMaxSize = 32
	groupMaxWait = time.Millisecond
)

// pendingOrder is one CreateProductOrder call: its order, then its answer.
type pendingOrder struct {
	ctx  context.Context
	o    *vippsmgmt.ProductOrder
	idem *vippsmgmt.Idempotency
	now  time.Time

	id       string
	replayed bool
	err      error

	// turn receives one value: false once the answer above is set, true when this caller is to
	// lead the next group.
	turn chan bool
}

// commitQueue hands concurrent prefills to one leader at a time.
type commitQueue struct {
	maxSize int
	maxWait time.Duration
	run     func(group []*pendingOrder)

	mu        sync.Mutex
	waiting   []*pendingOrder // not yet in a group, oldest first
	leading   bool            // a leader is collecting or storing a group; false only while waiting is empty
	lastGroup int             // size of the previous group
	groups    int64           // groups stored
	orders    int64           // orders in them
	full      chan struct{}   // signals a collecting leader that maxSize callers wait

	fallbacks atomic.Int64 // groups whose shared transaction failed, stored one order at a time
}

func newCommitQueue(run func([]*pendingOrder)) *commitQueue {
	return &commitQueue{maxSize: groupMaxSize, maxWait: groupMaxWait, run: run, full: make(chan struct{}, 1)}
}

// submit queues p and returns when p has its answer.
func (q *commitQueue) submit(p *pendingOrder) {
	p.turn = make(chan bool, 1)
	q.mu.Lock()
	q.waiting = append(q.waiting, p)
	if len(q.waiting) >= q.maxSize {
		select {
		case q.full <- struct{}{}:
		default:
		}
	}
	if q.leading {
		q.mu.Unlock()
		if lead := <-p.turn; !lead {
			return
		}
	} else {
		q.leading = true
		q.mu.Unlock()
	}
	q.lead()
}

// lead collects, stores and answers one group, then hands the lead to the oldest caller still
// waiting. The leader is always the oldest waiting caller, so it is in its own group.
func (q *commitQueue) lead() {
	q.mu.Lock()
	select {
	case <-q.full: // left from an earlier group
	default:
	}
	wait := q.maxWait > 0 && len(q.waiting) < q.maxSize && (q.lastGroup > 1 || len(q.waiting) > 1)
	q.mu.Unlock()
	if wait {
		t := time.NewTimer(q.maxWait)
		select {
		case <-q.full:
		case <-t.C:
		}
		t.Stop()
	}

	q.mu.Lock()
	n := min(len(q.waiting), q.maxSize)
	group := q.waiting[:n:n]
	q.waiting = append([]*pendingOrder(nil), q.waiting[n:]...)
	q.mu.Unlock()

	q.runSafely(group)

	q.mu.Lock()
	q.lastGroup = n
	q.groups++
	q.orders += int64(n)
	var next *pendingOrder
	if len(q.waiting) > 0 {
		next = q.waiting[0]
	} else {
		q.leading = false
	}
	q.mu.Unlock()
	// The next group starts collecting while this one's callers wake.
	if next != nil {
		next.turn <- true
	}
	for _, p := range group[1:] {
		p.turn <- false
	}
}

// runSafely runs a group. A panic while storing it (a bug) becomes every member's error instead
// of leaving the other callers, and every later prefill, waiting for a leader that is gone. No
// member is answered as stored: a shared transaction that panicked was rolled back (an order
// stored alone before the panic is answered as failed too, the safe side of the two).
func (q *commitQueue) runSafely(group []*pendingOrder) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("sqlstore: storing a group of prefills: panic: %v\n%s", r, debug.Stack())
			for _, p := range group {
				p.id, p.replayed, p.err = "", false, err
			}
		}
	}()
	q.run(group)
}

// stats returns the number of groups stored and of orders in them.
func (q *commitQueue) stats() (groups, orders int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.groups, q.orders
}

// PrefillGroups returns how many transactions stored prefills through the commit queue and how
// many orders they held; both 0 on PostgreSQL, which stores each order in its own transaction.
func (d *DB) PrefillGroups() (groups, orders int64) {
	if d.prefills == nil {
		return 0, 0
	}
	return d.prefills.stats()
}

// storeGroup stores a group: alone when it is one order, else in one shared transaction. When
// the shared transaction fails as a whole (BEGIN, COMMIT, or an order failing for another reason
// than its own refusal), each order is stored again in a transaction of its own, so no caller's
// answer depends on another caller's order.
func (d *DB) storeGroup(group []*pendingOrder) {
	if len(group) == 1 {
		d.storeAlone(group[0])
		return
	}
	if err := d.storeShared(group); err == nil {
		return
	}
	d.prefills.fallbacks.Add(1)
	for _, p := range group {
		d.storeAlone(p)
	}
}

// storeAlone stores p in a transaction of its own: on PostgreSQL one statement when it can
// (storeOrderAtOnce).
func (d *DB) storeAlone(p *pendingOrder) {
	p.id, p.replayed, p.err = "", false, errInTx
	if p.idem != nil {
		p.idem.Replayed = nil
	}
	if d.storeKeyedOrderStmt != nil {
		p.id, p.replayed, p.err = d.storeOrderAtOnce(p.ctx, p.o, p.idem, p.now)
	}
	if p.err == errInTx {
		p.err = d.inTx(p.ctx, func(tx *sql.Tx) error {
			var err error
			p.id, p.replayed, _, err = d.createOrderTx(p.ctx, d.prefillTx(p.ctx, tx), p.o, p.idem, p.now)
			return err
		})
	}
	if p.err != nil {
		p.id, p.replayed = "", false
	}
}

// storeShared stores the group's orders in one transaction, in arrival order. createOrderTx
// refuses an order before it writes anything, so a refused order needs no savepoint to leave the
// others' work intact. A later order with the same (partner, Idempotency-Key) as an earlier one of
// the group finds the earlier one's key row in the transaction and is answered as its replay,
// exactly as if the two had committed one after the other; if the earlier one was refused, it
// wrote no key row and the later one is stored as the first.
func (d *DB) storeShared(group []*pendingOrder) error {
	// The statements run without the callers' cancellation: SQLite answers an interrupted write
	// by rolling back the whole transaction, which holds the other callers' orders too. A caller
	// that has given up before its turn is skipped instead.
	ctx := context.WithoutCancel(group[0].ctx)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ptx := d.prefillTx(ctx, tx)
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			continue
		}
		id, replayed, wrote, err := d.createOrderTx(context.WithoutCancel(p.ctx), ptx, p.o, p.idem, p.now)
		if err != nil {
			// The order's own refusals are its answer; anything else, or anything after a
			// write, is the transaction's trouble.
			err = d.formatError(err)
			if wrote || vippsmgmt.ErrorCode(err) == vippsmgmt.EINTERNAL {
				return err
			}
			p.err = err
			continue
		}
		p.id, p.replayed = id, replayed
	}
	return tx.Commit()
}
