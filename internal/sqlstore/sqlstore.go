// Package sqlstore implements vippsmgmt.Store over database/sql for SQLite (modernc.org/sqlite, no
// cgo) and PostgreSQL (pgx). The SQL is written once with $N placeholders, which both drivers
// accept; the few dialect differences live in dialect.go.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/vippsmgmt/vippsmgmt"
)

// Dialect names returned by (*DB).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// pingTimeout bounds the start-up check so a wrong host fails fast instead of hanging.
const pingTimeout = 5 * time.Second

//go:embed migrations
var migrations embed.FS

// DB is a Store backed by SQLite or PostgreSQL.
type DB struct {
	db      *sql.DB
	dialect string
	clock   vippsmgmt.Clock

	// findSalesUnit is prepared once: it is the hot path of GET /management/v1/sales-units/{msn}.
	// SQLite only, nil on PostgreSQL (see findSalesUnitPostgres).
	findSalesUnit *sql.Stmt
	// The statements of a prefill's transaction, prepared once: parsing them took about a tenth
	// of a prefill's time, and on SQLite inside the single write lock, which bounds prefills/s.
	insertIdemKeyStmt, insertOrderStmt *sql.Stmt
	// storeKeyedOrderStmt stores an order with its Idempotency-Key in one statement
	// (storeKeyedOrderSQL); PostgreSQL only, nil on SQLite.
	storeKeyedOrderStmt *sql.Stmt
	// packages holds the price packages prefills chose; PostgreSQL only, nil on SQLite.
	packages *packageCache
	// prefills queues concurrent prefills into shared transactions on SQLite; nil on PostgreSQL.
	prefills *commitQueue
	// units caches FindSalesUnitByMSN on SQLite; nil on PostgreSQL (see unitCache).
	units *unitCache
	// report holds the integration report's statements, prepared at its first flush.
	report reportStatements
}

var _ vippsmgmt.Store = (*DB)(nil)

// Open connects to the database named by dsn, checks that it answers and applies the embedded
// migrations. dsn is sqlite:PATH (the file is created on first start) or a postgres:// or
// postgresql:// URL. Errors name the problem in one line, fit for printing at start-up.
func Open(ctx context.Context, dsn string, clock vippsmgmt.Clock) (*DB, error) {
	if clock == nil {
		return nil, errors.New("sqlstore: a clock is required")
	}
	var (
		d    = &DB{clock: clock}
		err  error
		name string // for messages: never includes a password
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		name = "SQLite database " + path
		if err := checkSQLitePath(path); err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
		}
		d.dialect = DialectSQLite
		d.units = newUnitCache()
		d.prefills = newCommitQueue(d.storeGroup)
		d.db, err = sql.Open("sqlite", sqliteDSN(path))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
		}
		// WAL lets readers run beside the single writer that _txlock=immediate admits.
		d.db.SetMaxOpenConns(8)
		d.db.SetMaxIdleConns(8)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, perr := url.Parse(dsn)
		if perr != nil {
			return nil, errors.New("sqlstore: the PostgreSQL URL cannot be parsed")
		}
		name = "PostgreSQL at " + u.Redacted()
		conns, perr := poolMaxConns(u)
		if perr != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", name, perr)
		}
		d.dialect = DialectPostgres
		d.packages = newPackageCache()
		if d.db, err = openPostgres(u.String()); err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", name, oneLine{err})
		}
		d.db.SetMaxOpenConns(conns)
		d.db.SetMaxIdleConns(conns)
		d.db.SetConnMaxIdleTime(5 * time.Minute)
	default:
		return nil, fmt.Errorf("sqlstore: unsupported database %q: use sqlite:PATH or a postgres:// URL", redactDSN(dsn))
	}

	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := d.ping(pctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("sqlstore: cannot reach %s: %w", name, oneLine{err})
	}
	if err := d.migrate(ctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("sqlstore: migrating %s: %w", name, err)
	}
	if err := d.prepare(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("sqlstore: preparing statements on %s: %w", name, err)
	}
	return d, nil
}

// defaultPoolMaxConns is how many connections to PostgreSQL a process keeps at most, unless the
// URL's pool_max_conns says otherwise.
const defaultPoolMaxConns = 16

// openPostgres opens a pool of connections to the PostgreSQL database of the URL dsn, each of
// which asks the server to cancel a statement whose context ends (cancelOnServer).
func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.BuildContextWatcherHandler = cancelOnServer
	return stdlib.OpenDB(*cfg), nil
}

// cancelOnServer handles a context that ends while its connection runs a statement: PostgreSQL
// is asked at once to cancel the statement (a cancel request, on a connection of its own; the
// caller has gone, so nothing is gained by letting it run on), answers query_canceled, which
// formatPostgresError reports as the context's end, and the connection stays in the pool. Only
// when no answer comes within cancelDeadline is the connection cut off. pgx's default cuts it off
// at once (its close sends the same cancel request, after the caller has returned) and the pool
// dials and prepares a new connection in its place, a cost paid for every client that hangs up.
func cancelOnServer(conn *pgconn.PgConn) ctxwatch.Handler {
	return &pgconn.CancelRequestContextWatcherHandler{Conn: conn, CancelRequestDelay: 0, DeadlineDelay: cancelDeadline}
}

// cancelDeadline bounds how long a caller whose context ended waits for PostgreSQL to answer the
// cancel request: many round trips, yet short enough for a shutdown.
const cancelDeadline = 2 * time.Second

// poolMaxConns reads and removes the pool_max_conns parameter of a PostgreSQL URL (the name pgx's
// own pool gives it): processes × connections must fit the server's max_connections, so an
// operator running many processes sets it lower. Left in the URL, the server would refuse it as
// an unknown setting.
func poolMaxConns(u *url.URL) (int, error) {
	q := u.Query()
	v, ok := q["pool_max_conns"]
	if !ok {
		return defaultPoolMaxConns, nil
	}
	n, err := strconv.Atoi(v[0])
	if len(v) != 1 || err != nil || n < 1 || n > 1000 {
		return 0, errors.New("pool_max_conns must be given once, as a whole number from 1 to 1000")
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return n, nil
}

// prepare prepares the statements of the hot paths that the dialect uses.
func (d *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
		only string // the one dialect that uses it; "" for both
	}{
		// On PostgreSQL a sales unit is read through pgx's statement cache (findSalesUnitPostgres).
		{&d.findSalesUnit, findSalesUnitSQL, DialectSQLite},
		{&d.insertIdemKeyStmt, insertIdemKeySQL, ""},
		{&d.insertOrderStmt, insertOrderSQL, ""},
		// SQLite has no data-modifying WITH.
		{&d.storeKeyedOrderStmt, storeKeyedOrderSQL, DialectPostgres},
	} {
		if p.only != "" && p.only != d.dialect {
			continue
		}
		var err error
		if *p.stmt, err = d.db.PrepareContext(ctx, p.sql); err != nil {
			return err
		}
	}
	return nil
}

// ping checks the first connection. On SQLite it retries SQLITE_BUSY: two processes creating
// one file at once both switch it to WAL, and SQLite answers that race with BUSY at once instead
// of waiting out busy_timeout.
func (d *DB) ping(ctx context.Context) error {
	for {
		err := d.db.PingContext(ctx)
		if err == nil || d.dialect != DialectSQLite || !isSQLiteBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// oneLine prints a multi-line driver error (pgx lists every address it tried) on one line,
// keeping the original for errors.Is and errors.As.
type oneLine struct{ err error }

func (e oneLine) Error() string {
	return strings.Join(strings.Fields(strings.ReplaceAll(e.err.Error(), "\n", "; ")), " ")
}

func (e oneLine) Unwrap() error { return e.err }

// checkSQLitePath rejects paths that would otherwise surface as an obscure driver error.
func checkSQLitePath(path string) error {
	if path == "" || path == ":memory:" {
		return errors.New("a file path is required (sqlite:PATH)")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s does not exist", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// sqliteDSN builds the modernc DSN. synchronous(FULL) because a 2xx must mean durably stored;
// _txlock=immediate takes the write lock at BEGIN so read-then-write transactions never fail
// with SQLITE_BUSY halfway.
func sqliteDSN(path string) string {
	// SQLite decodes %HH in file: URIs; escape what would end the path early.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
}

// redactDSN hides a password in a DSN echoed back in an error.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

// SQL returns the connection pool, for metrics and tests.
func (d *DB) SQL() *sql.DB { return d.db }

// Dialect returns "sqlite" or "postgres".
func (d *DB) Dialect() string { return d.dialect }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return d.formatError(err)
	}
	return nil
}

// Close closes the pool.
func (d *DB) Close() error {
	for _, st := range []*sql.Stmt{d.findSalesUnit, d.insertIdemKeyStmt, d.insertOrderStmt, d.storeKeyedOrderStmt} {
		if st != nil {
			st.Close()
		}
	}
	d.report.close()
	return d.db.Close()
}

// now is the clock's time as stored: UTC, microsecond precision, so what a write returns equals
// what a later read returns.
func (d *DB) now() time.Time { return d.clock.Now().UTC().Truncate(time.Microsecond) }

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, d *DB, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, d.formatError(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, d.formatError(err)
		}
		out = append(out, v)
	}
	return out, d.formatError(rows.Err())
}

// validInTx runs fn in a transaction once v passes its domain rules; an invalid v is refused
// before the database is asked anything.
func (d *DB) validInTx(ctx context.Context, v interface{ Validate() error }, fn func(tx *sql.Tx) error) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return d.inTx(ctx, fn)
}

// upsertInTx is validInTx for an upsert, whose fn reads the item and then inserts or updates
// it. On PostgreSQL two upserts of one new item (two processes loading the same fixtures as they
// start) can both find no item and both insert it: the later insert fails on the key, ECONFLICT.
// fn then runs once more, in a new transaction, which finds the item and updates it, as if the
// upserts had run one after the other; a conflict of another cause is found again and answered.
// SQLite runs one write transaction at a time, so there the first answer stands.
func (d *DB) upsertInTx(ctx context.Context, v interface{ Validate() error }, fn func(tx *sql.Tx) error) error {
	err := d.validInTx(ctx, v, fn)
	if d.dialect == DialectPostgres && vippsmgmt.ErrorCode(err) == vippsmgmt.ECONFLICT {
		err = d.inTx(ctx, fn)
	}
	return err
}

// inTx runs fn in a read-write transaction and commits when it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return d.formatError(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return d.formatError(err)
	}
	if err := tx.Commit(); err != nil {
		return d.formatError(err)
	}
	return nil
}

// formatError maps a driver error to a domain error; domain errors and nil pass unchanged.
func (d *DB) formatError(err error) error {
	var e *vippsmgmt.Error
	if err == nil || errors.As(err, &e) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if d.dialect == DialectPostgres {
		return formatPostgresError(err)
	}
	return formatSQLiteError(err)
}

// exec runs one statement outside a transaction and returns how many rows it changed, driver
// errors mapped by formatError.
func (d *DB) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, d.formatError(err)
	}
	n, err := res.RowsAffected()
	return n, d.formatError(err)
}

// Time columns hold Unix microseconds in UTC.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func microsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// ptrOf is a nullable column's value as the domain holds it: nil for NULL.
func ptrOf[T any](v sql.Null[T]) *T {
	if !v.Valid {
		return nil
	}
	return &v.V
}

// nullable is the argument that stores p: NULL for nil.
func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// jsonArg encodes v as JSON TEXT; a nil pointer is stored as NULL.
func jsonArg[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// jsonScan decodes a nullable JSON TEXT column.
func jsonScan[T any](v sql.NullString) (*T, error) {
	if !v.Valid {
		return nil, nil
	}
	x := new(T)
	if err := json.Unmarshal([]byte(v.String), x); err != nil {
		return nil, err
	}
	return x, nil
}

// query builds SQL with numbered placeholders.
type query struct {
	sb   strings.Builder
	args []any
}

// arg appends v to the arguments and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func (q *query) add(s ...string) {
	for _, x := range s {
		q.sb.WriteString(x)
	}
}

func (q *query) String() string { return q.sb.String() }

// keyset ends a paged list's query, whose WHERE clause is open: it keeps the rows after the cursor
// (the values of cols of the last row listed), orders by cols, all ascending or all descending,
// and reads at most limit rows (0: all). The order and the condition come from one list of
// columns, so they cannot disagree; new rows never shift a page, as an OFFSET would.
func (q *query) keyset(after vippsmgmt.Cursor, limit int, desc bool, cols ...string) {
	dir, cmp := "", " > "
	if desc {
		dir, cmp = " DESC", " < "
	}
	if after != nil {
		if len(after) != len(cols) {
			panic(fmt.Sprintf("sqlstore: cursor of %d values for %d columns", len(after), len(cols)))
		}
		q.add(` AND (`, strings.Join(cols, ", "), `)`, cmp, `(`)
		for i, v := range after {
			if i > 0 {
				q.add(`, `)
			}
			q.add(q.arg(v))
		}
		q.add(`)`)
	}
	q.add(` ORDER BY `, strings.Join(cols, dir+", "), dir)
	if limit > 0 {
		q.add(` LIMIT `, strconv.Itoa(limit))
	}
}

// likePattern returns a case-insensitive substring pattern for LIKE ... ESCAPE '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

func notFound(format string, args ...any) error {
	return vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, format, args...)
}
