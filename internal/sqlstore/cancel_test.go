package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// TestPostgresCancelEndsTheStatement: on PostgreSQL a store call whose context ends while its
// statement runs has the server stop that statement, answers with the context's end (a caller
// that went away is not an internal error), and leaves its connection in the pool for the next
// call instead of cutting it off.
func TestPostgresCancelEndsTheStatement(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	// One connection, so the call after the cancelled one shows whether it was kept.
	store := sqlitetest.OpenDSN(t, dsn+sep(dsn)+"pool_max_conns=1", storetest.NewClock(storetest.Start))
	if err := store.SetSetting(ctx, "k", "before"); err != nil {
		t.Fatal(err)
	}
	pid := backendPID(t, store.SQL())

	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// Another session holds the setting's row, so the store's write of it waits until told to stop.
	hold, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.Exec(`UPDATE settings SET value = 'held' WHERE name = 'k'`); err != nil {
		t.Fatal(err)
	}

	callCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- store.SetSetting(callCtx, "k", "cancelled") }()
	pgtest.WaitForLockWait(t, other)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the cancelled call returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the cancelled call did not return")
	}

	// The lock is still held: only the cancel request can have ended the wait on the server.
	var state, query string
	for range 3000 {
		err := other.QueryRowContext(ctx, `SELECT COALESCE(state, ''), query FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&state, &query)
		if errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("the session of the cancelled call (pid %d) is gone: its connection was cut off, not kept", pid)
		} else if err != nil {
			t.Fatal(err)
		}
		if state != "active" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if state == "active" {
		t.Fatalf("the session of the cancelled call still runs %q", query)
	}
	if !strings.Contains(query, "INSERT INTO settings") {
		t.Errorf("the session's last statement is %q, want the cancelled write", query)
	}

	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := store.SetSetting(ctx, "k", "after"); err != nil {
		t.Fatalf("a call after the cancelled one: %v", err)
	}
	if v, err := store.Setting(ctx, "k"); err != nil || v != "after" {
		t.Errorf("got %q, %v, want after", v, err)
	}
	if got := backendPID(t, store.SQL()); got != pid {
		t.Errorf("the pool's connection is now session %d, want the cancelled call's %d, kept", got, pid)
	}
}

// sep is what joins another parameter to url.
func sep(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}

func backendPID(t *testing.T, db *sql.DB) int {
	t.Helper()
	var pid int
	if err := db.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}
