-- +goose Up
-- Console sign-ins, shared by every process on the database so that signing out and expiry hold
-- across restarts and processes. Only a hash of the session id is kept; the fingerprint of the
-- admin token a session was issued under ends it when the token changes.
CREATE TABLE console_sessions (
    id_hash           BLOB PRIMARY KEY,
    token_fingerprint BLOB NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);

CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);

-- +goose Down
DROP TABLE console_sessions;
