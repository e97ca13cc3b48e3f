package reliability

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// attempt is one prefill of the crash stream: its key, what was sent and what came back.
type attempt struct {
	key, body string
	status    int // 0: no answer (connection cut by the crash)
	id        string
}

// killStream is a stream of requests from several workers that a SIGKILL cuts off.
type killStream struct {
	stop, kill chan struct{}
	killAfter  int64
	acked      atomic.Int64
	once       sync.Once
}

// stopped reports whether the stream is over: a worker sends nothing more.
func (s *killStream) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// ack counts an acknowledged request; the one that makes killAfter starts the kill.
func (s *killStream) ack() {
	if s.acked.Add(1) == s.killAfter {
		s.once.Do(func() { close(s.kill) })
	}
}

// streamUntilKill runs work(s, w, c) for each of workers workers, each with its own connection c to
// p, until killAfter requests were acknowledged through s.ack, failing after timeout. Then
// beforeKill runs and p gets SIGKILL. Once every worker has returned, it returns how many requests
// were acknowledged in all.
func streamUntilKill(t *testing.T, p *proc, workers int, killAfter int64, timeout time.Duration, work func(s *killStream, w int, c testserver.Client), beforeKill func()) (acked int64) {
	s := &killStream{stop: make(chan struct{}), kill: make(chan struct{}), killAfter: killAfter}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { work(s, w, testserver.Client{T: t, URL: p.URL, HTTP: newClient()}) })
	}
	select {
	case <-s.kill:
	case <-time.After(timeout):
		t.Fatalf("the stream did not reach the kill point in %s", timeout)
	}
	if beforeKill != nil {
		beforeKill()
	}
	p.crash()
	close(s.stop)
	wg.Wait()
	return s.acked.Load()
}

// crashBody is a prefill whose every optional field derives from the key, so a stored order can
// be checked field by field.
func crashBody(key string, n int) string {
	types := []string{"PAYMENT_INTEGRATION", "CASHIER", "CHECKOUT", "LOGIN", "DONATIONS"}
	return fmt.Sprintf(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":%q},"productType":%q,"salesUnitName":%q,`+
		`"settlementBankAccount":{"scheme":"BBAN:NO","id":"1%010d"},"annualTurnover":%d,"intendedPurpose":%q,`+
		`"website":{"url":"https://%s.example","termsUrl":"https://%s.example/terms"},"merchantCategoryCode":"%04d"}`,
		storetest.OrgNumber(n), types[n%len(types)], key, n, 1000+n, "purpose of "+key, key, key, 1000+n%9000)
}

// demoOrders lists the demo partner's product orders on the server b talks to.
func demoOrders(t *testing.T, b testserver.Client) []adminOrder {
	t.Helper()
	r := b.Do("GET", "/admin/v1/product-orders?limit=1000&partnerId="+fixtures.DemoPartnerID, nil, procAdmin()...)
	r.Expect(t, 200, "")
	var orders []adminOrder
	r.JSON(t, &orders)
	return orders
}

// streamOrders lists the orders a prefill stream left on the server b talks to and checks that
// no key made two orders and that each order holds every field sent. bodyOf gives the body sent
// under a key, "" for an order that is not of the stream. It returns the order id of each key.
func streamOrders(t *testing.T, b testserver.Client, bodyOf func(key string) string) map[string]string {
	t.Helper()
	idOf := map[string]string{}
	for _, o := range demoOrders(t, b) {
		name, _ := o.Details["salesUnitName"].(string)
		body := bodyOf(name)
		if body == "" {
			continue
		}
		if prev, dup := idOf[name]; dup {
			t.Errorf("key %s made two orders: %s and %s", name, prev, o.ProductOrderID)
		}
		idOf[name] = o.ProductOrderID
		checkAsSent(t, o, name, body)
	}
	return idOf
}

// checkAsSent checks that stored order o holds every field of the crashBody sent for key name.
func checkAsSent(t *testing.T, o adminOrder, name, body string) {
	t.Helper()
	var sent map[string]any
	_ = json.Unmarshal([]byte(body), &sent)
	if o.ProductType != sent["productType"] || o.BusinessIdentifier["id"] != sent["businessIdentifier"].(map[string]any)["id"] {
		t.Errorf("order %s of %s: productType %s, businessIdentifier %v; sent %s", o.ProductOrderID, name, o.ProductType, o.BusinessIdentifier, body)
	}
	for _, f := range []string{"salesUnitName", "settlementBankAccount", "annualTurnover", "intendedPurpose", "website", "merchantCategoryCode"} {
		if fmt.Sprint(o.Details[f]) != fmt.Sprint(sent[f]) {
			t.Errorf("order %s of %s: %s is %v, sent %v", o.ProductOrderID, name, f, o.Details[f], sent[f])
		}
	}
}

// TestCrashSafety streams prefills from several workers into a server process, kills it with
// SIGKILL mid-stream, restarts it on the same database and checks: every acknowledged prefill is
// there and complete, no visible order is partial, and retrying every key whose answer was lost
// creates each order at most once.
func TestCrashSafety(t *testing.T) {
	bin := serverBinary(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := "sqlite:" + filepath.Join(t.TempDir(), "crash.db")
			if backend == "postgres" {
				db = pgtest.DSN(t)
			}
			testCrash(t, bin, db)
		})
	}
}

func testCrash(t *testing.T, bin, db string) {
	p := startProc(t, bin, db)
	a := p.api(t)
	k := fixtures.DemoPartnerKeys
	auth := a.Classic(k)

	const workers, perWorker = 6, 400
	var (
		mu       sync.Mutex
		attempts []*attempt
		serverEr atomic.Int64
	)
	// A varying kill point: the crash lands in a different phase of some request each run.
	streamUntilKill(t, p, workers, int64(100+rand.IntN(100)), 30*time.Second, func(s *killStream, w int, c testserver.Client) {
		for i := 0; i < perWorker && !s.stopped(); i++ {
			key := fmt.Sprintf("crash-%d-%03d", w, i)
			at := &attempt{key: key, body: crashBody(key, w*perWorker+i)}
			mu.Lock()
			attempts = append(attempts, at)
			mu.Unlock()
			r, err := c.Send("POST", "/management/v1/product-orders", at.body, append(auth, "Idempotency-Key", key)...)
			if err != nil {
				return // the server is gone; this attempt stays unanswered
			}
			mu.Lock()
			at.status = r.Status
			if r.Status == 201 {
				var cr struct{ PrefilledOrderID string }
				_ = json.Unmarshal(r.Body, &cr)
				at.id = cr.PrefilledOrderID
			}
			mu.Unlock()
			if r.Status >= 500 {
				serverEr.Add(1)
			}
			if r.Status == 201 {
				s.ack()
			}
		}
	}, nil)

	mu.Lock()
	defer mu.Unlock()
	sort.Slice(attempts, func(i, j int) bool { return attempts[i].key < attempts[j].key })
	var ackedKeys, lost int
	for _, at := range attempts {
		switch {
		case at.status == 201:
			ackedKeys++
		case at.status == 0:
			lost++
		default:
			t.Errorf("prefill %s answered %d before the crash", at.key, at.status)
		}
	}
	if serverEr.Load() > 0 {
		t.Errorf("%d answers were 5xx before the crash", serverEr.Load())
	}

	// Restart on the same database. The signing key is stored there, so old tokens still work.
	p2 := startProc(t, bin, db)
	b := testserver.Client{T: t, URL: p2.URL, HTTP: newClient()}
	byName := map[string]*attempt{}
	for _, at := range attempts {
		byName[at.key] = at
		if at.status != 201 {
			continue
		}
		r := b.Do("GET", "/management/v2/product-orders/"+at.id+"/details", nil, auth...)
		if r.Status != 200 {
			t.Errorf("acknowledged prefill %s (%s) is gone after the crash: %d %s", at.key, at.id, r.Status, r.Body)
		}
	}

	// Every visible order of the stream is complete: all fields as sent.
	checkComplete := func() map[string]string {
		return streamOrders(t, b, func(key string) string {
			if at := byName[key]; at != nil {
				return at.body
			}
			return ""
		})
	}
	before := checkComplete()
	for _, at := range attempts {
		if at.status == 201 && before[at.key] != at.id {
			t.Errorf("acknowledged %s as %s, the store holds %q", at.key, at.id, before[at.key])
		}
	}

	// Retry every key: the acknowledged ones replay their order, the lost ones get theirs now,
	// made at most once whether or not the crash had stored it.
	for _, at := range attempts {
		r := b.Do("POST", "/management/v1/product-orders", at.body, append(auth, "Idempotency-Key", at.key)...)
		if r.Status != 201 {
			t.Errorf("retry of %s: %d %s", at.key, r.Status, r.Body)
			continue
		}
		var cr struct{ PrefilledOrderID string }
		r.JSON(t, &cr)
		if at.status == 201 && cr.PrefilledOrderID != at.id {
			t.Errorf("retry of acknowledged %s made %s, first %s", at.key, cr.PrefilledOrderID, at.id)
		}
		if id, stored := before[at.key]; stored && cr.PrefilledOrderID != id {
			t.Errorf("retry of %s made %s although the crash had stored %s", at.key, cr.PrefilledOrderID, id)
		}
		at.id = cr.PrefilledOrderID
	}
	after := checkComplete()
	if len(after) != len(attempts) {
		t.Errorf("%d orders after retrying %d distinct keys", len(after), len(attempts))
	}
	t.Logf("%d prefills sent by %d workers, %d acknowledged before SIGKILL, %d cut off (%d of those stored anyway), %d orders after retrying every key; RSS after restart %.0f MiB",
		len(attempts), workers, ackedKeys, lost, len(before)-ackedKeys, len(after), p2.rss())
}
