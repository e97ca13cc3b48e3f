// Package sqlitetest opens throwaway SQLite stores for tests, as pgtest makes PostgreSQL
// databases: a real file, not :memory:, which is one database per connection. OpenDSN opens a
// store on a database a test names itself, PostgreSQL included, which pgtest cannot: it is
// imported by the store's own tests, so it cannot import the store.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

// Open opens a store on a new SQLite file in t's temporary directory, reading the time from clock,
// and closes it when the test ends, failing the test if that fails.
func Open(t testing.TB, clock vippsmgmt.Clock) *sqlstore.DB {
	t.Helper()
	return OpenDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "vippsmgmt.db"), clock)
}

// OpenDSN is Open for a database the test names itself, SQLite or PostgreSQL: one it reopens, or
// one that pgtest made.
func OpenDSN(t testing.TB, dsn string, clock vippsmgmt.Clock) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}
