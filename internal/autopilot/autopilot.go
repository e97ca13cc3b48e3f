// Package autopilot moves product orders by the operator's autopilot policies: it finds the steps
// that are due on the sandbox clock and takes each through the same store call a merchant's or
// operator's click makes, so the records, notifications and e-mails are the same. Concurrent runs
// in several processes are safe: each step is a row-locked transition, and a step another run took
// first is skipped.
package autopilot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
)

// maxStages bounds the stops of one clock move; each stop applies every step due by then.
const maxStages = 10_000

// Engine applies autopilot policies.
type Engine struct {
	store  vippsmgmt.Store
	clock  *clock.Clock
	logger *slog.Logger

	mu sync.Mutex
	// refused holds, per open order, the step the store refused as invalid: it is left to a
	// person rather than tried again at every run.
	refused map[string]string
}

// New returns an engine over store and the sandbox clock.
func New(store vippsmgmt.Store, clk *clock.Clock, logger *slog.Logger) *Engine {
	if logger == nil {
		logger = slog.Default()
	}
	return &Engine{store: store, clock: clk, logger: logger, refused: map[string]string{}}
}

// open are the stored statuses an autopilot step can start from.
var open = []string{vippsmgmt.StatusReceived, vippsmgmt.StatusMerchantViewed, vippsmgmt.StatusOrderSubmitted}

// RunDue applies every step due at the clock's now, order by order, and returns how many it
// applied and when the earliest step still ahead is due (zero when none is).
func (e *Engine) RunDue(ctx context.Context) (applied int, next time.Time, err error) {
	policies, err := e.store.FindAutopilotPolicies(ctx, vippsmgmt.Page{})
	if err != nil || len(policies) == 0 {
		return 0, time.Time{}, err
	}
	orders, err := e.candidates(ctx, policies)
	if err != nil {
		return 0, time.Time{}, err
	}
	e.forgetRefusals(orders)
	for _, o := range orders {
		p := vippsmgmt.AutopilotFor(policies, o.PartnerID)
		if p == nil {
			continue
		}
		// At most one step per status: view, submit, decide.
		for range 3 {
			now := e.clock.Now()
			step, due, ok := p.Next(o, now)
			if !ok {
				break
			}
			if due.After(now) {
				if next.IsZero() || due.Before(next) {
					next = due
				}
				break
			}
			if e.wasRefused(o.ID, step) {
				break
			}
			moved, err := e.apply(ctx, p, o, step)
			if err != nil {
				return applied, next, err
			}
			if moved == nil {
				break // another process or a person took the step first
			}
			applied++
			o = moved
		}
	}
	return applied, next, nil
}

// candidates returns the open prefills a policy may move.
func (e *Engine) candidates(ctx context.Context, policies []*vippsmgmt.AutopilotPolicy) ([]*vippsmgmt.ProductOrder, error) {
	f := vippsmgmt.ProductOrderFilter{Statuses: open}
	if vippsmgmt.AutopilotFor(policies, nil) != nil {
		return e.store.FindProductOrders(ctx, f)
	}
	var out []*vippsmgmt.ProductOrder
	for _, p := range policies {
		id := p.PartnerID
		f.PartnerID = &id
		orders, err := e.store.FindProductOrders(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, orders...)
	}
	return out, nil
}

// apply takes one step through the store call a person's click makes. It returns nil, nil when
// the order has moved meanwhile (a conflict) or is gone.
func (e *Engine) apply(ctx context.Context, p *vippsmgmt.AutopilotPolicy, o *vippsmgmt.ProductOrder, step string) (*vippsmgmt.ProductOrder, error) {
	var (
		moved *vippsmgmt.ProductOrder
		err   error
	)
	switch step {
	case vippsmgmt.StepApprove:
		moved, _, err = e.store.ApproveProductOrder(ctx, o.ID, vippsmgmt.AutopilotApproval(o))
	case vippsmgmt.StepReject:
		_, reason := p.Outcome(o)
		moved, err = e.store.StepProductOrder(ctx, o.ID, step, nil, reason)
	default:
		moved, err = e.store.StepProductOrder(ctx, o.ID, step, nil, "")
	}
	switch vippsmgmt.ErrorCode(err) {
	case "":
		e.logger.InfoContext(ctx, "autopilot step", "order", o.ID, "step", step, "status", moved.Status)
		return moved, nil
	case vippsmgmt.ECONFLICT, vippsmgmt.ENOTFOUND:
		return nil, nil
	case vippsmgmt.EINVALID:
		// The order cannot be approved as it stands (say, its price package is gone): leave it
		// to a person rather than retrying every second.
		e.logger.WarnContext(ctx, "autopilot step refused", "order", o.ID, "step", step, "error", err)
		e.mu.Lock()
		e.refused[o.ID] = step
		e.mu.Unlock()
		return nil, nil
	}
	return nil, err
}

// wasRefused reports whether the store refused step on the order before.
func (e *Engine) wasRefused(orderID, step string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.refused[orderID] == step
}

// forgetRefusals drops the refusals of orders no longer open, which bounds them by the open ones.
func (e *Engine) forgetRefusals(open []*vippsmgmt.ProductOrder) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.refused) == 0 {
		return
	}
	ids := make(map[string]bool, len(open))
	for _, o := range open {
		ids[o.ID] = true
	}
	for id := range e.refused {
		if !ids[id] {
			delete(e.refused, id)
		}
	}
}

// Advance moves the clock forward by d like clock.Clock.Advance, stopping at every autopilot step
// due on the way, so each happens at its own time: an order the merchant submits on day 1 is
// approved, not expired, when the clock jumps 15 days. The clock ends exactly d ahead.
func (e *Engine) Advance(ctx context.Context, d time.Duration) (time.Duration, error) {
	if d <= 0 {
		return 0, errors.New("advance must be positive")
	}
	if err := e.clock.Refresh(ctx, e.store); err != nil {
		return 0, err
	}
	startOffset, startNow := e.clock.Offset(), e.clock.Now()
	// Refused before any stage runs, not at the last one.
	if err := clock.CheckAdvance(startOffset, d); err != nil {
		return 0, err
	}
	for range maxStages {
		_, next, err := e.RunDue(ctx)
		if err != nil {
			return 0, err
		}
		if next.IsZero() || next.Sub(startNow) > d {
			break
		}
		// Real time passes while this runs; offsets keep the stops exact relative to the start.
		if step := startOffset + next.Sub(startNow) - e.clock.Offset(); step > 0 {
			if _, err := e.clock.Advance(ctx, e.store, step); err != nil {
				return 0, err
			}
		}
	}
	off := e.clock.Offset()
	if step := startOffset + d - off; step > 0 {
		var err error
		if off, err = e.clock.Advance(ctx, e.store, step); err != nil {
			return 0, err
		}
	}
	if _, _, err := e.RunDue(ctx); err != nil {
		return off, err
	}
	return off, nil
}
