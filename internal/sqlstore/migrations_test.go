package sqlstore

import (
	"io/fs"
	"strings"
	"testing"
)

// TestMigrationsAgreeAcrossDialects keeps the two schemas one schema: every migration exists for
// both databases and the files differ only in the types each database spells its own way.
func TestMigrationsAgreeAcrossDialects(t *testing.T) {
	sqliteFiles, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil || len(sqliteFiles) == 0 {
		t.Fatalf("no SQLite migrations: %v", err)
	}
	pgFiles, _ := fs.Glob(migrations, "migrations/postgres/*.sql")
	if len(pgFiles) != len(sqliteFiles) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL migrations", len(sqliteFiles), len(pgFiles))
	}
	toSQLite := strings.NewReplacer(
		"BYTEA", "BLOB",
		"BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT",
	)
	for _, f := range sqliteFiles {
		name := strings.TrimPrefix(f, "migrations/sqlite/")
		lite, err := fs.ReadFile(migrations, f)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := fs.ReadFile(migrations, "migrations/postgres/"+name)
		if err != nil {
			t.Fatalf("%s has no PostgreSQL twin: %v", name, err)
		}
		if got := toSQLite.Replace(string(pg)); got != string(lite) {
			t.Errorf("%s: the PostgreSQL schema differs from SQLite's beyond the dialect's types", name)
		}
	}
}
