// Package pgtest gives tests a fresh, empty PostgreSQL database each.
//
// With VIPPSMGMT_TEST_POSTGRES set to a postgres:// URL of a server, every DSN call creates a new
// database there. Otherwise the first call starts one throwaway cluster for the test binary from
// the local PostgreSQL binaries ($PG_BIN, pg_ctl on PATH, or the newest /usr/lib/postgresql/*/bin);
// call Main from TestMain so the cluster is stopped and removed afterwards. When PostgreSQL is not
// available the test is skipped, or fails when CI=true.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
)

// EnvServer names the variable holding the URL of an existing server to create databases on.
const EnvServer = "VIPPSMGMT_TEST_POSTGRES"

// Bounds on the slow steps, so a broken installation fails the run instead of hanging it.
const (
	initdbTimeout = 60 * time.Second
	startTimeout  = 30 * time.Second
	stopTimeout   = 15 * time.Second
	adminTimeout  = 30 * time.Second
)

var (
	once      sync.Once
	server    *cluster // nil when using EnvServer
	adminDB   *sql.DB
	serverURL *url.URL
	setupErr  error
	seq       atomic.Int64
)

// DSN returns the URL of a new, empty database for the calling test, dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		unavailable(t, setupErr)
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		t.Fatalf("pgtest: create database %s: %v%s", name, err, server.logTail())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		// FORCE ends connections a test left open (PostgreSQL 13+).
		if _, err := adminDB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); err != nil {
			if _, err2 := adminDB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)); err2 != nil {
				t.Errorf("pgtest: drop database %s: %v", name, err)
			}
		}
	})
	u := *serverURL
	u.Path = "/" + name
	return u.String()
}

// WaitForLockWait returns once a session of db's database waits for a lock, so that a test can
// act while another session is blocked; it fails t after about 30 seconds without one.
func WaitForLockWait(t testing.TB, db *sql.DB) {
	t.Helper()
	for range 3000 {
		var waiting bool
		err := db.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no session waited for a lock")
}

// Main runs the tests of a package, then stops the cluster DSN may have started, removes its
// files and exits with the tests' code. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if adminDB != nil {
		adminDB.Close()
	}
	if server != nil {
		if err := server.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// StartCluster starts a throwaway cluster for a program that is not a test (the load tool) and
// returns the URL of its postgres database and a function that stops the cluster and removes its
// files. Like the test clusters it runs with fsync off: fast, not durable.
func StartCluster() (dsn string, stop func() error, err error) {
	c, err := startCluster()
	if err != nil {
		return "", nil, err
	}
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	return u.String(), c.stop, nil
}

// unavailable skips the test, or fails it in CI where a missing server is a broken pipeline.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("pgtest: PostgreSQL is required in CI: %v", err)
	}
	t.Skipf("pgtest: PostgreSQL is not available, skipping (set %s or install PostgreSQL): %v", EnvServer, err)
}

func setup() {
	if s := os.Getenv(EnvServer); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			setupErr = fmt.Errorf("%s must be a postgres:// URL", EnvServer)
			return
		}
		serverURL = u
	} else {
		c, err := startCluster()
		if err != nil {
			setupErr = err
			return
		}
		server = c
		serverURL = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
			RawQuery: "sslmode=disable"}
	}
	admin := *serverURL
	if server != nil {
		admin.Path = "/postgres"
	}
	db, err := sql.Open("pgx", admin.String())
	if err != nil {
		setupErr = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		setupErr = fmt.Errorf("connect to %s: %w%s", admin.Redacted(), err, server.logTail())
		return
	}
	adminDB = db
}

// databaseName makes a valid, unique identifier that still tells which test it belongs to.
func databaseName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 30 {
		s = s[:30]
	}
	return fmt.Sprintf("t%d_%d_%s", os.Getpid(), seq.Add(1), s)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// cluster is a throwaway PostgreSQL server owned by this test binary.
type cluster struct {
	bin  string
	dir  string
	port int
	cred *syscall.Credential // set when running as root: PostgreSQL refuses to
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }
func (c *cluster) log() string  { return filepath.Join(c.dir, "server.log") }

// logTail returns the end of the server log for failure messages.
func (c *cluster) logTail() string {
	if c == nil {
		return ""
	}
	b, err := os.ReadFile(c.log())
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "\nserver log (" + c.log() + "):\n" + string(b)
}

// findBin returns the directory holding initdb and pg_ctl.
func findBin() (string, error) {
	var candidates []string
	if d := os.Getenv("PG_BIN"); d != "" {
		candidates = append(candidates, d)
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// Debian's /usr/local/bin links point into the versioned directory beside postgres.
		if r, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(r))
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	candidates = append(candidates, dirs...)
	for _, d := range candidates {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found (looked at $PG_BIN, pg_ctl on PATH and /usr/lib/postgresql/*/bin)")
}

// pgVersion reads the version out of /usr/lib/postgresql/VERSION/bin.
func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func startCluster() (*cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and initdb refuses root: no user postgres to run it as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if out, err := c.run(initdbTimeout, "initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8",
		"--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// The port is free when picked but could be taken before the server binds it; try again then.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if c.port, err = freePort(); err != nil {
			lastErr = err
			continue
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c max_connections=300", c.port, c.dir)
		out, err := c.run(startTimeout, "pg_ctl", "-D", c.data(), "-l", c.log(), "-w", "-t", "30", "-o", opts, "start")
		if err == nil {
			return c, nil
		}
		lastErr = fmt.Errorf("pg_ctl start: %w\n%s%s", err, out, c.logTail())
		c.run(stopTimeout, "pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func (c *cluster) stop() error {
	out, err := c.run(stopTimeout, "pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	rmErr := os.RemoveAll(c.dir)
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return rmErr
}

// run runs a PostgreSQL program as the cluster's user. Output goes to a file, not a pipe: the
// server that pg_ctl forks would otherwise hold the pipe open and the wait would never end.
func (c *cluster) run(timeout time.Duration, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := os.CreateTemp("", "pgtest-out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.dir // the postgres user may not be able to enter the test's directory
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %s: %w", prog, timeout, err)
	}
	b, _ := os.ReadFile(out.Name())
	return string(bytes.TrimSpace(b)), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
