//go:build !unix

package sqlstore

// ClaimSQLite has no file lock to take outside Unix; there one process per SQLite file is up to
// the operator (see the Unix version).
func ClaimSQLite(dsn string) (release func(), err error) { return func() {}, nil }
