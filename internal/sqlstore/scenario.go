package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// Fault rules and autopilot policies: the sandbox's scenario control.

const selectFaultRule = `SELECT id, match_operation, match_method, match_path, match_client_id, match_partner_id,
	effect_status, effect_retry_after, effect_delay_ns, effect_drop, budget_count, remaining, probability, until_at,
	fired, created_at FROM fault_rules`

// CreateFaultRule stores a new rule with its full budget.
func (d *DB) CreateFaultRule(ctx context.Context, r *vippsmgmt.FaultRule) error {
	return d.validInTx(ctx, r, func(tx *sql.Tx) error {
		if err := d.lockFaultRules(ctx, tx); err != nil {
			return err
		}
		if err := mustBeNew(ctx, tx, `SELECT 1 FROM fault_rules WHERE id = $1`, r.ID,
			vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "A fault rule with the id %s already exists.", r.ID)); err != nil {
			return err
		}
		return d.insertFaultRule(ctx, tx, r)
	})
}

// PutFaultRule stores r under its id; the same definition again leaves the stored rule alone.
func (d *DB) PutFaultRule(ctx context.Context, r *vippsmgmt.FaultRule) error {
	return d.validInTx(ctx, r, func(tx *sql.Tx) error {
		if err := d.lockFaultRules(ctx, tx); err != nil {
			return err
		}
		old, err := scanFaultRule(tx.QueryRowContext(ctx, selectFaultRule+` WHERE id = $1`, r.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return d.insertFaultRule(ctx, tx, r)
		case err != nil:
			return err
		case old.SameDefinition(r):
			*r = *old
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM fault_rules WHERE id = $1`, r.ID); err != nil {
			return err
		}
		return d.insertFaultRule(ctx, tx, r)
	})
}

// lockFaultRules serialises the writers that count rules, so MaxFaultRules holds across processes.
func (d *DB) lockFaultRules(ctx context.Context, tx *sql.Tx) error {
	if d.dialect != DialectPostgres {
		return nil // SQLite transactions hold the database's single write lock from BEGIN
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(faultRulesLock))
	return err
}

// faultRulesLock is an arbitrary advisory lock key for fault rule writes.
const faultRulesLock = 0x7669707066617574 // "vippfaut"

func (d *DB) insertFaultRule(ctx context.Context, tx *sql.Tx, r *vippsmgmt.FaultRule) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM fault_rules`).Scan(&n); err != nil {
		return err
	}
	if n >= vippsmgmt.MaxFaultRules {
		return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "There are already %d fault rules, the most a sandbox keeps; delete some first.", n)
	}
	r.CreatedAt = d.now()
	r.Fired = 0
	r.Remaining = nil
	if r.Count != nil {
		c := *r.Count
		r.Remaining = &c
	}
	var count, remaining, until any
	if r.Count != nil {
		count, remaining = *r.Count, *r.Remaining
	}
	if r.Until != nil {
		until = micros(r.Until.UTC())
	}
	var prob any
	if r.Probability != nil {
		prob = *r.Probability
	}
	m, e := r.Match, r.Effect
	_, err := tx.ExecContext(ctx, `INSERT INTO fault_rules (id, seq, match_operation, match_method, match_path,
		match_client_id, match_partner_id, effect_status, effect_retry_after, effect_delay_ns, effect_drop,
		budget_count, remaining, probability, until_at, fired, created_at)
		SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, $15 FROM fault_rules`,
		r.ID, m.OperationID, m.Method, m.Path, m.ClientID, m.PartnerID, e.Status, e.RetryAfterSeconds,
		int64(e.Delay), e.Drop, count, remaining, prob, until, micros(r.CreatedAt))
	return err
}

// FindFaultRules lists the rules, oldest first.
func (d *DB) FindFaultRules(ctx context.Context) ([]*vippsmgmt.FaultRule, error) {
	return queryAll(ctx, d, selectFaultRule+` ORDER BY seq, id`, nil, scanFaultRule)
}

// DeleteFaultRule removes a rule.
func (d *DB) DeleteFaultRule(ctx context.Context, id string) error {
	n, err := d.exec(ctx, `DELETE FROM fault_rules WHERE id = $1`, id)
	if err == nil && n == 0 {
		return notFound("Fault rule %s was not found.", id)
	}
	return err
}

// FireFaultRule counts one firing. One UPDATE checks and takes from the budget, so concurrent
// requests in any number of processes never take more than the count.
func (d *DB) FireFaultRule(ctx context.Context, id string) (bool, error) {
	n, err := d.exec(ctx, `UPDATE fault_rules SET fired = fired + 1,
		remaining = CASE WHEN remaining IS NULL THEN NULL ELSE remaining - 1 END
		WHERE id = $1 AND (remaining IS NULL OR remaining > 0) AND (until_at IS NULL OR until_at > $2)`,
		id, micros(d.now()))
	return n == 1, err
}

func scanFaultRule(s scanner) (*vippsmgmt.FaultRule, error) {
	var (
		r                       vippsmgmt.FaultRule
		delayNs, created        int64
		count, remaining, until sql.NullInt64
		prob                    sql.NullFloat64
	)
	err := s.Scan(&r.ID, &r.Match.OperationID, &r.Match.Method, &r.Match.Path, &r.Match.ClientID, &r.Match.PartnerID,
		&r.Effect.Status, &r.Effect.RetryAfterSeconds, &delayNs, &r.Effect.Drop, &count, &remaining, &prob, &until,
		&r.Fired, &created)
	if err != nil {
		return nil, err
	}
	r.Effect.Delay = time.Duration(delayNs)
	if count.Valid {
		c, rem := int(count.Int64), int(remaining.Int64)
		r.Count, r.Remaining = &c, &rem
	}
	if prob.Valid {
		p := prob.Float64
		r.Probability = &p
	}
	r.Until = fromNullMicros(until)
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

const selectAutopilot = `SELECT partner_id, view_ns, submit_ns, decide_ns, decision, reject_reason, updated_at FROM autopilot_policies`

// PutAutopilotPolicy creates or replaces the policy of p.PartnerID.
func (d *DB) PutAutopilotPolicy(ctx context.Context, p *vippsmgmt.AutopilotPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = d.now()
	ns := func(v *time.Duration) any {
		if v == nil {
			return nil
		}
		return int64(*v)
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if p.PartnerID != "" {
			if err := mustExist(ctx, tx, `SELECT 1 FROM partners WHERE id = $1`, p.PartnerID,
				vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "partnerId", Problem: "no partner " + p.PartnerID + " exists"}})); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO autopilot_policies (partner_id, view_ns, submit_ns, decide_ns, decision, reject_reason, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (partner_id) DO UPDATE SET view_ns = excluded.view_ns, submit_ns = excluded.submit_ns,
			decide_ns = excluded.decide_ns, decision = excluded.decision, reject_reason = excluded.reject_reason,
			updated_at = excluded.updated_at`,
			p.PartnerID, ns(p.View), ns(p.Submit), ns(p.Decide), p.Decision, p.RejectReason, micros(p.UpdatedAt))
		return err
	})
}

// FindAutopilotPolicies lists the policies of page p, the one for every partner ("") first.
func (d *DB) FindAutopilotPolicies(ctx context.Context, p vippsmgmt.Page) ([]*vippsmgmt.AutopilotPolicy, error) {
	var q query
	q.add(selectAutopilot, ` WHERE 1 = 1`)
	q.keyset(p.After, p.Limit, false, "partner_id")
	return queryAll(ctx, d, q.String(), q.args, scanAutopilot)
}

// DeleteAutopilotPolicy removes the policy of partnerID.
func (d *DB) DeleteAutopilotPolicy(ctx context.Context, partnerID string) error {
	n, err := d.exec(ctx, `DELETE FROM autopilot_policies WHERE partner_id = $1`, partnerID)
	if err == nil && n == 0 {
		if partnerID == "" {
			return notFound("There is no autopilot policy for every partner.")
		}
		return notFound("Partner %s has no autopilot policy of its own.", partnerID)
	}
	return err
}

func scanAutopilot(s scanner) (*vippsmgmt.AutopilotPolicy, error) {
	var (
		p                    vippsmgmt.AutopilotPolicy
		view, submit, decide sql.NullInt64
		updated              int64
	)
	if err := s.Scan(&p.PartnerID, &view, &submit, &decide, &p.Decision, &p.RejectReason, &updated); err != nil {
		return nil, err
	}
	dur := func(v sql.NullInt64) *time.Duration {
		if !v.Valid {
			return nil
		}
		d := time.Duration(v.Int64)
		return &d
	}
	p.View, p.Submit, p.Decide = dur(view), dur(submit), dur(decide)
	p.UpdatedAt = fromMicros(updated)
	return &p, nil
}
