package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// Wrong admin tokens a remote address may try: a burst, then one every few seconds. The operator
// mistyping is not slowed; guessing is, whatever the token's strength.
const (
	adminGuessBurst = 50
	adminGuessEvery = time.Second
)

// MinAdminTokenLength is the shortest admin token a server outside sandbox mode accepts. The
// correct token is never refused, also not from an address that sent wrong ones (that address
// may be the operator's office), so the throttle bounds the cost of wrong guesses while the
// token's length is what makes guessing hopeless.
const MinAdminTokenLength = 24

// AdminGuard checks the operator's admin token (SHA-256 digests compared in constant time) and
// throttles wrong guesses per remote address. The operator API and the console sign-in share one,
// so guesses against either count together. It runs on real time: moving the sandbox clock must
// not refill anyone's guesses.
type AdminGuard struct {
	want     [32]byte
	disabled bool
	failures *limiterSet
	now      func() time.Time
}

// NewAdminGuard returns a guard for token; an empty token refuses everything.
func NewAdminGuard(token string) *AdminGuard {
	return &AdminGuard{
		want: sha256.Sum256([]byte(token)), disabled: token == "",
		failures: newLimiterSet(rate.Every(adminGuessEvery), adminGuessBurst), now: time.Now,
	}
}

// Check reports whether token is the admin token. The correct token always passes; a wrong one
// from an address that has used up its wrong guesses is refused with the wait until the next.
func (g *AdminGuard) Check(r *http.Request, token string) (ok bool, retryAfter time.Duration) {
	got := sha256.Sum256([]byte(token))
	if !g.disabled && subtle.ConstantTimeCompare(got[:], g.want[:]) == 1 {
		return true, 0
	}
	key := remoteKey(r)
	now := g.now()
	if blocked, wait := g.failures.blocked(key, now); blocked {
		return false, wait
	}
	g.failures.allow(key, now)
	return false, 0
}

// Middleware lets requests with `Authorization: Bearer <admin token>` through; others get a 401
// problem, or 429 with Retry-After once their address has used up its wrong guesses.
func (g *AdminGuard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, err := singleHeader(r.Header, "Authorization")
		if err != nil {
			writeUnauthorized(w, r, err.Error())
			return
		}
		tok, err := bearerToken(auth)
		if err != nil {
			writeUnauthorized(w, r, err.Error())
			return
		}
		ok, wait := g.Check(r, tok)
		switch {
		case wait > 0:
			writeTooManyGuesses(w, r, wait)
		case !ok:
			writeUnauthorized(w, r, "The admin token is not valid.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// RequireAdmin is NewAdminGuard(adminToken).Middleware.
func RequireAdmin(adminToken string) func(http.Handler) http.Handler {
	return NewAdminGuard(adminToken).Middleware
}

// remoteKey names the throttle bucket of the request's remote address. An IPv6 address counts by
// its /64 prefix, the block one host or site is given: otherwise a single machine could take a
// fresh budget of wrong guesses from each of its 2^64 addresses.
func remoteKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
		return "addr:" + netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return "addr:" + host
}

// blocked reports, without taking a token, whether key's bucket is empty at now.
func (s *limiterSet) blocked(key string, now time.Time) (bool, time.Duration) {
	s.mu.Lock()
	el, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return false, 0
	}
	lim := el.Value.(*limiterEntry).lim
	if lim.TokensAt(now) >= 1 {
		return false, 0
	}
	r := lim.ReserveN(now, 1)
	defer r.CancelAt(now)
	return true, max(r.DelayFrom(now), time.Second)
}

func writeTooManyGuesses(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	problem.Write(w, problem.New(r.Context(), http.StatusTooManyRequests, "too-many-requests", "Too many requests",
		"Too many wrong admin tokens from this address; try again after "+retryAfterSeconds(wait)+" s."))
}
