package fault

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// RefreshEvery is how often the rules are read again from the database, so a rule another
// process added or deleted takes effect here within it.
const RefreshEvery = time.Second

// Injector holds the live rules of one process and decides which request a rule fires on.
type Injector struct {
	store   vippsmgmt.Store
	clock   vippsmgmt.Clock
	catalog *Catalog
	lookup  Lookup
	logger  *slog.Logger

	rules   atomic.Pointer[[]*compiled] // rules that can still fire, oldest first; nil until loaded
	refresh sync.Mutex                  // one reload at a time
	stale   atomic.Bool                 // a budget ran out here: reload before the next request
}

type compiled struct {
	rule *vippsmgmt.FaultRule
	ops  map[string]bool // nil: every operation
}

// NewInjector returns an injector with no rules; call Refresh to load them. lookup names the
// partner of a token request's client id, for rules that match on partnerId.
func NewInjector(store vippsmgmt.Store, clock vippsmgmt.Clock, catalog *Catalog, lookup Lookup, logger *slog.Logger) *Injector {
	if logger == nil {
		logger = slog.Default()
	}
	return &Injector{store: store, clock: clock, catalog: catalog, lookup: lookup, logger: logger}
}

// Catalog returns the operations rules may name.
func (in *Injector) Catalog() *Catalog { return in.catalog }

// Active reports whether any rule may fire: the whole cost of a request when there is none.
func (in *Injector) Active() bool {
	p := in.rules.Load()
	return (p != nil && len(*p) > 0) || in.stale.Load()
}

// Refresh reads the rules from the database. Rules that can no longer fire are left out.
func (in *Injector) Refresh(ctx context.Context) error {
	in.refresh.Lock()
	defer in.refresh.Unlock()
	in.stale.Store(false)
	all, err := in.store.FindFaultRules(ctx)
	if err != nil {
		in.stale.Store(true)
		return err
	}
	now := in.clock.Now()
	live := make([]*compiled, 0, len(all))
	for _, r := range all {
		if r.Exhausted(now) {
			continue
		}
		ops, ferr := in.catalog.resolve(r.Match)
		if ferr != nil {
			// A rule stored by a build whose contract had that operation; it cannot match here.
			in.logger.Warn("fault rule names no operation of this contract", "rule", r.ID, "route", r.Match.Route())
			continue
		}
		live = append(live, &compiled{rule: r, ops: ops})
	}
	in.rules.Store(&live)
	return nil
}

// Request is what a rule can match on.
type Request struct {
	Operation string // operationId; "" for a route faults never apply to
	ClientID  string // the authenticated caller, or the client id a token request presents
	PartnerID string // the authenticated caller's partner
	Token     bool   // a token request: PartnerID is looked up from ClientID when a rule needs it
}

// Fire returns the rule that answers req, or nil. The first matching rule, oldest first, whose
// budget allows it and whose firing the store counts wins. Store failures leave the request alone:
// a broken fault rule must not turn into a real failure.
func (in *Injector) Fire(ctx context.Context, req Request) *vippsmgmt.FaultRule {
	if req.Operation == "" {
		return nil
	}
	if in.stale.Load() {
		if err := in.Refresh(ctx); err != nil && ctx.Err() == nil {
			in.logger.WarnContext(ctx, "fault rules could not be read", "error", err)
		}
	}
	p := in.rules.Load()
	if p == nil {
		return nil
	}
	now := in.clock.Now()
	looked := false
	for _, c := range *p {
		r := c.rule
		if c.ops != nil && !c.ops[req.Operation] {
			continue
		}
		if r.Match.ClientID != "" && r.Match.ClientID != req.ClientID {
			continue
		}
		if r.Match.PartnerID != "" {
			if req.Token && !looked && req.ClientID != "" && in.lookup != nil {
				req.PartnerID, looked = in.lookup(ctx, req.ClientID), true
			}
			if r.Match.PartnerID != req.PartnerID {
				continue
			}
		}
		if !r.Fires(now, rand.Float64()) {
			continue
		}
		fired, err := in.store.FireFaultRule(context.WithoutCancel(ctx), r.ID)
		if err != nil {
			in.logger.WarnContext(ctx, "fault rule could not be counted", "rule", r.ID, "error", err)
			continue
		}
		if !fired || (r.Remaining != nil && *r.Remaining <= 1) {
			// Spent, expired or deleted, possibly by another process: read the rules again.
			in.stale.Store(true)
		}
		if fired {
			return r
		}
	}
	return nil
}
