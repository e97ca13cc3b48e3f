package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable now().
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRefreshMargin(t *testing.T) {
	for _, tc := range []struct{ lifetime, want time.Duration }{
		{24 * time.Hour, 144 * time.Minute}, // 10 %
		{time.Hour, 6 * time.Minute},
		{15 * time.Minute, 90 * time.Second},
		{5 * time.Minute, time.Minute},  // at least a minute
		{time.Minute, 30 * time.Second}, // at most half
	} {
		if got := refreshMargin(tc.lifetime); got != tc.want {
			t.Errorf("refreshMargin(%v) = %v, want %v", tc.lifetime, got, tc.want)
		}
	}
}

func TestTokenCacheRefreshesAhead(t *testing.T) {
	clk := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var fetches atomic.Int32
	release := make(chan struct{}, 10)
	tc := newTokenCache(func(ctx context.Context) (Token, error) {
		n := fetches.Add(1)
		if n > 1 {
			<-release // hold background refreshes until the test lets them finish
		}
		return Token{AccessToken: fmt.Sprint("t", n), ExpiresIn: 15 * time.Minute, ExpiresAt: clk.now().Add(15 * time.Minute)}, nil
	}, clk.now)
	ctx := context.Background()

	tok, err := tc.get(ctx)
	if err != nil || tok.AccessToken != "t1" {
		t.Fatalf("first get = %v, %v; want t1", tok.AccessToken, err)
	}
	clk.add(13 * time.Minute) // 2 min left, more than the 90 s margin
	if tok, _ = tc.get(ctx); tok.AccessToken != "t1" || fetches.Load() != 1 {
		t.Fatalf("with 2 min left: got %s after %d fetches, want t1 after 1", tok.AccessToken, fetches.Load())
	}
	clk.add(time.Minute) // 1 min left: inside the margin, still usable
	if tok, _ = tc.get(ctx); tok.AccessToken != "t1" {
		t.Fatalf("inside the margin: got %s, want the old token while the refresh runs", tok.AccessToken)
	}
	if tok, _ = tc.get(ctx); tok.AccessToken != "t1" {
		t.Fatalf("second get inside the margin: got %s", tok.AccessToken)
	}
	release <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tok, _ = tc.get(ctx)
		if tok.AccessToken == "t2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background refresh never replaced the token")
		}
		time.Sleep(time.Millisecond)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2 (one background refresh for several gets)", n)
	}

	// An expired token is never handed out: callers wait for the new one.
	clk.add(time.Hour)
	release <- struct{}{}
	if tok, _ = tc.get(ctx); tok.AccessToken != "t3" {
		t.Errorf("after expiry got %s, want t3", tok.AccessToken)
	}
}

func TestTokenCacheSingleFlightAndErrors(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	var fetches atomic.Int32
	gate := make(chan struct{})
	fail := errors.New("boom")
	var failing atomic.Bool
	failing.Store(true)
	tc := newTokenCache(func(ctx context.Context) (Token, error) {
		fetches.Add(1)
		<-gate
		if failing.Load() {
			return Token{}, fail
		}
		return Token{AccessToken: "ok", ExpiresIn: time.Hour, ExpiresAt: clk.now().Add(time.Hour)}, nil
	}, clk.now)

	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Go(func() { _, errs[i] = tc.get(context.Background()) })
	}
	time.Sleep(20 * time.Millisecond)
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, fail) {
			t.Fatalf("caller %d: err = %v, want the fetch error", i, err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	// A failed fetch is not cached: the next call tries again.
	failing.Store(false)
	if tok, err := tc.get(context.Background()); err != nil || tok.AccessToken != "ok" {
		t.Fatalf("after failure: %v, %v", tok, err)
	}
	// drop only forgets the token it names.
	tc.drop("other")
	if tok, _ := tc.get(context.Background()); tok.AccessToken != "ok" || fetches.Load() != 2 {
		t.Fatalf("drop of another token refetched")
	}
	tc.drop("ok")
	if _, _ = tc.get(context.Background()); fetches.Load() != 3 {
		t.Fatalf("drop did not force a fetch")
	}
}

func TestTokenCacheWaiterHonoursContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	tc := newTokenCache(func(ctx context.Context) (Token, error) {
		<-block
		return Token{}, errors.New("late")
	}, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := tc.get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 300 * time.Millisecond, 10: 300 * time.Millisecond} {
		for range 20 {
			if got := p.backoff(n); got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, got, want/2, want)
			}
		}
	}
}

// TestSecondsOutOfRange: an expires_in past what a time.Duration holds is the longest lifetime
// one can, not a lifetime that wraps round; one that is not a number is refused.
func TestSecondsOutOfRange(t *testing.T) {
	for _, in := range []string{`1e12`, `"99999999999999999999"`, `9.3e18`, `1e400`, `"Inf"`} {
		var s seconds
		if err := s.UnmarshalJSON([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if d := time.Duration(s) * time.Second; d <= 0 || d/time.Second != time.Duration(s) {
			t.Errorf("%s: %d seconds overflow a Duration (%v)", in, s, d)
		}
	}
	for _, in := range []string{`"NaN"`, `"ninety"`} {
		var s seconds
		if err := s.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s: accepted as %d seconds", in, s)
		}
	}
}
