package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// CreateConsoleSession stores a console sign-in and, in the same transaction, deletes the sessions
// that expired by its creation or were issued under another admin token, so the table holds only
// live sessions.
func (d *DB) CreateConsoleSession(ctx context.Context, s *vippsmgmt.ConsoleSession) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1 OR token_fingerprint <> $2`,
			micros(s.CreatedAt), s.TokenFingerprint); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (id_hash, token_fingerprint, created_at, expires_at)
			VALUES ($1, $2, $3, $4)`, s.IDHash, s.TokenFingerprint, micros(s.CreatedAt), micros(s.ExpiresAt))
		return err
	})
}

// FindConsoleSession returns the session of idHash issued under fingerprint and live at now;
// ENOTFOUND otherwise.
func (d *DB) FindConsoleSession(ctx context.Context, idHash, fingerprint []byte, now time.Time) (*vippsmgmt.ConsoleSession, error) {
	s := &vippsmgmt.ConsoleSession{IDHash: idHash, TokenFingerprint: fingerprint}
	var created, expires int64
	err := d.db.QueryRowContext(ctx, `SELECT created_at, expires_at FROM console_sessions
		WHERE id_hash = $1 AND token_fingerprint = $2 AND expires_at > $3`, idHash, fingerprint, micros(now)).Scan(&created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("The console session is not signed in.")
	} else if err != nil {
		return nil, d.formatError(err)
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return s, nil
}

// DeleteConsoleSession signs a console session out; deleting one that is gone is not an error.
func (d *DB) DeleteConsoleSession(ctx context.Context, idHash []byte) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash = $1`, idHash)
	return d.formatError(err)
}
