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
		a := api{t: t, base: first.URL}
		auth := append(a.classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "replay-"+backend)
		body := fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":"CHECKOUT"}`,
			fixtures.DemoMerchant.Scheme, fixtures.DemoMerchant.ID)

		created := a.do("POST", "/management/v1/product-orders", body, auth...)
		expect(t, created, 201, "application/json")
		if h := created.header.Get("Idempotent-Replayed"); h != "" {
			t.Errorf("first answer has Idempotent-Replayed %q", h)
		}
		var res struct{ PrefilledOrderID, PrefillURL string }
		created.json(t, &res)

		replay := func(t *testing.T, a api, auth []string) {
			t.Helper()
			r := a.do("POST", "/management/v1/product-orders", body, auth...)
			expect(t, r, 201, "application/json")
			if h := r.header.Get("Idempotent-Replayed"); h != "true" {
				t.Errorf("replay has Idempotent-Replayed %q, want true", h)
			}
			if !bytes.Equal(r.body, created.body) {
				t.Errorf("replay answered %s, first answer was %s", r.body, created.body)
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
			b := api{t: t, base: second.URL}
			replay(t, b, append(b.classic(fixtures.DemoPartnerKeys), "Idempotency-Key", "replay-"+backend))
		}

		// Deleted since: the replay is still the first answer, and says it is a replay; the
		// order itself stays gone.
		expect(t, a.do("DELETE", "/management/v1/product-orders/"+res.PrefilledOrderID, nil, auth...), 200, "")
		replay(t, a, auth)
		expect(t, a.do("GET", "/management/v2/product-orders/"+res.PrefilledOrderID+"/details", nil, auth...), 404, jsonUTF8)

		// The same key with another body is still a conflict, never a replay.
		other := a.do("POST", "/management/v1/product-orders", bytes.Replace([]byte(body), []byte("CHECKOUT"), []byte("LOGIN"), 1), auth...)
		expect(t, other, 409, "application/problem+json")
		if h := other.header.Get("Idempotent-Replayed"); h != "" {
			t.Errorf("conflict has Idempotent-Replayed %q", h)
		}
		var p map[string]any
		if err := json.Unmarshal(other.body, &p); err != nil || p["status"] != float64(409) {
			t.Errorf("conflict body %s", other.body)
		}
	})
}
