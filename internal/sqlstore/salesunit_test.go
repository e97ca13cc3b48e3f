package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// TestFindSalesUnitEndsWithItsContext checks that on PostgreSQL a read of a sales unit whose
// caller goes away ends then, not when the database would answer: here a lock held by another
// session would keep it waiting for as long as that session likes. The pool stays usable.
func TestFindSalesUnitEndsWithItsContext(t *testing.T) {
	dsn := pgtest.DSN(t)
	store := sqlitetest.OpenDSN(t, dsn, storetest.NewClock(storetest.Start))
	if _, err := store.FindSalesUnitByMSN(context.Background(), "123456"); vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		t.Fatalf("unknown MSN: got %v, want ENOTFOUND", err)
	}

	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`LOCK TABLE sales_units IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := store.FindSalesUnitByMSN(ctx, "123456")
		done <- err
	}()
	pgtest.WaitForLockWait(t, other)
	cancel()
	select {
	case err := <-done:
		if err == nil || vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
			t.Fatalf("a read whose context ended while it waited returned %v, want an error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the read did not end with its context while the lock was held")
	}

	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range 20 { // more reads than the pool has connections: the one cancelled serves too
		if _, err := store.FindSalesUnitByMSN(context.Background(), "123456"); vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
			t.Fatalf("after a read was cut off: got %v, want ENOTFOUND", err)
		}
	}
}
