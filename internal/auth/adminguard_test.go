package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestAdminGuardThrottlesWrongGuessesPerAddress(t *testing.T) {
	g := NewAdminGuard("the-admin-token")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return now }
	h := g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	call := func(addr, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/admin/v1/partners", nil)
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const attacker, operator = "203.0.113.9:4000", "198.51.100.7:5000"
	for i := range adminGuessBurst {
		if w := call(attacker, "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, w.Code)
		}
	}
	// The budget is spent: even the right token waits, and says how long.
	for _, tok := range []string{"guess", "the-admin-token"} {
		w := call(attacker, tok)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("after the burst (%s): %d %q %s", tok, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
	// Another address is not affected.
	if w := call(operator, "the-admin-token"); w.Code != http.StatusNoContent {
		t.Fatalf("operator from another address: %d", w.Code)
	}
	// One more guess is allowed once the bucket refills.
	now = now.Add(adminGuessEvery)
	if w := call(attacker, "guess"); w.Code != http.StatusUnauthorized {
		t.Fatalf("after waiting: %d, want 401", w.Code)
	}
	if w := call(attacker, "the-admin-token"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right after the refilled guess: %d, want 429", w.Code)
	}
	now = now.Add(adminGuessEvery)
	if w := call(attacker, "the-admin-token"); w.Code != http.StatusNoContent {
		t.Fatalf("right token after waiting: %d", w.Code)
	}
	// An empty admin token refuses everything.
	empty := NewAdminGuard("").Middleware(http.NotFoundHandler())
	r := httptest.NewRequest("GET", "/admin/v1/partners", nil)
	r.Header.Set("Authorization", "Bearer ")
	w := httptest.NewRecorder()
	empty.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("empty token: %d", w.Code)
	}
}
