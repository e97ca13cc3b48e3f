package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/cputime"
	"github.com/vippsmgmt/vippsmgmt/internal/logsink"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// benchServer seeds units on a fresh SQLite file and assembles the whole server in this process,
// logging JSON through a buffered sink as `vippsmgmt serve --log-format json` does (to nowhere). It returns the handler
// and the headers of an authenticated classic-flow partner call.
func benchServer(b *testing.B, units int) (http.Handler, http.Header, *Seeded) {
	b.Helper()
	dsn := "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
	seed, err := Seed(context.Background(), dsn, "bench-partner", units)
	if err != nil {
		b.Fatal(err)
	}
	sink, err := logsink.New(io.Discard, "json")
	if err != nil {
		b.Fatal(err)
	}
	srv := testserver.Start(b, "sqlite", testserver.Options{DSN: dsn, NoDemo: true, TokenRate: 1e6, TokenBurst: 1e6,
		Logger: sink.Logger(), Lines: sink})
	h := srv.App.Handler()
	req := httptest.NewRequest(http.MethodPost, "/accesstoken/get", nil)
	req.Header.Set("client_id", seed.Keys.ClientID)
	req.Header.Set("client_secret", seed.Keys.ClientSecret)
	req.Header.Set("Ocp-Apim-Subscription-Key", seed.Keys.SubscriptionKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || rec.Code != http.StatusOK {
		b.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	return h, authHeader(tok.AccessToken, seed.Keys), seed
}

// BenchmarkGetMsn is GET /management/v1/sales-units/{msn} with a classic token through the whole
// handler chain (request id, log line, metrics, authentication, validation, SQLite read, JSON).
func BenchmarkGetMsn(b *testing.B) {
	h, hdr, seed := benchServer(b, 1000)
	req := httptest.NewRequest(http.MethodGet, "/management/v1/sales-units/"+seed.FirstMSN, nil)
	req.Header = hdr
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkGetMsnBare serves the bytes BenchmarkGetMsn answers from a bare handler: the floor.
func BenchmarkGetMsnBare(b *testing.B) {
	h, hdr, seed := benchServer(b, 10)
	req := httptest.NewRequest(http.MethodGet, "/management/v1/sales-units/"+seed.FirstMSN, nil)
	req.Header = hdr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	bare := BareHandler(rec.Header().Get("Content-Type"), rec.Body.Bytes())
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		bare.ServeHTTP(rec, req)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark measures the server's
// memory, not a recorder's copy of 4 MB.
type discardWriter struct {
	h      http.Header
	n      int64
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
func (w *discardWriter) Flush()                      {}

// BenchmarkListSalesUnits100k streams the list of a partner with 100,000 sales units.
func BenchmarkListSalesUnits100k(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 100,000 sales units")
	}
	h, hdr, _ := benchServer(b, 100000)
	benchList(b, h, hdr, "/management/v1/sales-units")
}

// benchList streams the answer to GET path through the handler, counting its bytes, once per iteration.
func benchList(b *testing.B, h http.Handler, hdr http.Header, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header = hdr
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		b.SetBytes(w.n)
	}
}

// BenchmarkListProductOrders2k is GET /management/v2/product-orders for a partner with 2,000
// prefilled orders, the state a soak reaches after about a minute.
func BenchmarkListProductOrders2k(b *testing.B) {
	h, hdr, _ := benchServer(b, 10)
	for i := range 2000 {
		req := httptest.NewRequest(http.MethodPost, "/management/v1/product-orders", bytes.NewReader(prefillBody))
		req.Header = hdr.Clone()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("prefill: %d %s", rec.Code, rec.Body)
		}
	}
	benchList(b, h, hdr, "/management/v2/product-orders")
}

// BenchmarkPrefill is POST /management/v1/product-orders through the whole handler chain on a
// SQLite file: "stored" creates an order per request, "replayed" repeats one key and body (the
// answer comes from the idempotency key, nothing is inserted), "refused" breaks a domain rule
// (website.url is not https) and is answered 400 before the store writes. Besides allocs/op it
// reports the process's CPU time per prefill (user + system, every goroutine), which unlike
// ns/op does not depend on how busy the machine's other cores are.
func BenchmarkPrefill(b *testing.B) {
	h, hdr, _ := benchServer(b, 10)
	refused := bytes.Replace(prefillBody, []byte(`"https://shop.example.com"`), []byte(`"http://shop.example.com"`), 1)
	for _, bc := range []struct {
		name   string
		body   []byte
		key    func(i int) string
		status int
	}{
		{"stored", prefillBody, func(i int) string { return fmt.Sprintf("bench-stored-%d", i) }, http.StatusCreated},
		{"replayed", prefillBody, func(int) string { return "bench-replayed" }, http.StatusCreated},
		{"refused", refused, func(i int) string { return fmt.Sprintf("bench-refused-%d", i) }, http.StatusBadRequest},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hdr := hdr.Clone()
			hdr.Set("Content-Type", "application/json")
			b.ReportAllocs()
			var cpu time.Duration
			for i := 0; b.Loop(); i++ {
				if i == 0 {
					cpu = -cputime.Process()
				}
				req := httptest.NewRequest(http.MethodPost, "/management/v1/product-orders", bytes.NewReader(bc.body))
				req.Header = hdr.Clone()
				req.Header.Set("Idempotency-Key", bc.key(i))
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, req)
				if st := w.status; st != bc.status {
					b.Fatalf("status %d, want %d", st, bc.status)
				}
			}
			cpu += cputime.Process()
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
