package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
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
	// The budget is spent: guesses wait, and say how long.
	w := call(attacker, "guess")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("after the burst: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// The right token is never refused because of someone else's guesses, from the same address
	// (an office behind one NAT) or another.
	for _, addr := range []string{attacker, operator} {
		if w := call(addr, "the-admin-token"); w.Code != http.StatusNoContent {
			t.Fatalf("right token from %s after the guesses: %d %s", addr, w.Code, w.Body)
		}
	}
	// One more guess is allowed once the bucket refills, and only one.
	now = now.Add(adminGuessEvery)
	if w := call(attacker, "guess"); w.Code != http.StatusUnauthorized {
		t.Fatalf("after waiting: %d, want 401", w.Code)
	}
	if w := call(attacker, "guess"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right after the refilled guess: %d, want 429", w.Code)
	}
	// An empty admin token refuses everything.
	empty := NewAdminGuard("").Middleware(http.NotFoundHandler())
	r := httptest.NewRequest("GET", "/admin/v1/partners", nil)
	r.Header.Set("Authorization", "Bearer ")
	w = httptest.NewRecorder()
	empty.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("empty token: %d", w.Code)
	}
}

// TestAdminGuardRefusesTwoAuthorizations: with the admin token in one of two Authorization
// headers, which one counts would be a guess; the operator API refuses the request.
func TestAdminGuardRefusesTwoAuthorizations(t *testing.T) {
	h := NewAdminGuard("the-admin-token").Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	r := httptest.NewRequest("GET", "/admin/v1/partners", nil)
	r.Header.Add("Authorization", "Bearer the-admin-token")
	r.Header.Add("Authorization", "Bearer other")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "more than once") {
		t.Errorf("got %d %s, want 401 naming the repeated header", w.Code, w.Body)
	}
}

// TestRemoteKey: IPv6 addresses of one /64 share a throttle bucket; IPv4 addresses each have one.
func TestRemoteKey(t *testing.T) {
	key := func(addr string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		return remoteKey(r)
	}
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"[2001:db8:1:2::1]:4000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:5000", true},
		{"[2001:db8:1:2::1]:4000", "[2001:db8:1:3::1]:4000", false},
		{"[fe80::1%eth0]:4000", "[fe80::2%eth1]:4000", true},
		{"[::ffff:192.0.2.1]:4000", "[::ffff:192.0.2.2]:4000", false},
		{"192.0.2.1:4000", "192.0.2.1:5000", true},
		{"192.0.2.1:4000", "192.0.2.2:4000", false},
		{"not an address", "not an address", true},
	} {
		if got := key(tt.a) == key(tt.b); got != tt.same {
			t.Errorf("%s and %s share a bucket: got %v (%s, %s), want %v", tt.a, tt.b, got, key(tt.a), key(tt.b), tt.same)
		}
	}
}
