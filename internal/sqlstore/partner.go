package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"

	"github.com/vippsmgmt/vippsmgmt"
)

// EnsureSetting returns the setting name, storing candidate first if it has none.
func (d *DB) EnsureSetting(ctx context.Context, name, candidate string) (string, error) {
	var value string
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		// DO NOTHING rather than a read first: two racing processes both end up reading the
		// winner's value.
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, candidate); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&value)
	})
	return value, err
}

// SetSetting stores value under name.
func (d *DB) SetSetting(ctx context.Context, name, value string) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return d.formatError(err)
}

// SwapSetting stores value under name only if the stored value is still old ("" for unset), in
// one statement, so two processes that read the same value cannot both change it. It reports
// whether it stored.
func (d *DB) SwapSetting(ctx context.Context, name, old, value string) (bool, error) {
	var n int64
	var err error
	if old == "" {
		n, err = d.exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, value)
	} else {
		n, err = d.exec(ctx, `UPDATE settings SET value = $1 WHERE name = $2 AND value = $3`, value, name, old)
	}
	return n == 1, err
}

// Setting returns the value of name; ENOTFOUND if unset.
func (d *DB) Setting(ctx context.Context, name string) (string, error) {
	var value string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("Setting %s is not set.", name)
	}
	return value, d.formatError(err)
}

// CreatePartner stores a new partner; ECONFLICT if the id is taken. The insert decides, so two
// concurrent creates of one id cannot both succeed.
func (d *DB) CreatePartner(ctx context.Context, p *vippsmgmt.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	created := d.now()
	var at int64
	err := d.db.QueryRowContext(ctx, `INSERT INTO partners (id, name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO NOTHING RETURNING created_at`, p.ID, p.Name, micros(created)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "A partner with the id %s already exists.", p.ID)
	} else if err != nil {
		return d.formatError(err)
	}
	p.CreatedAt = fromMicros(at)
	return nil
}

// RenamePartner changes a partner's name; ENOTFOUND if unknown, EINVALID for an invalid name.
func (d *DB) RenamePartner(ctx context.Context, id, name string) (*vippsmgmt.Partner, error) {
	var p *vippsmgmt.Partner
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanPartner(tx.QueryRowContext(ctx, `SELECT id, name, created_at FROM partners WHERE id = $1`+d.forUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Partner %s was not found.", id)
		} else if err != nil {
			return err
		}
		p.Name = name
		if err := p.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE partners SET name = $2 WHERE id = $1`, id, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpsertPartner creates the partner or renames it.
func (d *DB) UpsertPartner(ctx context.Context, p *vippsmgmt.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	created := p.CreatedAt
	if created.IsZero() {
		created = d.now()
	}
	var at int64
	err := d.db.QueryRowContext(ctx, `INSERT INTO partners (id, name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name
		RETURNING created_at`, p.ID, p.Name, micros(created)).Scan(&at)
	if err != nil {
		return d.formatError(err)
	}
	p.CreatedAt = fromMicros(at)
	return nil
}

// FindPartnerByID returns ENOTFOUND for an unknown partner.
func (d *DB) FindPartnerByID(ctx context.Context, id string) (*vippsmgmt.Partner, error) {
	return findOne(d, d.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM partners WHERE id = $1`, id), scanPartner, "Partner", id)
}

// FindPartners lists the partners matching f by id.
func (d *DB) FindPartners(ctx context.Context, f vippsmgmt.PartnerFilter) ([]*vippsmgmt.Partner, error) {
	var q query
	q.add(`SELECT id, name, created_at FROM partners WHERE 1 = 1`)
	if f.Query != "" {
		p := q.arg(likePattern(f.Query))
		q.add(` AND (lower(id) LIKE `, p, ` ESCAPE '\' OR lower(name) LIKE `, p, ` ESCAPE '\')`)
	}
	q.keyset(f.After, f.Limit, false, "id")
	return queryAll(ctx, d, q.String(), q.args, scanPartner)
}

// CountPartners returns the number of partners.
func (d *DB) CountPartners(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM partners`).Scan(&n)
	return n, d.formatError(err)
}

type scanner interface{ Scan(dest ...any) error }

// findOne scans the one row a query selected, through database/sql or pgx (whose ErrNoRows is
// sql.ErrNoRows too); without one it is ENOTFOUND, saying that the what of that key was not found.
func findOne[T, K any](d *DB, row scanner, scan func(scanner) (T, error), what string, key K) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		var none T
		return none, notFound("%s %v was not found.", what, key)
	}
	return v, d.formatError(err)
}

func scanPartner(s scanner) (*vippsmgmt.Partner, error) {
	var (
		p  vippsmgmt.Partner
		at int64
	)
	if err := s.Scan(&p.ID, &p.Name, &at); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(at)
	return &p, nil
}

const selectAPIKey = `SELECT client_id, kind, partner_id, msn, secret_hash, subscription_key_hash, revoked, created_at FROM api_keys`

// UpsertAPIKey creates a key set or replaces its hashes and revocation.
func (d *DB) UpsertAPIKey(ctx context.Context, k *vippsmgmt.APIKey) error {
	return d.upsertInTx(ctx, k, func(tx *sql.Tx) error {
		old, err := scanAPIKey(tx.QueryRowContext(ctx, selectAPIKey+` WHERE client_id = $1`+d.forUpdate(), k.ClientID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return d.insertAPIKey(ctx, tx, k)
		case err != nil:
			return err
		}
		if old.Kind != k.Kind || !sameStr(old.PartnerID, k.PartnerID) || !sameStr(old.MSN, k.MSN) {
			return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "Client id %s belongs to another owner.", k.ClientID)
		}
		k.CreatedAt = old.CreatedAt
		if bytes.Equal(old.SecretHash, k.SecretHash) && bytes.Equal(old.SubscriptionKeyHash, k.SubscriptionKeyHash) && old.Revoked == k.Revoked {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET secret_hash = $2, subscription_key_hash = $3, revoked = $4 WHERE client_id = $1`,
			k.ClientID, k.SecretHash, nullBytes(k.SubscriptionKeyHash), k.Revoked)
		return subscriptionKeyConflict(d.formatError(err))
	})
}

// CreateAPIKey stores a new key set; ECONFLICT if its client id is in use (also by a key set
// created at the same moment) or its subscription key belongs to another key set, ENOTFOUND if
// its partner or sales unit does not exist.
func (d *DB) CreateAPIKey(ctx context.Context, k *vippsmgmt.APIKey) error {
	return d.validInTx(ctx, k, func(tx *sql.Tx) error { return d.insertAPIKey(ctx, tx, k) })
}

// insertAPIKey inserts a new key set once its partner or sales unit is known to exist. A client id
// already stored, also by a transaction that committed after this one began, is ECONFLICT.
func (d *DB) insertAPIKey(ctx context.Context, tx *sql.Tx, k *vippsmgmt.APIKey) error {
	if err := referencesExist(ctx, tx, partnerRef(k.PartnerID), salesUnitRef(k.MSN)); err != nil {
		return err
	}
	created := k.CreatedAt
	if created.IsZero() {
		created = d.now()
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO api_keys
		(client_id, kind, partner_id, msn, secret_hash, subscription_key_hash, revoked, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (client_id) DO NOTHING`,
		k.ClientID, k.Kind, nullable(k.PartnerID), nullable(k.MSN), k.SecretHash, nullBytes(k.SubscriptionKeyHash), k.Revoked, micros(created))
	if err != nil {
		return subscriptionKeyConflict(d.formatError(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return d.formatError(err)
	} else if n == 0 {
		return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "Client id %s is already in use.", k.ClientID)
	}
	k.CreatedAt = created
	return nil
}

func subscriptionKeyConflict(err error) error {
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ECONFLICT {
		return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "The subscription key or client id belongs to another key set.")
	}
	return err
}

// FindAPIKeyByClientID returns ENOTFOUND for an unknown client id.
func (d *DB) FindAPIKeyByClientID(ctx context.Context, clientID string) (*vippsmgmt.APIKey, error) {
	return findOne(d, d.db.QueryRowContext(ctx, selectAPIKey+` WHERE client_id = $1`, clientID), scanAPIKey, "API key", clientID)
}

// FindAPIKeyBySubscriptionKeyHash returns ENOTFOUND when no key set has that subscription key.
func (d *DB) FindAPIKeyBySubscriptionKeyHash(ctx context.Context, hash []byte) (*vippsmgmt.APIKey, error) {
	if len(hash) == 0 {
		return nil, notFound("No key set has that subscription key.")
	}
	k, err := scanAPIKey(d.db.QueryRowContext(ctx, selectAPIKey+` WHERE subscription_key_hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("No key set has that subscription key.")
	}
	return k, d.formatError(err)
}

// FindAPIKeys lists the key sets of a partner or of a sales unit, both empty: all, in page p.
func (d *DB) FindAPIKeys(ctx context.Context, partnerID, msn string, p vippsmgmt.Page) ([]*vippsmgmt.APIKey, error) {
	var q query
	q.add(selectAPIKey, ` WHERE 1 = 1`)
	if partnerID != "" {
		q.add(` AND partner_id = `, q.arg(partnerID))
	}
	if msn != "" {
		q.add(` AND msn = `, q.arg(msn))
	}
	q.keyset(p.After, p.Limit, false, "client_id")
	return queryAll(ctx, d, q.String(), q.args, scanAPIKey)
}

// RevokeAPIKey marks the key set revoked; ENOTFOUND if unknown.
func (d *DB) RevokeAPIKey(ctx context.Context, clientID string) error {
	n, err := d.exec(ctx, `UPDATE api_keys SET revoked = $2 WHERE client_id = $1`, clientID, true)
	if err == nil && n == 0 {
		return notFound("API key %s was not found.", clientID)
	}
	return err
}

func scanAPIKey(s scanner) (*vippsmgmt.APIKey, error) {
	var (
		k          vippsmgmt.APIKey
		partner    sql.Null[string]
		msn        sql.Null[string]
		subscripti []byte
		at         int64
	)
	if err := s.Scan(&k.ClientID, &k.Kind, &partner, &msn, &k.SecretHash, &subscripti, &k.Revoked, &at); err != nil {
		return nil, err
	}
	k.PartnerID, k.MSN, k.CreatedAt = ptrOf(partner), ptrOf(msn), fromMicros(at)
	if len(subscripti) > 0 {
		k.SubscriptionKeyHash = subscripti
	}
	return &k, nil
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func sameStr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// exists returns sql.ErrNoRows when the query finds nothing.
func exists(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	var one int
	return tx.QueryRowContext(ctx, q, args...).Scan(&one)
}

// mustExist answers missing when the row q selects by key does not exist, nil when it does.
func mustExist(ctx context.Context, tx *sql.Tx, q string, key any, missing error) error {
	if err := exists(ctx, tx, q, key); errors.Is(err, sql.ErrNoRows) {
		return missing
	} else if err != nil {
		return err
	}
	return nil
}

// reference is a row's optional reference to a row of another table: key is nil when it makes none.
type reference struct {
	query string // selects the row by $1
	what  string // names the row in the answer when it is missing
	key   *string
}

func partnerRef(id *string) reference {
	return reference{`SELECT 1 FROM partners WHERE id = $1`, "Partner", id}
}

func salesUnitRef(msn *string) reference {
	return reference{`SELECT 1 FROM sales_units WHERE msn = $1`, "Sales unit", msn}
}

func pricePackageRef(id *string) reference {
	return reference{`SELECT 1 FROM price_packages WHERE id = $1`, "Price package", id}
}

// referencesExist answers ENOTFOUND naming the first reference made whose row does not exist,
// which a foreign key violation cannot name.
func referencesExist(ctx context.Context, tx *sql.Tx, refs ...reference) error {
	for _, r := range refs {
		if r.key == nil {
			continue
		}
		if err := mustExist(ctx, tx, r.query, *r.key, notFound("%s %s was not found.", r.what, *r.key)); err != nil {
			return err
		}
	}
	return nil
}

// mustBeNew answers taken when the row q selects by key exists, nil when it does not.
func mustBeNew(ctx context.Context, tx *sql.Tx, q string, key any, taken error) error {
	switch err := exists(ctx, tx, q, key); {
	case err == nil:
		return taken
	case errors.Is(err, sql.ErrNoRows):
		return nil
	default:
		return err
	}
}
