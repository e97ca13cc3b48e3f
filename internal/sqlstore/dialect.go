package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vippsmgmt/vippsmgmt"
)

// This file holds everything that differs between SQLite and PostgreSQL.

// forUpdate locks the selected rows until commit on PostgreSQL. SQLite has no row locks; there
// _txlock=immediate already gives the transaction the database's single write lock at BEGIN.
func (d *DB) forUpdate() string {
	if d.dialect == DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// forUpdateOf is forUpdate for a join, locking only the rows of the table aliased alias.
func (d *DB) forUpdateOf(alias string) string {
	if d.dialect == DialectPostgres {
		return " FOR UPDATE OF " + alias
	}
	return ""
}

// msnAllocationLock is an arbitrary advisory lock key for MSN allocation.
const msnAllocationLock = 0x766970706d736e // "vippmsn"

// lockMSNAllocation serialises "highest MSN + 1" between concurrent approvals, which would
// otherwise pick the same number on PostgreSQL. The lock ends with the transaction. SQLite
// transactions are already serial.
func (d *DB) lockMSNAllocation(ctx context.Context, tx *sql.Tx) error {
	if d.dialect != DialectPostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(msnAllocationLock))
	return err
}

// isSQLiteBusy reports whether err is SQLITE_BUSY or one of its extended codes.
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// formatSQLiteError maps modernc.org/sqlite errors to domain codes.
func formatSQLiteError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &vippsmgmt.Error{Code: vippsmgmt.ECONFLICT, Message: "The item already exists."}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &vippsmgmt.Error{Code: vippsmgmt.ENOTFOUND, Message: "A referenced item does not exist."}
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return &vippsmgmt.Error{Code: vippsmgmt.EINVALID, Message: "A value is not allowed."}
		}
	}
	return fmt.Errorf("sqlite: %w", err)
}

// formatPostgresError maps pgx errors (SQLSTATE) to domain codes.
func formatPostgresError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return &vippsmgmt.Error{Code: vippsmgmt.ECONFLICT, Message: "The item already exists."}
		case "23503": // foreign_key_violation
			return &vippsmgmt.Error{Code: vippsmgmt.ENOTFOUND, Message: "A referenced item does not exist."}
		case "23514", "23502": // check_violation, not_null_violation
			return &vippsmgmt.Error{Code: vippsmgmt.EINVALID, Message: "A value is not allowed."}
		case "57014": // query_canceled
			return queryCanceled{err}
		case "22021", "22P05": // character_not_in_repertoire (a NUL byte), untranslatable_character
			// The domain refuses control characters before they get here; this keeps any that
			// slip through a 400, as SQLite would store them.
			return &vippsmgmt.Error{Code: vippsmgmt.EINVALID, Message: "A value contains a character that cannot be stored."}
		}
	}
	return fmt.Errorf("postgres: %w", err)
}

// queryCanceled is PostgreSQL's answer to a cancel request, which the pool sends when a
// statement's context ends (cancelOnServer): it is that context's end, as the caller would have
// seen it had the connection been cut off instead, so errors.Is finds context.Canceled and a
// caller that went away is not an internal error. A statement_timeout ends a statement with the
// same code and is reported the same way; the text still says which it was.
type queryCanceled struct{ err error }

func (e queryCanceled) Error() string        { return "postgres: " + e.err.Error() }
func (e queryCanceled) Unwrap() error        { return e.err }
func (e queryCanceled) Is(target error) bool { return target == context.Canceled }
