package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
)

func TestParseUp(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string
		err       string
	}{
		{name: "statements split at a closing semicolon",
			src:  "-- leading comment\n-- +goose Up\nCREATE TABLE a (x INT);\n\n-- about b\nCREATE TABLE b (\n  y TEXT -- not the end;\n); -- done\nINSERT INTO a VALUES (1);\n-- +goose Down\nDROP TABLE b;\n",
			want: []string{"CREATE TABLE a (x INT);", "CREATE TABLE b (\n  y TEXT -- not the end;\n); -- done", "INSERT INTO a VALUES (1);"}},
		{name: "a block keeps its semicolons",
			src:  "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n-- +goose StatementEnd\nSELECT 1;\n",
			want: []string{"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;", "SELECT 1;"}},
		{name: "CRLF line ends", src: "-- +goose Up\r\nSELECT 1;\r\n-- +goose Down\r\n", want: []string{"SELECT 1;"}},
		{name: "empty Up section", src: "-- +goose Up\n-- +goose Down\nDROP TABLE a;\n", want: nil},
		{name: "no Up annotation", src: "CREATE TABLE a (x INT);\n", err: `SQL before "-- +goose Up"`},
		{name: "only comments", src: "-- nothing\n", err: `no "-- +goose Up"`},
		{name: "a second Up", src: "-- +goose Up\nSELECT 1;\n-- +goose Up\n", err: "a second"},
		{name: "Down first", src: "-- +goose Down\n-- +goose Up\n", err: "before"},
		{name: "missing semicolon before Down", src: "-- +goose Up\nSELECT 1\n-- +goose Down\n", err: "without a closing semicolon"},
		{name: "missing semicolon at the end", src: "-- +goose Up\nSELECT 1\n", err: "without a closing semicolon"},
		{name: "unclosed block", src: "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n", err: "without StatementEnd"},
		{name: "stray StatementEnd", src: "-- +goose Up\n-- +goose StatementEnd\n", err: "without StatementBegin"},
		{name: "no transaction is refused", src: "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;\n", err: `"NO TRANSACTION" is not supported`},
		{name: "envsub is refused", src: "-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n", err: `"ENVSUB ON" is not supported`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseUp(c.src)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %q, %v; want an error mentioning %q", got, err, c.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestReadMigrations(t *testing.T) {
	for _, dialect := range []string{DialectSQLite, DialectPostgres} {
		sub, _ := fs.Sub(migrations, "migrations/"+dialect)
		ms, err := readMigrations(sub)
		if err != nil {
			t.Fatalf("%s: %v", dialect, err)
		}
		for i, m := range ms {
			if m.version != int64(i+1) || len(m.up) == 0 {
				t.Errorf("%s: migration %d is %s, version %d with %d statements", dialect, i, m.file, m.version, len(m.up))
			}
		}
	}
	for name, fsys := range map[string]fstest.MapFS{
		"same version":  {"00001_a.sql": {Data: []byte("-- +goose Up\n")}, "001_b.sql": {Data: []byte("-- +goose Up\n")}},
		"no version":    {"init.sql": {Data: []byte("-- +goose Up\n")}},
		"version zero":  {"00000_init.sql": {Data: []byte("-- +goose Up\n")}},
		"a broken file": {"00001_a.sql": {Data: []byte("SELECT 1;\n")}},
	} {
		if ms, err := readMigrations(fsys); err == nil {
			t.Errorf("%s: got %d migrations and no error", name, len(ms))
		}
	}
}

// dialectDSNs returns a fresh SQLite file and a fresh PostgreSQL database.
func dialectDSNs(t *testing.T) map[string]string {
	return map[string]string{
		DialectSQLite:   "sqlite:" + filepath.Join(t.TempDir(), "x.db"),
		DialectPostgres: pgtest.DSN(t),
	}
}

// sqlDB opens dsn as Open would, without migrating.
func sqlDB(t *testing.T, dsn string) (*sql.DB, string) {
	t.Helper()
	open, source, dialect := openPostgres, dsn, DialectPostgres // configured as Open configures it
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		open = func(source string) (*sql.DB, error) { return sql.Open("sqlite", source) }
		source, dialect = sqliteDSN(path), DialectSQLite
	}
	db, err := open(source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dialect
}

func embedded(t *testing.T, dialect string) (fs.FS, []migration) {
	t.Helper()
	sub, err := fs.Sub(migrations, "migrations/"+dialect)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := readMigrations(sub)
	if err != nil {
		t.Fatal(err)
	}
	return sub, ms
}

func gooseProvider(t *testing.T, db *sql.DB, dialect string, fsys fs.FS) *goose.Provider {
	t.Helper()
	gd, opts := goose.DialectSQLite3, []goose.ProviderOption(nil)
	if dialect == DialectPostgres {
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 60))
		if err != nil {
			t.Fatal(err)
		}
		gd, opts = goose.DialectPostgres, append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// versions lists the recorded versions in the order they were recorded.
func versions(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	return column[int64](t, db, `SELECT version_id FROM `+versionTable+` ORDER BY id`)
}

// column runs q and returns its one column.
func column[T any](t *testing.T, db *sql.DB, q string) []T {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func allVersions(ms []migration) []int64 {
	vs := []int64{0}
	for _, m := range ms {
		vs = append(vs, m.version)
	}
	return vs
}

// schema describes the tables, columns and indexes of db, to compare two databases' schemas.
func schema(t *testing.T, db *sql.DB, dialect string) []string {
	t.Helper()
	q := `SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name`
	if dialect == DialectPostgres {
		q = `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
			FROM information_schema.columns WHERE table_schema = current_schema()
			UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1`
	}
	return column[string](t, db, q)
}

// TestMigrateAsGoose: the runner builds the schema goose builds from the same files, records it
// as goose does, and upgrades a database goose left at an earlier version; goose then finds
// nothing left to do.
func TestMigrateAsGoose(t *testing.T) {
	ctx := context.Background()
	for dialect, dsn := range dialectDSNs(t) {
		t.Run(dialect, func(t *testing.T) {
			fsys, ms := embedded(t, dialect)
			byGoose, _ := sqlDB(t, dsn)
			p := gooseProvider(t, byGoose, dialect, fsys)
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			want := schema(t, byGoose, dialect)

			other := dialectDSNs(t)[dialect]
			db, _ := sqlDB(t, other)
			// goose stops at version 2, as an earlier build would have left the database.
			if _, err := gooseProvider(t, db, dialect, fsys).UpTo(ctx, 2); err != nil {
				t.Fatal(err)
			}
			if err := applyMigrations(ctx, db, dialect, ms); err != nil {
				t.Fatal(err)
			}
			if got := schema(t, db, dialect); !slices.Equal(got, want) {
				t.Errorf("schema after goose to 2 and the runner:\n%s\nwant (goose alone):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := versions(t, db); !slices.Equal(got, allVersions(ms)) {
				t.Errorf("recorded versions %v, want %v", got, allVersions(ms))
			}
			// Again: nothing to do, nothing recorded twice.
			if err := applyMigrations(ctx, db, dialect, ms); err != nil {
				t.Fatal(err)
			}
			if got := versions(t, db); !slices.Equal(got, allVersions(ms)) {
				t.Errorf("after a second run: recorded versions %v, want %v", got, allVersions(ms))
			}

			// A database the runner made from nothing is one goose considers up to date.
			fresh := dialectDSNs(t)[dialect]
			db, _ = sqlDB(t, fresh)
			if err := applyMigrations(ctx, db, dialect, ms); err != nil {
				t.Fatal(err)
			}
			if got := schema(t, db, dialect); !slices.Equal(got, want) {
				t.Errorf("schema made by the runner:\n%s\nwant (goose):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			p = gooseProvider(t, db, dialect, fsys)
			if v, err := p.GetDBVersion(ctx); err != nil || v != ms[len(ms)-1].version {
				t.Errorf("goose reads version %d, %v; want %d", v, err, ms[len(ms)-1].version)
			}
			if pending, err := p.HasPending(ctx); err != nil || pending {
				t.Errorf("goose finds pending migrations: %v, %v", pending, err)
			}
		})
	}
}

// TestMigrateConcurrently starts the runner several times at once on one empty database, beside
// goose as an earlier build runs it: each migration is applied and recorded exactly once.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	for dialect, dsn := range dialectDSNs(t) {
		t.Run(dialect, func(t *testing.T) {
			fsys, ms := embedded(t, dialect)
			var wg sync.WaitGroup
			for i := range 5 {
				wg.Go(func() {
					db, _ := sqlDB(t, dsn) // a pool of its own, as another process has
					// Open pings before it migrates, waiting out the lock of a new SQLite file's
					// switch to WAL, which no busy timeout covers.
					if err := (&DB{db: db, dialect: dialect}).ping(ctx); err != nil {
						t.Errorf("ping %d: %v", i, err)
						return
					}
					if i == 0 && dialect == DialectPostgres {
						if _, err := gooseProvider(t, db, dialect, fsys).Up(ctx); err != nil {
							t.Errorf("goose: %v", err)
						}
						return
					}
					if err := applyMigrations(ctx, db, dialect, ms); err != nil {
						t.Errorf("runner %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			db, _ := sqlDB(t, dsn)
			got := versions(t, db)
			slices.Sort(got)
			if !slices.Equal(got, allVersions(ms)) {
				t.Errorf("recorded versions %v, want each of %v once", got, allVersions(ms))
			}
		})
	}
}

// TestMigrateFailure: a migration that fails leaves the database as it was, says which file
// failed, and the runner applies everything once the file is fixed.
func TestMigrateFailure(t *testing.T) {
	ctx := context.Background()
	for dialect, dsn := range dialectDSNs(t) {
		t.Run(dialect, func(t *testing.T) {
			db, _ := sqlDB(t, dsn)
			files := fstest.MapFS{
				"00001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n-- +goose Down\nDROP TABLE a;\n")},
				"00002_b.sql": {Data: []byte("-- +goose Up\nCREATE TABLE b (y INTEGER);\nINSERT INTO missing VALUES (1);\n")},
			}
			ms, err := readMigrations(files)
			if err != nil {
				t.Fatal(err)
			}
			err = applyMigrations(ctx, db, dialect, ms)
			if err == nil || !strings.Contains(err.Error(), "00002_b.sql") {
				t.Fatalf("got %v, want an error naming 00002_b.sql", err)
			}
			if got := schema(t, db, dialect); len(got) != 0 {
				t.Errorf("a failed migration left %q", got)
			}
			files["00002_b.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE b (y INTEGER);\n")}
			if ms, err = readMigrations(files); err != nil {
				t.Fatal(err)
			}
			if err := applyMigrations(ctx, db, dialect, ms); err != nil {
				t.Fatal(err)
			}
			if got := versions(t, db); !slices.Equal(got, []int64{0, 1, 2}) {
				t.Errorf("recorded versions %v, want [0 1 2]", got)
			}

			// A version older than the newest applied one that is not recorded is refused, as
			// goose refuses it, rather than run after its successors.
			if _, err := db.Exec(`DELETE FROM ` + versionTable + ` WHERE version_id = 1`); err != nil {
				t.Fatal(err)
			}
			if err := applyMigrations(ctx, db, dialect, ms); err == nil || !strings.Contains(err.Error(), "lacks the older 00001_a.sql") {
				t.Errorf("got %v, want the missing 00001_a.sql named", err)
			}
			// Versions a newer build recorded are left alone.
			if _, err := db.Exec(fmt.Sprintf(`INSERT INTO %s (version_id, is_applied) VALUES (1, $1), (3, $1)`, versionTable), true); err != nil {
				t.Fatal(err)
			}
			if err := applyMigrations(ctx, db, dialect, ms); err != nil {
				t.Errorf("a database of a newer build: %v", err)
			}
		})
	}
}

// TestMigrationCacheRestored: the connection that migrated with a small page cache serves
// afterwards with SQLite's default one.
func TestMigrationCacheRestored(t *testing.T) {
	db, _ := sqlDB(t, "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	db.SetMaxOpenConns(1) // the migrating connection is the one asked afterwards
	var before int64
	if err := db.QueryRow(`PRAGMA cache_size`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	_, ms := embedded(t, DialectSQLite)
	if err := applyMigrations(context.Background(), db, DialectSQLite, ms); err != nil {
		t.Fatal(err)
	}
	var after int64
	if err := db.QueryRow(`PRAGMA cache_size`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before || after == migrationCachePages {
		t.Errorf("cache_size %d after migrating, want %d as before", after, before)
	}
}

// TestMigrationLockTimeout: on PostgreSQL a process waits for another's migrations only so long,
// then says what it waited for; once the lock is free it migrates.
func TestMigrationLockTimeout(t *testing.T) {
	ctx := context.Background()
	db, _ := sqlDB(t, pgtest.DSN(t))
	holder, err := db.Conn(ctx) // another process, in the middle of its migrations
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockID)); err != nil {
		t.Fatal(err)
	}
	defer func(d time.Duration) { migrationLockTimeout = d }(migrationLockTimeout)
	migrationLockTimeout = 200 * time.Millisecond
	_, ms := embedded(t, DialectPostgres)
	start := time.Now()
	err = applyMigrations(ctx, db, DialectPostgres, ms)
	if err == nil || !strings.Contains(err.Error(), "waiting for another process's migrations") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the wait named and its end", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %v", d)
	}
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, int64(migrationLockID)); err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(ctx, db, DialectPostgres, ms); err != nil {
		t.Fatal(err)
	}
	if got := versions(t, db); !slices.Equal(got, allVersions(ms)) {
		t.Errorf("recorded versions %v, want %v", got, allVersions(ms))
	}
}

// TestMigrateWhileGooseCreatesItsTable: goose, as an earlier build runs it, creates the version
// table (with version 0) before it takes its lock. A runner that found no table and then fails
// to create it, because goose committed it meanwhile, tries again and migrates on top of it.
func TestMigrateWhileGooseCreatesItsTable(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, _ := sqlDB(t, dsn)
	other, _ := sqlDB(t, dsn)
	_, ms := embedded(t, DialectPostgres)

	creating, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer creating.Rollback()
	if _, err := creating.Exec(createVersionTable[DialectPostgres]); err != nil {
		t.Fatal(err)
	}
	if _, err := creating.Exec(`INSERT INTO `+versionTable+` (version_id, is_applied) VALUES (0, $1)`, true); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- applyMigrations(ctx, db, DialectPostgres, ms) }()
	// The runner found no table and its CREATE TABLE waits for the one not yet committed.
	pgtest.WaitForLockWait(t, other)
	if err := creating.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runner: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the runner did not finish")
	}
	if got := versions(t, db); !slices.Equal(got, allVersions(ms)) {
		t.Errorf("recorded versions %v, want %v", got, allVersions(ms))
	}
}
