package pgtest_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestDSN(t *testing.T) {
	a, b := pgtest.DSN(t), pgtest.DSN(t)
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
	for _, dsn := range []string{a, b} {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		// A fresh database has no tables of its own.
		err = db.QueryRowContext(context.Background(),
			`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&n)
		if err != nil {
			t.Fatalf("query %s: %v", dsn, err)
		}
		if n != 0 {
			t.Errorf("got %d tables in a fresh database, want 0", n)
		}
		if _, err := db.Exec(`CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
	}
}
