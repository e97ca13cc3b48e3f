package reliability

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the server's driver, to read its file after the kill

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// groupAttempt is one request of the group-commit crash stream.
type groupAttempt struct {
	attempt
	kind string // "new", "replay" (the worker's last key and body again) or "conflict" (that key, another body)
	of   *groupAttempt
}

// prefillGroupMetrics reads how many prefills and transactions storing them the server counted.
func prefillGroupMetrics(t *testing.T, base string) (transactions, prefills float64) {
	t.Helper()
	resp, err := newClient().Get(base + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		name, value, _ := strings.Cut(line, " ")
		v, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "vippsmgmt_sqlite_prefill_transactions_total":
			transactions = v
		case "vippsmgmt_sqlite_prefills_total":
			prefills = v
		}
	}
	return transactions, prefills
}

// TestCrashMidGroup kills an SQLite server with SIGKILL while concurrent prefills share
// transactions: 24 workers keep groups forming all the time, and some of their requests repeat
// their last key (a replay) or reuse it with another body (refused inside the group). Read
// straight from the file after the kill, no order is there without its key and answer, and no key
// without its order; after a restart every acknowledged order is there, complete, every refused
// body is absent, and retrying every key makes each order at most once.
func TestCrashMidGroup(t *testing.T) {
	bin := serverBinary(t)
	path := filepath.Join(t.TempDir(), "group.db")
	p := startProc(t, bin, "sqlite:"+path)
	auth := p.api(t).Classic(fixtures.DemoPartnerKeys)

	const workers, perWorker = 24, 200
	var (
		mu                     sync.Mutex
		attempts               []*groupAttempt
		transactions, prefills float64
	)
	acked := streamUntilKill(t, p, workers, int64(150+rand.IntN(150)), 60*time.Second, func(s *killStream, w int, c testserver.Client) {
		var last *groupAttempt
		for i := 0; i < perWorker && !s.stopped(); i++ {
			at := &groupAttempt{kind: "new"}
			switch {
			case last != nil && i%6 == 4:
				at.kind, at.of, at.key, at.body = "replay", last, last.key, last.body
			case last != nil && i%6 == 5:
				at.kind, at.of, at.key = "conflict", last, last.key
				at.body = crashBody(last.key, 500000+w*perWorker+i)
			default:
				at.key = fmt.Sprintf("group-%02d-%03d", w, i)
				at.body = crashBody(at.key, w*perWorker+i)
			}
			mu.Lock()
			attempts = append(attempts, at)
			mu.Unlock()
			r, err := c.Send("POST", "/management/v1/product-orders", at.body, append(auth, "Idempotency-Key", at.key)...)
			if err != nil {
				return // the server is gone; this attempt stays unanswered
			}
			var cr struct{ PrefilledOrderID string }
			if r.Status == 201 {
				_ = json.Unmarshal(r.Body, &cr)
			}
			mu.Lock()
			at.status, at.id = r.Status, cr.PrefilledOrderID
			ok := at.kind == "new" && r.Status == 201 ||
				at.kind == "replay" && r.Status == 201 && at.id == at.of.id && r.Header.Get("Idempotent-Replayed") == "true" ||
				at.kind == "conflict" && r.Status == 409
			mu.Unlock()
			if !ok {
				t.Errorf("%s of %s: %d %s", at.kind, at.key, r.Status, r.Body)
			}
			if at.kind == "new" {
				last = at
				if r.Status == 201 {
					s.ack()
				}
			}
		}
	}, func() { transactions, prefills = prefillGroupMetrics(t, p.URL) })
	if prefills < 2*transactions {
		t.Errorf("before the kill %.0f prefills took %.0f transactions: groups did not form", prefills, transactions)
	}

	mu.Lock()
	defer mu.Unlock()
	byKey := map[string]*groupAttempt{}
	var inFlight, newKeys int
	for _, at := range attempts {
		if at.kind == "new" {
			byKey[at.key] = at
			newKeys++
		}
		if at.status == 0 {
			inFlight++
		}
	}
	// Each worker waits for its answer before sending again, so the unanswered requests were all
	// queued in, or being stored by, the groups the kill cut.
	if inFlight < 2 {
		t.Errorf("%d requests were unanswered at the kill: it did not land in a group", inFlight)
	}

	// The file as the kill left it: each order of the stream with its key and its answer, each
	// key with its order.
	stored := checkGroupFile(t, path, byKey)
	for _, at := range byKey {
		if at.status == 201 && stored[at.key] != at.id {
			t.Errorf("acknowledged %s as %s; the file holds %q", at.key, at.id, stored[at.key])
		}
	}

	// After a restart: every acknowledged order is served, complete, and holds its first body.
	p2 := startProc(t, bin, "sqlite:"+path)
	b := testserver.Client{T: t, URL: p2.URL, HTTP: newClient()}
	bodyOf := func(key string) string {
		if at := byKey[key]; at != nil {
			return at.body
		}
		return ""
	}
	served := streamOrders(t, b, bodyOf)
	if len(served) != len(stored) {
		t.Errorf("the server lists %d orders of the stream, the file held %d", len(served), len(stored))
	}

	// Retry every key with its first body: acknowledged and stored ones replay, the others are
	// made now, once.
	retried := 0
	for _, at := range byKey {
		r := b.Do("POST", "/management/v1/product-orders", at.body, append(auth, "Idempotency-Key", at.key)...)
		var cr struct{ PrefilledOrderID string }
		if r.Status == 201 {
			r.JSON(t, &cr)
		}
		switch id, wasStored := stored[at.key]; {
		case r.Status != 201:
			t.Errorf("retry of %s: %d %s", at.key, r.Status, r.Body)
		case wasStored && (cr.PrefilledOrderID != id || r.Header.Get("Idempotent-Replayed") != "true"):
			t.Errorf("retry of stored %s: %s (replayed %q), stored %s", at.key, cr.PrefilledOrderID, r.Header.Get("Idempotent-Replayed"), id)
		case !wasStored && r.Header.Get("Idempotent-Replayed") != "":
			t.Errorf("retry of %s, not stored before the kill, says replayed", at.key)
		}
		retried++
	}
	after := streamOrders(t, b, bodyOf)
	if len(after) != newKeys {
		t.Errorf("%d orders after retrying %d keys", len(after), newKeys)
	}
	t.Logf("%d requests by %d workers (%d keys), %.0f prefills in %.0f transactions before SIGKILL; %d acknowledged, %d unanswered at the kill, %d orders in the file; %d orders after retrying every key",
		len(attempts), workers, newKeys, prefills, transactions, acked, inFlight, len(stored), len(after))
}

// checkGroupFile reads the SQLite file of a killed server and checks that every order of the
// stream has its key row, with an answer naming it, and every key row of the stream its order. It
// returns the stored order id of each key.
func checkGroupFile(t *testing.T, path string, byKey map[string]*groupAttempt) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stored := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT k.idem_key, k.order_id, k.response, o.id IS NOT NULL,
		COALESCE(json_extract(o.details, '$.salesUnitName'), '')
		FROM idempotency_keys k LEFT JOIN product_orders o ON o.id = k.order_id
		WHERE k.partner_id = $1 AND k.idem_key LIKE 'group-%'`, fixtures.DemoPartnerID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			key, orderID, name string
			response           []byte
			hasOrder           bool
		)
		if err := rows.Scan(&key, &orderID, &response, &hasOrder, &name); err != nil {
			t.Fatal(err)
		}
		stored[key] = orderID
		switch {
		case byKey[key] == nil:
			t.Errorf("key %s was never sent", key)
		case !hasOrder:
			t.Errorf("key %s is stored without its order %s", key, orderID)
		case name != key:
			t.Errorf("key %s names order %s of %q", key, orderID, name)
		case !bytes.Contains(response, []byte(orderID)):
			t.Errorf("key %s: stored answer %q does not name order %s", key, response, orderID)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var orphans int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM product_orders o
		WHERE json_extract(o.details, '$.salesUnitName') LIKE 'group-%'
		AND NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.order_id = o.id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans > 0 {
		t.Errorf("%d orders of the stream are stored without their key", orphans)
	}
	return stored
}
