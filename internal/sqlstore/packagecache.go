package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// packageCache keeps, on PostgreSQL, the price packages that prefills chose, each with the
// version of its row when it was read (packageVersion). A prefill naming a cached package is
// judged by vippsmgmt.PricePackageProblem without a read, and stored by one statement that
// writes nothing unless the package's row is still that version (storeKeyedOrderSQL); a package
// changed since, by this process or another, sends the prefill to the transaction, which reads
// it again. So the rule stays in Go alone, and a prefill naming a package costs one round trip,
// as one without does. nil on SQLite, where the group's transaction reads the package.
type packageCache struct {
	mu sync.Mutex
	m  map[string]cachedPackage
}

type cachedPackage struct {
	p       *vippsmgmt.PricePackage // shared: never changed
	version string
	// expires carries the monotonic clock; the store's clock is the sandbox's, which jumps.
	expires time.Time
}

const (
	packageCacheMax = 1024 // past it the cache starts over
	// packageCacheTTL has a package read again now and then, so that a row version given out
	// again (the transaction ids it is made of wrap around) cannot pass for the one cached.
	packageCacheTTL = time.Minute
)

// packageVersion is the version of a price_packages row: the transaction that wrote it, which
// every UPDATE of the row changes. Only PostgreSQL has it.
const packageVersion = `CAST(xmin AS TEXT)`

// selectPricePackageVersion is selectPricePackage with the row's version as its last column.
var selectPricePackageVersion = strings.Replace(selectPricePackage, " FROM price_packages", ", "+packageVersion+" FROM price_packages", 1)

func newPackageCache() *packageCache { return &packageCache{m: map[string]cachedPackage{}} }

// find returns the package id and the version of its row, from the cache or else read on db; a
// nil package when there is none, which is not cached.
func (c *packageCache) find(ctx context.Context, db rowQuerier, id string) (*vippsmgmt.PricePackage, string, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && time.Until(e.expires) > 0 {
		return e.p, e.version, nil
	}
	var version string
	p, err := scanPricePackage(withVersion{db.QueryRowContext(ctx, selectPricePackageVersion+` WHERE id = $1`, id), &version})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	} else if err != nil {
		return nil, "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= packageCacheMax {
		clear(c.m)
	}
	c.m[id] = cachedPackage{p: p, version: version, expires: time.Now().Add(packageCacheTTL)}
	return p, version, nil
}

// forget drops the package id, found changed since it was cached.
func (c *packageCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// withVersion scans a row of selectPricePackageVersion: the package's columns, then its version.
type withVersion struct {
	row     scanner
	version *string
}

func (w withVersion) Scan(dest ...any) error { return w.row.Scan(append(dest, w.version)...) }
