package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestServeRefusesBadConfiguration checks that start-up stops with one line naming the problem
// and exit status 2.
func TestServeRefusesBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	badFixture := filepath.Join(dir, "partners.yaml")
	if err := os.WriteFile(badFixture, []byte("partners:\n  - partnerId: p1\n    name: P One\n    colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "db")
	shortKey := filepath.Join(dir, "short.key")
	if err := os.WriteFile(shortKey, []byte("c2hvcnQ="), 0o600); err != nil {
		t.Fatal(err)
	}
	bigKey := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(bigKey, bytes.Repeat([]byte("-"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string // regexp the error line must match
	}{
		{"unknown flag", []string{"--colour", "blue"}, nil, `flag provided but not defined: -colour`},
		{"bad log format", []string{"--log-format", "xml"}, nil, `--log-format "xml"`},
		{"bad boolean in env", nil, map[string]string{"VIPPSMGMT_DEMO": "maybe"}, `VIPPSMGMT_DEMO="maybe"`},
		{"bad report switch", nil, map[string]string{"VIPPSMGMT_REPORT": "sometimes"}, `VIPPSMGMT_REPORT="sometimes"`},
		{"bad duration", []string{"--token-ttl", "soon"}, nil, `token-ttl`},
		{"rate not a number", []string{"--db", db}, map[string]string{"VIPPSMGMT_TOKEN_RATE": "NaN"}, `--token-rate`},
		{"bad public url", []string{"--public-url", "ftp://x"}, nil, `--public-url "ftp://x"`},
		{"public url with a query", []string{"--public-url", "https://sandbox.example/?src=team"}, nil, `^vippsmgmt: --public-url "https://sandbox.example/\?src=team": .*query`},
		{"public url with a fragment", []string{"--public-url", "https://sandbox.example/#top"}, nil, `^vippsmgmt: --public-url "https://sandbox.example/#top": .*fragment`},
		{"public url with a password", []string{"--public-url", "https://team:hunter2@sandbox.example"}, nil, `^vippsmgmt: --public-url: .*user`},
		{"smtp url of another scheme", []string{"--smtp-url", "http://mailer:hunter2@mail.example:25"}, nil, `^vippsmgmt: --smtp-url or --smtp-from: smtp url must be smtp://.*got scheme "http"$`},
		{"smtp url that does not parse", []string{"--smtp-url", "smtp://mailer:hunter2%zz@mail.example:25"}, nil, `^vippsmgmt: --smtp-url or --smtp-from: smtp url: `},
		{"bad smtp sender", []string{"--smtp-url", "smtp://mail.example:25", "--smtp-from", "not an address"}, nil, `--smtp-from: from address "not an address"`},
		{"unknown database", []string{"--db", "mysql://localhost/x"}, nil, `^vippsmgmt: --db: .*mysql`},
		{"unreachable postgres", []string{"--db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, nil, `^vippsmgmt: --db: sqlstore: cannot reach PostgreSQL`},
		{"fixture error", []string{"--db", db, "--demo=false", "--fixtures", badFixture}, nil, `partners.yaml:4: partners\[0\]\.colour: `},
		{"missing fixture file", []string{"--db", db, "--fixtures", filepath.Join(dir, "none.yaml")}, nil, `none.yaml`},
		{"no secret key outside the sandbox", []string{"--db", db, "--sandbox=false", "--admin-token", strings.Repeat("t", 32)}, nil, `^vippsmgmt: --secret-key-file: is required with --sandbox=false`},
		{"short secret key", []string{"--db", db}, map[string]string{"VIPPSMGMT_SECRET_KEY_FILE": shortKey}, `^vippsmgmt: --secret-key-file: must hold 32 random bytes`},
		{"signing key file too large", []string{"--db", db, "--signing-key", bigKey}, nil, `^vippsmgmt: --signing-key: .*big.pem holds more than 65536 bytes`},
		{"addr in use", []string{"--db", db, "--addr", "256.0.0.1:99999"}, nil, `--addr: `},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			// Every case listens on a free port (a later --addr wins), so a server running on
			// the default :8080 does not change the outcome.
			args := append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)
			err := run(ctx, args, envOf(c.env), &stdout, &stderr)
			var line bytes.Buffer
			code := exitCode(err, &line)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (err %v)", code, err)
			}
			msg := strings.TrimSuffix(line.String(), "\n")
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if !regexp.MustCompile(c.want).MatchString(msg) {
				t.Errorf("error %q does not match %q", msg, c.want)
			}
			if out := msg + stdout.String() + stderr.String(); strings.Contains(out, "hunter2") {
				t.Errorf("the SMTP password reached the output: %q", out)
			}
		})
	}
}

// TestServeStartsAndStops starts the real command on a free port, checks readiness and the banner,
// and stops it by cancelling its context as SIGTERM does.
func TestServeStartsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	db := "sqlite:" + filepath.Join(t.TempDir(), "db")
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--shutdown-timeout", "1s"},
			envOf(map[string]string{"VIPPSMGMT_DB": db}), &stdout, &stderr)
	}()
	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(15 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no banner; stdout %q stderr %q", stdout.String(), stderr.String())
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("readyz %d %s", resp.StatusCode, body)
	}
	// The container's HEALTHCHECK: by default /readyz on VIPPSMGMT_ADDR, or any --url.
	var hcOut, hcErr bytes.Buffer
	addr := strings.TrimPrefix(base, "http://")
	if err := run(ctx, []string{"healthcheck"}, envOf(map[string]string{"VIPPSMGMT_ADDR": addr}), &hcOut, &hcErr); err != nil {
		t.Errorf("healthcheck: %v %s", err, hcErr.String())
	} else if want := base + "/readyz: 200 OK\n"; hcOut.String() != want {
		t.Errorf("healthcheck printed %q, want %q", hcOut.String(), want)
	}
	hcOut.Reset()
	err = run(ctx, []string{"healthcheck", "--url", base + "/no-such-path"}, envOf(nil), &hcOut, &hcErr)
	if code := exitCode(err, io.Discard); code != 1 || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("healthcheck of a 404: exit %d, %v", code, err)
	}

	out := stdout.String()
	for _, want := range []string{"admin token (shown once)", "Demo data loaded", "curl -X POST '" + base + "/accesstoken/get'"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}

	// A client that stalls half-way through its body does not keep the server from stopping:
	// past --shutdown-timeout its connection is closed and serve still returns cleanly. The
	// request asks for 100 Continue, which the server sends once a handler reads the body: from
	// then on the request is in flight, so the stop below cannot come before the server has it.
	token := regexp.MustCompile(`admin token \(shown once\): (\S+)`).FindStringSubmatch(out)
	if token == nil {
		t.Fatalf("no admin token in the banner:\n%s", out)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /admin/v1/partners HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n", token[1])
	if err := conn.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if status, err := bufio.NewReader(conn).ReadString('\n'); status != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("stalled request: got %q (%v), want 100 Continue", status, err)
	}
	fmt.Fprintf(conn, `{"partnerId`)

	stopped := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
		if d := time.Since(stopped); d > 5*time.Second {
			t.Errorf("serve took %v to stop", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "closing remaining connections") {
		t.Errorf("no warning about the stalled connection in the log:\n%s", stderr.String())
	}
}

// startServe runs `vippsmgmt serve` on a free loopback port and the database db until ctx ends;
// done receives what run returned.
func startServe(ctx context.Context, db string) (stdout *syncbuf.Buffer, done <-chan error) {
	stdout = &syncbuf.Buffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, envOf(nil), stdout, io.Discard)
	}()
	return stdout, errc
}

// waitForOutput waits up to 15 s until out holds want, which a starting server prints.
func waitForOutput(out *syncbuf.Buffer, want string) {
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeRepeatsDemoCredentials: a restart on the same database prints the demo credentials
// again (they still work), saying the data was already there.
func TestServeRepeatsDemoCredentials(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "db")
	for _, want := range []string{"Demo data loaded. Credentials:", "Demo data present. Credentials:"} {
		ctx, cancel := context.WithCancel(context.Background())
		stdout, done := startServe(ctx, db)
		waitForOutput(stdout, "Credentials:")
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v", err)
		}
		if out := stdout.String(); !strings.Contains(out, want) || !strings.Contains(out, fixtures.DemoPartnerKeys.ClientSecret) {
			t.Fatalf("banner lacks %q and the demo secret:\n%s", want, out)
		}
	}
}

// TestServeRefusesASecondProcessOnOneSQLiteFile: while one server owns an SQLite file, a second
// refuses to start with one line naming the owner; once the first stops, the file is free again.
func TestServeRefusesASecondProcessOnOneSQLiteFile(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, done := startServe(ctx, db)
	waitForOutput(stdout, "listening")
	var out2, err2 syncbuf.Buffer
	// Bounded, so that a second server that does start stops by itself and fails the test.
	ctxSecond, cancelSecond := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelSecond()
	err := run(ctxSecond, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, envOf(nil), &out2, &err2)
	want := fmt.Sprintf("is in use by vippsmgmt process %d (since ", os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("second serve on one SQLite file: %v, want one line with %q", err, want)
	}
	if code := exitCode(err, io.Discard); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first serve: %v", err)
	}
	// The first has stopped: the file is free.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out3, err3 syncbuf.Buffer
	go func() {
		waitForOutput(&out3, "listening")
		cancel2()
	}()
	if err := run(ctx2, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, envOf(nil), &out3, &err3); err != nil {
		t.Fatalf("serve after the owner stopped: %v", err)
	}
}

// TestRedactDSN: the database shown in the banner and the serving log line keeps no password,
// whether it is in the URL's user part or in a password parameter, which PostgreSQL URLs take too.
func TestRedactDSN(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"sqlite:/data/vippsmgmt.db", "sqlite:/data/vippsmgmt.db"},
		{"postgres://app@db.example/sandbox", "postgres://app@db.example/sandbox"},
		{"postgres://app:hunter2@db.example/sandbox?sslmode=require", "postgres://app:xxxxx@db.example/sandbox?sslmode=require"},
		{"postgres://app@db.example/sandbox?password=hunter2&sslmode=require", "postgres://app@db.example/sandbox?password=xxxxx&sslmode=require"},
		{"postgres://db.example/sandbox?user=app&sslpassword=hunter2", "postgres://db.example/sandbox?sslpassword=xxxxx&user=app"},
	} {
		if got := redactDSN(c.dsn); got != c.want {
			t.Errorf("redactDSN(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
}
