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
	a, b := srvA.Client(t), srvB.Client(t)
	ctx := context.Background()

	// Tokens from one are accepted by the other, both flows.
	fromA := a.Classic(fixtures.DemoPartnerKeys)
	fromB := b.Classic(fixtures.DemoPartnerKeys)
	mgmtB := b.Management(fixtures.DemoManagementKeys)
	for name, c := range map[string]struct {
		srv testserver.Client
		h   []string
	}{"A's token on B": {b, fromA}, "B's token on A": {a, fromB}, "B's management token on A": {a, mgmtB}} {
		if r := c.srv.Do("GET", "/management/v1/sales-units", nil, c.h...); r.Status != 200 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}

	// Writes on one are visible on the other at once: prefill, replay, delete.
	body := prefillBody("business:NO:ORG", "912345688", "CHECKOUT", "Shared Kiosk")
	r := a.Do("POST", "/management/v1/product-orders", body, append(fromA, "Idempotency-Key", "two-1")...)
	r.Expect(t, 201, "application/json")
	var created struct{ PrefilledOrderID string }
	r.JSON(t, &created)
	b.Do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, fromA...).Expect(t, 200, jsonUTF8)
	r = b.Do("POST", "/management/v1/product-orders", body, append(fromB, "Idempotency-Key", "two-1")...)
	r.Expect(t, 201, "application/json")
	var replay struct{ PrefilledOrderID string }
	r.JSON(t, &replay)
	if replay.PrefilledOrderID != created.PrefilledOrderID {
		t.Errorf("replay on B made %s, A made %s", replay.PrefilledOrderID, created.PrefilledOrderID)
	}
	b.Do("DELETE", "/management/v1/product-orders/"+created.PrefilledOrderID, nil, fromB...).Expect(t, 200, "")
	a.Do("GET", "/management/v2/product-orders/"+created.PrefilledOrderID+"/details", nil, fromA...).Expect(t, 404, jsonUTF8)

	// Keys issued on A work on B at once; revoked on A, B refuses them within its key cache
	// lifetime (2 s).
	keys := issueKeys(a, "partner", fixtures.DemoOtherPartnerID, "")
	onB := b.Classic(keys)
	b.Do("GET", "/management/v1/sales-units", nil, onB...).Expect(t, 200, jsonUTF8)
	a.Admin("POST", "/admin/v1/keys/"+keys.ClientID+"/revoke", nil, 200)
	revokedAt := time.Now()
	for {
		r := b.Do("GET", "/management/v1/sales-units", nil, onB...)
		if r.Status == 401 {
			t.Logf("B refused the key revoked on A after %v", time.Since(revokedAt).Round(time.Millisecond))
			break
		}
		if time.Since(revokedAt) > 5*time.Second {
			t.Fatalf("B still accepts a key revoked on A after 5 s: %d", r.Status)
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
		r := srv.Do("POST", "/management/v1/product-orders", prefillBody("business:NO:ORG", storetest.OrgNumber(i), "LOGIN", fmt.Sprintf("Expiring %d", i)),
			append(h, "Idempotency-Key", fmt.Sprintf("expire-%d", i))...)
		r.Expect(t, 201, "application/json")
	}
	before := expiredCounted(t, logsA) + expiredCounted(t, logsB)
	a.Admin("POST", "/admin/v1/clock", map[string]string{"advance": "337h"}, 200)

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
	a.Do("GET", "/management/v1/sales-units", nil, fromA...).Expect(t, 401, problemJSON)
	b.Do("GET", "/management/v1/sales-units", nil, fromA...).Expect(t, 401, problemJSON)
	fresh := b.Classic(fixtures.DemoPartnerKeys)
	for _, srv := range []testserver.Client{a, b} {
		r := srv.Do("GET", "/management/v2/product-orders?includeExpired=true", nil, fresh...)
		r.Expect(t, 200, jsonUTF8)
		if n := strings.Count(string(r.Body), `"status":"EXPIRED"`); n != orders {
			t.Errorf("%s lists %d EXPIRED orders, want %d", srv.URL, n, orders)
		}
	}
	t.Logf("%d prefills over two servers; 10 concurrent sweeps expired %d rows in total", orders, expired)
}
