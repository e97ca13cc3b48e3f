package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestIdempotentReplays: a repeated prefill (same Idempotency-Key, same body) answers the first
// answer again, byte for byte, marked Idempotent-Replayed: true; also after the order was deleted,
// and also from a second process on the same database whose public URL differs.
func TestIdempotentReplays(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, backend string, first *testserver.Server) {
		a := first.Client(t)
		auth := append(a.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "replay-"+backend)
		body := fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":"CHECKOUT"}`,
			fixtures.DemoMerchant.Scheme, fixtures.DemoMerchant.ID)

		created := a.Do("POST", "/management/v1/product-orders", body, auth...)
		created.Expect(t, 201, "application/json")
		if h := created.Header.Get("Idempotent-Replayed"); h != "" {
			t.Errorf("first answer has Idempotent-Replayed %q", h)
		}
		var res struct{ PrefilledOrderID, PrefillURL string }
		created.JSON(t, &res)

		replay := func(t *testing.T, a testserver.Client, auth []string) {
			t.Helper()
			r := a.Do("POST", "/management/v1/product-orders", body, auth...)
			r.Expect(t, 201, "application/json")
			if h := r.Header.Get("Idempotent-Replayed"); h != "true" {
				t.Errorf("replay has Idempotent-Replayed %q, want true", h)
			}
			if !bytes.Equal(r.Body, created.Body) {
				t.Errorf("replay answered %s, first answer was %s", r.Body, created.Body)
			}
		}
		replay(t, a, auth)

		// Another process on the same database, with its own public URL (only PostgreSQL
		// databases are shared by processes).
		if backend == "postgres" {
			second := testserver.Start(t, backend, testserver.Options{DSN: first.DSN})
			if second.URL == first.URL {
				t.Fatal("both processes have one URL")
			}
			b := second.Client(t)
			replay(t, b, append(b.Classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "replay-"+backend))
		}

		// Deleted since: the replay is still the first answer, and says it is a replay; the
		// order itself stays gone.
		a.Do("DELETE", "/management/v1/product-orders/"+res.PrefilledOrderID, nil, auth...).Expect(t, 200, "")
		replay(t, a, auth)
		a.Do("GET", "/management/v2/product-orders/"+res.PrefilledOrderID+"/details", nil, auth...).Expect(t, 404, jsonUTF8)

		// The same key with another body is still a conflict, never a replay.
		other := a.Do("POST", "/management/v1/product-orders", bytes.Replace([]byte(body), []byte("CHECKOUT"), []byte("LOGIN"), 1), auth...)
		other.Expect(t, 409, "application/problem+json")
		if h := other.Header.Get("Idempotent-Replayed"); h != "" {
			t.Errorf("conflict has Idempotent-Replayed %q", h)
		}
		var p map[string]any
		if err := json.Unmarshal(other.Body, &p); err != nil || p["status"] != float64(409) {
			t.Errorf("conflict body %s", other.Body)
		}
	})
}
