package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openSQLite(t *testing.T, clock vippsmgmt.Clock) vippsmgmt.Store {
	t.Helper()
	return sqlitetest.Open(t, clock)
}

func openPostgres(t *testing.T, clock vippsmgmt.Clock) vippsmgmt.Store {
	t.Helper()
	return sqlitetest.OpenDSN(t, pgtest.DSN(t), clock)
}

func TestSQLite(t *testing.T) { storetest.Run(t, openSQLite) }

func TestPostgres(t *testing.T) { storetest.Run(t, openPostgres) }

func TestDialect(t *testing.T) {
	clock := storetest.NewClock(storetest.Start)
	if got := sqlitetest.Open(t, clock).Dialect(); got != "sqlite" {
		t.Errorf("got dialect %q, want sqlite", got)
	}
	if got := sqlitetest.OpenDSN(t, pgtest.DSN(t), clock).Dialect(); got != "postgres" {
		t.Errorf("got dialect %q, want postgres", got)
	}
}

// TestReopen checks that data survives a restart and migrations are not applied twice.
func TestReopen(t *testing.T) {
	clock := storetest.NewClock(storetest.Start)
	dsn := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "x.db"), "postgres": pgtest.DSN(t)}
	for name, dsn := range dsn {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := sqlstore.Open(ctx, dsn, clock)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SetSetting(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			db = sqlitetest.OpenDSN(t, dsn, clock)
			if v, err := db.Setting(ctx, "k"); err != nil || v != "v" {
				t.Errorf("after reopen: got %q, %v, want v", v, err)
			}
		})
	}
}

// TestConcurrentOpen starts several processes' worth of Open on one empty database: one must
// migrate while the others wait, and none may fail.
func TestConcurrentOpen(t *testing.T) {
	clock := storetest.NewClock(storetest.Start)
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "x.db"), "postgres": pgtest.DSN(t)}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := sqlstore.Open(context.Background(), dsn, clock)
					if err != nil {
						t.Error(err)
						return
					}
					db.Close()
				}()
			}
			wg.Wait()
		})
	}
}

func TestOpenErrors(t *testing.T) {
	clock := storetest.NewClock(storetest.Start)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dsn  string
		want string
	}{
		{"", "unsupported database"},
		{"mysql://root@localhost/app", "unsupported database"},
		{"sqlite:", "a file path is required"},
		{"sqlite:" + filepath.Join(dir, "missing", "x.db"), "does not exist"},
		{"sqlite:" + filepath.Join(notDir, "x.db"), "is not a directory"},
		// Port 1 on loopback refuses at once: nothing listens there.
		{"postgres://app:secret@127.0.0.1:1/app?connect_timeout=2", "cannot reach PostgreSQL"},
		{"postgres://app:secret@127.0.0.1:1/app?sslmode=sometimes", "sslmode is invalid"},
		{"postgres://app:secret@127.0.0.1:1/app?pool_max_conns=0", "pool_max_conns must be given once"},
		{"postgres://app:secret@127.0.0.1:1/app?pool_max_conns=many", "pool_max_conns must be given once"},
		{"postgres://app:secret@127.0.0.1:1/app?pool_max_conns=2&pool_max_conns=3", "pool_max_conns must be given once"},
	} {
		start := time.Now()
		db, err := sqlstore.Open(context.Background(), c.dsn, clock)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q): got no error", c.dsn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("Open(%q): got %q, want it to mention %q", c.dsn, msg, c.want)
		}
		if strings.Contains(msg, "secret") || strings.Contains(msg, "\n") {
			t.Errorf("Open(%q): error %q leaks the password or spans lines", c.dsn, msg)
		}
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("Open(%q) took %v", c.dsn, d)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sqlstore.Open(ctx, "postgres://app@127.0.0.1:1/app", clock); err == nil {
		t.Errorf("Open with a cancelled context: got %v", err)
	}
}

// TestPoolMaxConns: the PostgreSQL URL's pool_max_conns bounds the process's connections and is
// not passed on to the server, which would refuse it as an unknown setting.
func TestPoolMaxConns(t *testing.T) {
	clock := storetest.NewClock(storetest.Start)
	dsn := pgtest.DSN(t)
	for extra, want := range map[string]int{"": 16, "pool_max_conns=3": 3} {
		u := dsn
		if extra != "" {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + extra
		}
		db := sqlitetest.OpenDSN(t, u, clock)
		if got := db.SQL().Stats().MaxOpenConnections; got != want {
			t.Errorf("%q: %d connections at most, want %d", extra, got, want)
		}
		if err := db.SetSetting(context.Background(), "k", extra); err != nil {
			t.Errorf("%q: %v", extra, err)
		}
	}
}
