package main

import (
	"context"
	"fmt"
	"io"

	"github.com/vippsmgmt/vippsmgmt/internal/auth"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/secretkey"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

// runRotateSecretKey re-encrypts the signing key and pepper stored in a database from the old
// secret key to the new one. Servers on the database are stopped first and started again with the
// new key file. Plain-text values (a database that never had a key) are encrypted too.
func runRotateSecretKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := usageFlags("rotate-secret-key", `usage: vippsmgmt rotate-secret-key --db DB --old-key-file FILE --new-key-file FILE

Re-encrypts the signing key and secret pepper stored in the database under a new secret key
file. Stop every server on the database first and start them again with the new file; it can be
run again if interrupted.

flags:
`, stderr)
	db := fs.String("db", getenv("VIPPSMGMT_DB"), "sqlite:PATH or a postgres:// URL (VIPPSMGMT_DB)")
	oldFile := fs.String("old-key-file", getenv("VIPPSMGMT_SECRET_KEY_FILE"), "the secret key file the database is encrypted with now (VIPPSMGMT_SECRET_KEY_FILE)")
	newFile := fs.String("new-key-file", "", "the new secret key file")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *db == "":
		return cli.Usagef("--db is required")
	case *oldFile == "" || *newFile == "":
		return cli.Usagef("--old-key-file and --new-key-file are required")
	}
	oldKey, err := secretkey.Load(*oldFile)
	if err != nil {
		return cli.Usagef("--old-key-file: %v", err)
	}
	newKey, err := secretkey.Load(*newFile)
	if err != nil {
		return cli.Usagef("--new-key-file: %v", err)
	}
	release, err := sqlstore.ClaimSQLite(*db)
	if err != nil {
		return cli.Usagef("--db: %v", err)
	}
	defer release()
	store, err := sqlstore.Open(ctx, *db, clock.New())
	if err != nil {
		return cli.Usagef("--db: %v", err)
	}
	defer store.Close()
	n, err := secretkey.Rotate(ctx, store, oldKey, newKey, auth.SecretSettings)
	if err != nil {
		return fmt.Errorf("rotate secret key: %w", err)
	}
	fmt.Fprintf(stdout, "re-encrypted %d secret settings from key %s to key %s; start the servers with --secret-key-file %s\n",
		n, oldKey.ID(), newKey.ID(), *newFile)
	return nil
}
