package reliability

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestIdempotencyConcurrent fires 50 prefills with one Idempotency-Key at once, split across the
// servers of each setup: one SQLite server, two servers in this process on one PostgreSQL, and
// two `vippsmgmt serve` processes on one PostgreSQL. Exactly one order is created; every 201
// carries the same body; a racing request may only get a 409 problem instead.
func TestIdempotencyConcurrent(t *testing.T) {
	t.Run("sqlite/one server", func(t *testing.T) {
		srv := testserver.Start(t, "sqlite", testserver.Options{})
		a := srv.Client(t)
		raceOneKey(t, []string{srv.URL}, a.Classic(fixtures.DemoPartnerKeys), testserver.AdminHeaders(testserver.AdminToken))
	})
	t.Run("postgres/two servers in process", func(t *testing.T) {
		first := testserver.Start(t, "postgres", testserver.Options{})
		second := testserver.Start(t, "postgres", testserver.Options{DSN: first.DSN})
		a := first.Client(t)
		raceOneKey(t, []string{first.URL, second.URL}, a.Classic(fixtures.DemoPartnerKeys), testserver.AdminHeaders(testserver.AdminToken))
	})
	t.Run("postgres/two processes", func(t *testing.T) {
		bin := serverBinary(t)
		dsn := pgtest.DSN(t)
		// One public URL, as behind a load balancer: the bodies must then be byte for byte equal.
		first := startProc(t, bin, dsn, "--public-url", "http://vippsmgmt.test")
		second := startProc(t, bin, dsn, "--public-url", "http://vippsmgmt.test")
		raceOneKey(t, []string{first.URL, second.URL}, first.api(t).Classic(fixtures.DemoPartnerKeys), procAdmin())
	})
}

// maskServers replaces the address of each of the servers in body with one public address.
func maskServers(body []byte, urls []string) []byte {
	for _, u := range urls {
		body = bytes.ReplaceAll(body, []byte(u), []byte("http://public"))
	}
	return body
}

func raceOneKey(t *testing.T, urls []string, auth, admin []string) {
	const n = 50
	key := "race-key-1"
	body := prefillBody("business:NO:ORG", "912345688", "CHECKOUT", "Race Kiosk")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created [][]byte
		counts  = map[int]int{}
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := testserver.Client{T: t, URL: urls[i%len(urls)], HTTP: newClient()}
			<-start
			r, err := c.Send("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", key)...)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			counts[r.Status]++
			switch r.Status {
			case 201:
				// In-process test servers each link to their own address, and a replay answers the
				// first answer's bytes, from whichever server made it: mask every server's address.
				created = append(created, maskServers(r.Body, urls))
			case 409:
				if r.Header.Get("Content-Type") != problemJSON {
					t.Errorf("409 is not a problem: %s", r.Body)
				}
			default:
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if len(created) == 0 {
		t.Fatalf("no 201 among %v", counts)
	}
	for _, b := range created[1:] {
		if !bytes.Equal(b, created[0]) {
			t.Errorf("201 bodies differ:\n%s\n%s", b, created[0])
		}
	}
	// A retry after the race replays the same answer, on every server.
	for _, u := range urls {
		r := (testserver.Client{T: t, URL: u}).Do("POST", "/management/v1/product-orders", body, append(auth, "Idempotency-Key", key)...)
		r.Expect(t, 201, "application/json")
		if !bytes.Equal(maskServers(r.Body, urls), created[0]) {
			t.Errorf("retry on %s: %s, want %s", u, r.Body, created[0])
		}
	}
	a := testserver.Client{T: t, URL: urls[0]}
	r := a.Do("GET", "/admin/v1/product-orders?limit=1000&partnerId="+fixtures.DemoPartnerID, nil, admin...)
	r.Expect(t, 200, "")
	var orders []adminOrder
	r.JSON(t, &orders)
	made := 0
	for _, o := range orders {
		if o.Details["salesUnitName"] == "Race Kiosk" {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d orders made by %d requests with one key", made, n)
	}
	t.Logf("%d requests with one key over %d server(s): statuses %v, %d order(s) made", n, len(urls), fmt.Sprint(counts), made)
}
