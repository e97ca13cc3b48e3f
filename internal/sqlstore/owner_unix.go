//go:build unix

package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// ClaimSQLite makes this process the owner of the SQLite database of dsn until release is called
// or the process ends (a killed owner releases it too). An SQLite database belongs to one server
// process: it caches sales units and the clock between writes it makes itself, so a second
// process on the same file would serve stale reads; several processes is what PostgreSQL is for.
// The claim is an exclusive flock on PATH.lock, which holds the owner's process id and start time
// for the message a second process gets. Other databases need no claim.
func ClaimSQLite(dsn string) (release func(), err error) {
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		return func() {}, nil
	}
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", lockPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(lockPath)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := strings.TrimSpace(string(owner))
			if who == "" {
				who = "another process"
			}
			return nil, fmt.Errorf("%s is in use by %s; an SQLite database belongs to one process (use PostgreSQL to run several)", path, who)
		}
		return nil, fmt.Errorf("claim %s: %w", lockPath, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "vippsmgmt process %d (since %s)\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	}
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
