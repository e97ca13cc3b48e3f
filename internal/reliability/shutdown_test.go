package reliability

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestGracefulShutdown sends SIGTERM to a server process under load, while a request's body is
// still arriving. In-flight requests complete (the slow one too, its body finished after the
// signal), new connections are refused from the moment shutdown begins, the process exits 0
// within 10 s, and no request gets a 5xx.
func TestGracefulShutdown(t *testing.T) {
	bin := serverBinary(t)
	p := startProc(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "shutdown.db"))
	k := fixtures.DemoPartnerKeys
	auth := p.api(t).Classic(k)

	const workers = 6
	var (
		mu        sync.Mutex
		statuses  = map[int]int{}
		answered  []string // X-Request-Id of every answer
		refused   int
		otherErrs []string
		done      atomic.Int64
		sigAt     atomic.Int64 // unix nanos of SIGTERM
		afterSig  atomic.Int64 // answers received after SIGTERM
		wg        sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := testserver.Client{T: t, URL: p.URL, HTTP: newClient()}
			for i := 0; ; i++ {
				var r testserver.Reply
				var err error
				reused := false
				c.Trace = &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
				if i%2 == 0 {
					r, err = c.Send("GET", "/management/v1/sales-units", nil, auth...)
				} else {
					key := fmt.Sprintf("load-%d-%d", w, i)
					r, err = c.Send("POST", "/management/v1/product-orders", prefillBody("business:NO:ORG", "912345688", "CHECKOUT", key),
						append(auth, "Idempotency-Key", key)...)
				}
				mu.Lock()
				switch {
				case err == nil:
					statuses[r.Status]++
					answered = append(answered, r.Header.Get("X-Request-Id"))
					if sigAt.Load() != 0 {
						afterSig.Add(1)
					}
				case notAccepted(err, reused):
					refused++
				default:
					otherErrs = append(otherErrs, err.Error())
				}
				mu.Unlock()
				done.Add(1)
				if err != nil {
					return
				}
			}
		}(w)
	}
	for done.Load() < 100 {
		time.Sleep(5 * time.Millisecond)
	}

	// A prefill whose body is half sent when the signal arrives.
	slow, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	body := prefillBody("business:NO:ORG", "912345688", "CHECKOUT", "Slow Kiosk")
	fmt.Fprintf(slow, "POST /management/v1/product-orders HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nOcp-Apim-Subscription-Key: %s\r\n"+
		"Content-Type: application/json\r\nIdempotency-Key: slow-1\r\nContent-Length: %d\r\n\r\n%s",
		p.Addr, auth[3], k.SubscriptionKey, len(body), body[:len(body)/2])
	time.Sleep(100 * time.Millisecond)
	rss := p.rss()

	sig := time.Now()
	sigAt.Store(sig.UnixNano())
	p.signal(syscall.SIGTERM)

	// New connections are refused once the listener closes, while the slow request keeps the
	// process alive.
	var refusedAfter time.Duration
	for {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err != nil {
			if !notAccepted(err, false) {
				t.Fatalf("dial during shutdown: %v", err)
			}
			refusedAfter = time.Since(sig)
			break
		}
		c.Close()
		if time.Since(sig) > 2*time.Second {
			t.Fatal("new connections still accepted 2 s after SIGTERM")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := p.wait(0); err == nil {
		t.Fatal("the process exited before the slow request finished")
	}

	// The rest of the body, after the signal: the request completes.
	time.Sleep(200 * time.Millisecond)
	if _, err := io.WriteString(slow, body[len(body)/2:]); err != nil {
		t.Fatalf("finish the slow body: %v", err)
	}
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatalf("the slow request got no answer: %v", err)
	}
	slowBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("the slow request answered %d: %s", resp.StatusCode, slowBody)
	}

	code, err := p.wait(10*time.Second - time.Since(sig))
	exitAfter := time.Since(sig)
	if err != nil || code != 0 {
		t.Errorf("exit after SIGTERM: code %d, %v (after %v)\n%s", code, err, exitAfter, p.stderr.String())
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for status, n := range statuses {
		if status >= 500 {
			t.Errorf("%d answers with status %d", n, status)
		}
	}
	if len(otherErrs) > 0 {
		t.Errorf("%d requests failed other than by a refused connection: %q", len(otherErrs), otherErrs)
	}
	// The log is buffered; SIGTERM must still leave a line for every request answered, up to the
	// last ones, and the last line of all is the server's "stopped".
	answered = append(answered, resp.Header.Get("X-Request-Id"))
	logged := map[string]bool{}
	var last string
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		var rec struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Msg == "request" {
			logged[rec.RequestID] = true
		}
		last = rec.Msg
	}
	missing := 0
	for _, id := range answered {
		if id == "" || !logged[id] {
			missing++
		}
	}
	if missing > 0 || last != "stopped" {
		t.Errorf("%d of %d answered requests have no log line; last line %q", missing, len(answered), last)
	}
	t.Logf("%d requests from %d workers (statuses %v, %d answered after SIGTERM, %d refused after it); new connections refused %v after SIGTERM; slow request %d; exit code %d after %v; RSS under load %.0f MiB",
		done.Load(), workers, statuses, afterSig.Load(), refused, refusedAfter.Round(time.Millisecond), resp.StatusCode, code, exitAfter.Round(time.Millisecond), rss)
}

// notAccepted tells a new connection the server never accepted: refused once the listener is
// closed, or reset when it was still in the listen backlog at that moment. Neither carried a
// request the server had started on. A reset on a reused connection is not this: that
// connection had been accepted.
func notAccepted(err error, reused bool) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || (!reused && errors.Is(err, syscall.ECONNRESET))
}
