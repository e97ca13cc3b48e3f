package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// expiredCounted sums the counts of the sweep's "expired product orders" log lines.
func expiredCounted(t *testing.T, logs *syncbuf.Buffer) int {
	t.Helper()
	total := 0
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg   string `json:"msg"`
			Count int    `json:"count"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "expired product orders" {
			total += line.Count
		}
	}
	return total
}

// TestTwoServersOnePostgres runs two servers on one PostgreSQL database: they accept each other's
// tokens, see each other's writes at once, honour each other's revocations, share the sandbox
// clock, and their concurrent expiry sweeps expire each order exactly once.
func TestTwoServersOnePostgres(t *testing.T) {
	logsA, logsB := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	srvA := testserver.Start(t, "postgres", testserver.Options{Logger: slog.New(slog.NewJSONHandler(logsA, nil))})
	srvB := testserver.Start(t, "postgres", testserver.Options{DSN: srvA.DSN, Logger: slog.New(slog.NewJSONHandler(logsB, nil))})
	a, b := api{t: t, base: srvA.URL}, api{t: t, base: srvB.URL}
	ctx := context.Background()

	// Tokens from one are accepted by the other, both flows.
	fromA := a.classic(fixtures.DemoPartnerKeys)
	fromB := b.classic(fixtures.DemoPartnerKeys)
	mgmtB := b.management(fixtures.DemoManagementKeys)
	for name, c := range map[string]struct {
		srv api
		h   []string
	}{"A's token on B": {b, fromA}, "B's token on A": {a, fromB}, "B's management token on A": {a, mgmtB}} {
		if r := c.srv.do("GET", "/management/v1/sales-units", nil, c.h...); r.status != 200 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}

	// Writes on one are visible on the other at once: prefill, replay, delete.
	body := prefillBody("business:NO:ORG", "912345688", "CHECKOUT", "Shared Kiosk")
	r := a.do("POST", "/management/v1/product-orders", body, append(fromA, "Idempotency-Key", "two-1")...)
	expect(t, r, 201, "application/json")
	var created struct{ PrefilledOrderID string }
	r.json(t, &created)
	expect(t, b.do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, fromA...), 200, jsonUTF8)
	r = b.do("POST", "/management/v1/product-orders", body, append(fromB, "Idempotency-Key", "two-1")...)
	expect(t, r, 201, "application/json")
	var replay struct{ PrefilledOrderID string }
	r.json(t, &replay)
	if replay.PrefilledOrderID != created.PrefilledOrderID {
		t.Errorf("replay on B made %s, A made %s", replay.PrefilledOrderID, created.PrefilledOrderID)
	}
	expect(t, b.do("DELETE", "/management/v1/product-orders/"+created.PrefilledOrderID, nil, fromB...), 200, "")
	expect(t, a.do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, fromA...), 404, jsonUTF8)

	// Keys issued on A work on B at once; revoked on A, B refuses them within its key cache
	// lifetime (2 s).
	keys := a.issueKeys("partner", fixtures.DemoOtherPartnerID, "")
	onB := b.classic(keys)
	expect(t, b.do("GET", "/management/v1/sales-units", nil, onB...), 200, jsonUTF8)
	a.admin("POST", "/admin/v1/keys/"+keys.ClientID+"/revoke", nil, 200)
	revokedAt := time.Now()
	for {
		r := b.do("GET", "/management/v1/sales-units", nil, onB...)
		if r.status == 401 {
			t.Logf("B refused the key revoked on A after %v", time.Since(revokedAt).Round(time.Millisecond))
			break
		}
		if time.Since(revokedAt) > 5*time.Second {
			t.Fatalf("B still accepts a key revoked on A after 5 s: %d", r.status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Prefills through both servers, then the clock moves past their lifetime on A only.
	const orders = 20
	for i := 0; i < orders; i++ {
		srv, h := a, fromA
		if i%2 == 1 {
			srv, h = b, fromB
		}
		r := srv.do("POST", "/management/v1/product-orders", prefillBody("business:NO:ORG", storetest.OrgNumber(i), "LOGIN", fmt.Sprintf("Expiring %d", i)),
			append(h, "Idempotency-Key", fmt.Sprintf("expire-%d", i))...)
		expect(t, r, 201, "application/json")
	}
	before := expiredCounted(t, logsA) + expiredCounted(t, logsB)
	a.admin("POST", "/admin/v1/clock", map[string]string{"advance": "337h"}, 200)

	// Both sweep, over and over, at the same time; B adopts A's clock in its first sweep.
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		for _, s := range []*testserver.Server{srvA, srvB} {
			wg.Add(1)
			go func() { defer wg.Done(); s.App.Sweep(ctx) }()
		}
	}
	wg.Wait()
	if off := srvB.App.Clock.Offset(); off < 337*time.Hour {
		t.Fatalf("B's clock offset %v after sweeping; A advanced it 337h", off)
	}
	expired := expiredCounted(t, logsA) + expiredCounted(t, logsB) - before
	if expired != orders {
		t.Errorf("the sweeps expired %d orders in total, want %d (each once)", expired, orders)
	}
	all, err := srvB.App.Store.FindProductOrders(ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true, Statuses: []string{vippsmgmt.StatusExpired}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != orders {
		t.Errorf("%d orders stored as EXPIRED, want %d", len(all), orders)
	}
	for _, o := range all {
		if o.ExpiredAt == nil || !o.ExpiredAt.Equal(o.ExpiresAt()) {
			t.Errorf("order %s: expired at %v, its lifetime ends %v", o.ID, o.ExpiredAt, o.ExpiresAt())
		}
	}
	// Both servers now refuse the tokens issued before the move, and agree on the statuses.
	expect(t, a.do("GET", "/management/v1/sales-units", nil, fromA...), 401, problemJSON)
	expect(t, b.do("GET", "/management/v1/sales-units", nil, fromA...), 401, problemJSON)
	fresh := b.classic(fixtures.DemoPartnerKeys)
	for _, srv := range []api{a, b} {
		r := srv.do("GET", "/management/v2/product-orders?includeExpired=true", nil, fresh...)
		expect(t, r, 200, jsonUTF8)
		if n := strings.Count(string(r.body), `"status":"EXPIRED"`); n != orders {
			t.Errorf("%s lists %d EXPIRED orders, want %d", srv.base, n, orders)
		}
	}
	t.Logf("%d prefills over two servers; 10 concurrent sweeps expired %d rows in total", orders, expired)
}
