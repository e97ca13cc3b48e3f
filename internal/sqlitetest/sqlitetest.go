// Package sqlitetest opens throwaway SQLite stores for tests, as pgtest makes PostgreSQL
// databases: a real file, not :memory:, which is one database per connection.
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
	db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "vippsmgmt.db"), clock)
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
