package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

var _ vippsmgmt.ReportStore = (*DB)(nil)

// reportStatements are prepared once: parsing them took about half of a flush's CPU.
type reportStatements struct {
	mu                                               sync.Mutex
	ready                                            bool
	window, insertCaller, selectCaller, updateCaller *sql.Stmt
	upsertSignal, upsertRoute, upsertProblem         *sql.Stmt
}

func (d *DB) reportStmts(ctx context.Context) (*reportStatements, error) {
	r := &d.report
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready {
		return r, nil
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&r.window, `SELECT started_at FROM report_window WHERE id = 1` + d.forUpdate()},
		{&r.insertCaller, insertCallerSQL},
		{&r.selectCaller, `SELECT requests, first_seen, last_seen, state FROM report_callers WHERE client_id = $1` + d.forUpdate()},
		{&r.updateCaller, `UPDATE report_callers SET requests = $1, first_seen = $2, last_seen = $3, state = $4 WHERE client_id = $5`},
		{&r.upsertSignal, upsertSignalSQL},
		{&r.upsertRoute, upsertRouteSQL},
		{&r.upsertProblem, upsertProblemSQL},
	} {
		st, err := d.db.PrepareContext(ctx, p.sql)
		if err != nil {
			r.closeLocked()
			return nil, err
		}
		*p.stmt = st
	}
	r.ready = true
	return r, nil
}

func (r *reportStatements) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
}

func (r *reportStatements) closeLocked() {
	for _, st := range []**sql.Stmt{&r.window, &r.insertCaller, &r.selectCaller, &r.updateCaller, &r.upsertSignal, &r.upsertRoute, &r.upsertProblem} {
		if *st != nil {
			(*st).Close()
			*st = nil
		}
	}
	r.ready = false
}

// RecordRequests applies the report's rules to a batch in one transaction. The window row is
// locked first, so batches of several processes and a reset run one after another; callers are
// then locked in client id order, so two batches never wait for each other crosswise.
func (d *DB) RecordRequests(ctx context.Context, batch []vippsmgmt.RequestFacts) error {
	// Pointers into batch: grouping thousands of facts by caller copies none of them.
	byCaller := map[string][]*vippsmgmt.RequestFacts{}
	for i := range batch {
		if f := &batch[i]; f.ClientID != "" {
			byCaller[f.ClientID] = append(byCaller[f.ClientID], f)
		}
	}
	if len(byCaller) == 0 {
		return nil
	}
	ids := make([]string, 0, len(byCaller))
	for id := range byCaller {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	stmts, err := d.reportStmts(ctx)
	if err != nil {
		return d.formatError(err)
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var start int64
		if err := tx.StmtContext(ctx, stmts.window).QueryRowContext(ctx).Scan(&start); err != nil {
			return err
		}
		for _, id := range ids {
			facts := slices.DeleteFunc(byCaller[id], func(f *vippsmgmt.RequestFacts) bool { return micros(f.Time) < start })
			if len(facts) == 0 {
				continue
			}
			byTime := func(a, b *vippsmgmt.RequestFacts) int { return a.Time.Compare(b.Time) }
			if !slices.IsSortedFunc(facts, byTime) { // they nearly always come in order
				slices.SortStableFunc(facts, byTime)
			}
			if err := d.recordCaller(ctx, tx, stmts, id, facts); err != nil {
				return err
			}
		}
		return nil
	})
}

type signalKey struct{ code, route string }

type routeAgg struct {
	requests, errors      int64
	firstError, lastError time.Time
	example               string
	problems              map[string]*problemAgg
}

type problemAgg struct {
	detail string
	count  int64
}

// recordCaller continues one caller's state with facts (in time order) and adds the aggregates.
func (d *DB) recordCaller(ctx context.Context, tx *sql.Tx, stmts *reportStatements, clientID string, facts []*vippsmgmt.RequestFacts) error {
	first := micros(facts[0].Time)
	var (
		requests, firstSeen, lastSeen int64
		stateJSON                     string
	)
	selectCaller := tx.StmtContext(ctx, stmts.selectCaller)
	err := selectCaller.QueryRowContext(ctx, clientID).Scan(&requests, &firstSeen, &lastSeen, &stateJSON)
	if errors.Is(err, sql.ErrNoRows) {
		// The caller's first flush: its row is made (or, when another process made it meanwhile,
		// waited for) and then read and locked. Every later flush reads it at once.
		if _, err := tx.StmtContext(ctx, stmts.insertCaller).ExecContext(ctx, clientID, clientID, clientID, first, first); err != nil {
			return err
		}
		err = selectCaller.QueryRowContext(ctx, clientID).Scan(&requests, &firstSeen, &lastSeen, &stateJSON)
	}
	if err != nil {
		return err
	}
	var state vippsmgmt.CallerState
	if err := json.Unmarshal([]byte(stateJSON), &state); err != nil {
		// A state that cannot be read is only detection memory; start it afresh.
		state = vippsmgmt.CallerState{}
	}

	signals := map[signalKey]*vippsmgmt.SignalCount{}
	routes := map[string]*routeAgg{}
	// A caller's requests mostly repeat one route and its findings: the last route and finding
	// looked up are kept, so a run of alike requests hashes no map key.
	var (
		found     []vippsmgmt.Signal
		lastRoute string
		r         *routeAgg
		lastKey   signalKey
		last      *vippsmgmt.SignalCount
	)
	for _, f := range facts {
		found = state.AppendObserved(found[:0], f)
		for _, s := range found {
			k := signalKey{s.Code, s.Route}
			c := last
			if c == nil || k != lastKey {
				c = signals[k]
				if c == nil {
					c = &vippsmgmt.SignalCount{Code: s.Code, Route: s.Route, FirstSeen: f.Time}
					signals[k] = c
				}
				lastKey, last = k, c
			}
			c.Count++
			c.LastSeen, c.ExampleRequestID = f.Time, f.RequestID
		}
		if r == nil || f.Route != lastRoute {
			r = routes[f.Route]
			if r == nil {
				r = &routeAgg{problems: map[string]*problemAgg{}}
				routes[f.Route] = r
			}
			lastRoute = f.Route
		}
		r.requests++
		if isClientError(*f) {
			if r.errors == 0 {
				r.firstError = f.Time
			}
			r.errors++
			r.lastError, r.example = f.Time, f.RequestID
			p := r.problems[f.Problem]
			if p == nil {
				p = &problemAgg{}
				r.problems[f.Problem] = p
			}
			p.count++
			p.detail = f.Detail
		}
	}

	newState, err := json.Marshal(&state)
	if err != nil {
		return err
	}
	firstSeen = min(firstSeen, first)
	lastSeen = max(lastSeen, micros(facts[len(facts)-1].Time))
	if _, err := tx.StmtContext(ctx, stmts.updateCaller).ExecContext(ctx, requests+int64(len(facts)), firstSeen, lastSeen, string(newState), clientID); err != nil {
		return err
	}
	for _, s := range signals {
		if _, err := tx.StmtContext(ctx, stmts.upsertSignal).ExecContext(ctx, clientID, s.Code, s.Route, s.Count,
			micros(s.FirstSeen), micros(s.LastSeen), s.ExampleRequestID); err != nil {
			return err
		}
	}
	for route, r := range routes {
		if _, err := tx.StmtContext(ctx, stmts.upsertRoute).ExecContext(ctx, clientID, route, r.requests, r.errors,
			microsOrZero(r.firstError), microsOrZero(r.lastError), r.example); err != nil {
			return err
		}
		for problem, p := range r.problems {
			if _, err := tx.StmtContext(ctx, stmts.upsertProblem).ExecContext(ctx, clientID, route, problem, p.detail, p.count,
				clientID, route, clientID, route, problem); err != nil {
				return err
			}
		}
	}
	return nil
}

// isClientError tells which answers count towards client-errors: the caller's 4xx, not a rate
// limit (retry-too-fast judges those) and not a fault the operator injected.
func isClientError(f vippsmgmt.RequestFacts) bool {
	return f.Status >= 400 && f.Status < 500 && f.Status != 429 && !f.Injected
}

func microsOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

const maxProblemsPerRoute = "20"

// The key set names the partner; a key set deleted since is reported under its client id alone.
const insertCallerSQL = `INSERT INTO report_callers (client_id, partner_id, kind, requests, first_seen, last_seen, state)
	VALUES ($1, COALESCE((SELECT partner_id FROM api_keys WHERE client_id = $2), ''),
		COALESCE((SELECT kind FROM api_keys WHERE client_id = $3), ''), 0, $4, $5, '{}')
	ON CONFLICT (client_id) DO NOTHING`

// The upserts add a batch's counts to the stored ones; every SET expression reads the row as it
// was, and the example request is the latest one.
const (
	upsertSignalSQL = `INSERT INTO report_signals (client_id, code, route, count, first_seen, last_seen, example_request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (client_id, code, route) DO UPDATE SET
			count = report_signals.count + excluded.count,
			first_seen = CASE WHEN excluded.first_seen < report_signals.first_seen THEN excluded.first_seen ELSE report_signals.first_seen END,
			last_seen = CASE WHEN excluded.last_seen > report_signals.last_seen THEN excluded.last_seen ELSE report_signals.last_seen END,
			example_request_id = CASE WHEN excluded.last_seen >= report_signals.last_seen THEN excluded.example_request_id ELSE report_signals.example_request_id END`
	upsertRouteSQL = `INSERT INTO report_routes (client_id, route, requests, client_errors, first_error, last_error, example_request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (client_id, route) DO UPDATE SET
			requests = report_routes.requests + excluded.requests,
			client_errors = report_routes.client_errors + excluded.client_errors,
			first_error = CASE WHEN excluded.client_errors > 0 AND (report_routes.client_errors = 0 OR excluded.first_error < report_routes.first_error)
				THEN excluded.first_error ELSE report_routes.first_error END,
			last_error = CASE WHEN excluded.client_errors > 0 AND excluded.last_error >= report_routes.last_error
				THEN excluded.last_error ELSE report_routes.last_error END,
			example_request_id = CASE WHEN excluded.client_errors > 0 AND excluded.last_error >= report_routes.last_error
				THEN excluded.example_request_id ELSE report_routes.example_request_id END`
	// Problems are named by our own answers' titles and error codes, a small set; still, a route
	// keeps at most maxProblemsPerRoute of them (the route's error count includes the rest).
	upsertProblemSQL = `INSERT INTO report_problems (client_id, route, problem, detail, count)
		SELECT $1, $2, $3, $4, CAST($5 AS BIGINT)
		WHERE (SELECT COUNT(*) FROM report_problems WHERE client_id = $6 AND route = $7) < ` + maxProblemsPerRoute + `
			OR EXISTS (SELECT 1 FROM report_problems WHERE client_id = $8 AND route = $9 AND problem = $10)
		ON CONFLICT (client_id, route, problem) DO UPDATE SET
			count = report_problems.count + excluded.count, detail = excluded.detail`
)

// ReportCallers returns the callers of the current window (only clientID's when given), ordered
// by client id, and the window's start.
func (d *DB) ReportCallers(ctx context.Context, clientID string) ([]vippsmgmt.ReportCaller, time.Time, error) {
	var start int64
	if err := d.db.QueryRowContext(ctx, `SELECT started_at FROM report_window WHERE id = 1`).Scan(&start); err != nil {
		return nil, time.Time{}, d.formatError(err)
	}
	if start == 0 {
		// Never reset: the window began with the first request counted.
		var first sql.NullInt64
		if err := d.db.QueryRowContext(ctx, `SELECT MIN(first_seen) FROM report_callers`).Scan(&first); err != nil {
			return nil, time.Time{}, d.formatError(err)
		}
		start = first.Int64
	}
	where, args := "", []any{}
	if clientID != "" {
		where, args = " WHERE client_id = $1", []any{clientID}
	}
	callers, err := queryAll(ctx, d, `SELECT client_id, partner_id, kind, requests, first_seen, last_seen FROM report_callers`+where+` ORDER BY client_id`, args,
		func(s scanner) (vippsmgmt.ReportCaller, error) {
			var c vippsmgmt.ReportCaller
			var first, last int64
			err := s.Scan(&c.ClientID, &c.PartnerID, &c.Kind, &c.Requests, &first, &last)
			c.FirstSeen, c.LastSeen = fromMicros(first), fromMicros(last)
			return c, err
		})
	if err != nil {
		return nil, time.Time{}, err
	}
	index := map[string]*vippsmgmt.ReportCaller{}
	for i := range callers {
		index[callers[i].ClientID] = &callers[i]
	}
	type signalRow struct {
		clientID string
		vippsmgmt.SignalCount
	}
	signals, err := queryAll(ctx, d, `SELECT client_id, code, route, count, first_seen, last_seen, example_request_id FROM report_signals`+where+
		` ORDER BY client_id, code, route`, args, func(s scanner) (signalRow, error) {
		var r signalRow
		var first, last int64
		err := s.Scan(&r.clientID, &r.Code, &r.Route, &r.Count, &first, &last, &r.ExampleRequestID)
		r.FirstSeen, r.LastSeen = fromMicros(first), fromMicros(last)
		return r, err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, s := range signals {
		if c := index[s.clientID]; c != nil {
			c.Signals = append(c.Signals, s.SignalCount)
		}
	}
	type routeRow struct {
		clientID string
		vippsmgmt.RouteCount
	}
	routes, err := queryAll(ctx, d, `SELECT client_id, route, requests, client_errors, first_error, last_error, example_request_id FROM report_routes`+where+
		` ORDER BY client_id, route`, args, func(s scanner) (routeRow, error) {
		var r routeRow
		var first, last int64
		err := s.Scan(&r.clientID, &r.Route, &r.Requests, &r.ClientErrors, &first, &last, &r.ExampleRequestID)
		if r.ClientErrors > 0 {
			r.FirstError, r.LastError = fromMicros(first), fromMicros(last)
		}
		return r, err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	type problemRow struct {
		clientID, route string
		vippsmgmt.ProblemCount
	}
	problems, err := queryAll(ctx, d, `SELECT client_id, route, problem, detail, count FROM report_problems`+where, args,
		func(s scanner) (problemRow, error) {
			var r problemRow
			err := s.Scan(&r.clientID, &r.route, &r.Problem, &r.Detail, &r.Count)
			return r, err
		})
	if err != nil {
		return nil, time.Time{}, err
	}
	byRoute := map[[2]string][]vippsmgmt.ProblemCount{}
	for _, p := range problems {
		k := [2]string{p.clientID, p.route}
		byRoute[k] = append(byRoute[k], p.ProblemCount)
	}
	for _, r := range routes {
		c := index[r.clientID]
		if c == nil {
			continue
		}
		r.Problems = byRoute[[2]string{r.clientID, r.Route}]
		slices.SortFunc(r.Problems, func(a, b vippsmgmt.ProblemCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Problem, b.Problem))
		})
		c.Routes = append(c.Routes, r.RouteCount)
	}
	return callers, fromMicros(start), nil
}

// ResetReport forgets every aggregate and starts a new window at at. Batches still buffered from
// before are dropped when they arrive.
func (d *DB) ResetReport(ctx context.Context, at time.Time) (time.Time, error) {
	now := at.UTC().Truncate(time.Microsecond)
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE report_window SET started_at = $1 WHERE id = 1`, micros(now)); err != nil {
			return err
		}
		for _, table := range []string{"report_problems", "report_routes", "report_signals", "report_callers"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
				return err
			}
		}
		return nil
	})
	return now, err
}
