package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"reflect"

	"github.com/vippsmgmt/vippsmgmt"
)

const selectMerchant = `SELECT scheme, id, name, status, country_code, business_address, business_post_address,
	created_at, updated_at FROM merchants`

// CreateMerchant stores a new merchant; ECONFLICT if its business identifier is taken.
func (d *DB) CreateMerchant(ctx context.Context, m *vippsmgmt.Merchant) error {
	return d.validInTx(ctx, m, func(tx *sql.Tx) error {
		inserted, err := d.insertMerchant(ctx, tx, m)
		if err == nil && !inserted {
			return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "The merchant %s already exists.", m.BusinessIdentifier)
		}
		return err
	})
}

// insertMerchant inserts m unless its business identifier exists and reports whether it did. A
// new merchant takes CreatedAt and UpdatedAt when they are set, now otherwise.
func (d *DB) insertMerchant(ctx context.Context, tx *sql.Tx, m *vippsmgmt.Merchant) (bool, error) {
	addr, err := jsonArg(m.BusinessAddress)
	if err != nil {
		return false, err
	}
	post, err := jsonArg(m.BusinessPostAddress)
	if err != nil {
		return false, err
	}
	now := d.now()
	created, updated := m.CreatedAt, m.UpdatedAt
	if created.IsZero() {
		created = now
	}
	if updated.IsZero() {
		updated = now
	}
	// Insert first so concurrent writes of a new merchant cannot both miss and then collide.
	res, err := tx.ExecContext(ctx, `INSERT INTO merchants
		(scheme, id, name, status, country_code, business_address, business_post_address, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (scheme, id) DO NOTHING`,
		m.BusinessIdentifier.Scheme, m.BusinessIdentifier.ID, m.Name, m.Status, m.CountryCode, addr, post, micros(created), micros(updated))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n != 1 {
		return false, err
	}
	m.CreatedAt, m.UpdatedAt = created, updated
	return true, nil
}

// SetMerchantStatus activates or deactivates a merchant; the same status again changes nothing,
// not even UpdatedAt.
func (d *DB) SetMerchantStatus(ctx context.Context, id vippsmgmt.BusinessIdentifier, status string) (*vippsmgmt.Merchant, error) {
	defer d.unitsChanged()
	var m *vippsmgmt.Merchant
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = scanMerchant(tx.QueryRowContext(ctx, selectMerchant+` WHERE scheme = $1 AND id = $2`+d.forUpdate(), id.Scheme, id.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Merchant %s was not found.", id)
		} else if err != nil {
			return err
		}
		if m.Status == status {
			return nil
		}
		m.Status, m.UpdatedAt = status, d.now()
		if err := m.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE merchants SET status = $3, updated_at = $4 WHERE scheme = $1 AND id = $2`,
			id.Scheme, id.ID, status, micros(m.UpdatedAt))
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UpsertMerchant creates the merchant or updates it; same data twice changes nothing, not even
// UpdatedAt. A new merchant takes CreatedAt and UpdatedAt when they are set (fixtures recreate an
// account as it was); an existing one keeps its CreatedAt, and a change sets UpdatedAt to now.
func (d *DB) UpsertMerchant(ctx context.Context, m *vippsmgmt.Merchant) error {
	defer d.unitsChanged()
	return d.validInTx(ctx, m, func(tx *sql.Tx) error {
		if inserted, err := d.insertMerchant(ctx, tx, m); err != nil || inserted {
			return err
		}
		old, err := scanMerchant(tx.QueryRowContext(ctx, selectMerchant+` WHERE scheme = $1 AND id = $2`+d.forUpdate(),
			m.BusinessIdentifier.Scheme, m.BusinessIdentifier.ID))
		if err != nil {
			return err
		}
		m.CreatedAt = old.CreatedAt
		if old.Name == m.Name && old.Status == m.Status && old.CountryCode == m.CountryCode &&
			reflect.DeepEqual(old.BusinessAddress, m.BusinessAddress) && reflect.DeepEqual(old.BusinessPostAddress, m.BusinessPostAddress) {
			m.UpdatedAt = old.UpdatedAt
			return nil
		}
		addr, err := jsonArg(m.BusinessAddress)
		if err != nil {
			return err
		}
		post, err := jsonArg(m.BusinessPostAddress)
		if err != nil {
			return err
		}
		m.UpdatedAt = d.now()
		_, err = tx.ExecContext(ctx, `UPDATE merchants SET name = $3, status = $4, country_code = $5,
			business_address = $6, business_post_address = $7, updated_at = $8 WHERE scheme = $1 AND id = $2`,
			m.BusinessIdentifier.Scheme, m.BusinessIdentifier.ID, m.Name, m.Status, m.CountryCode, addr, post, micros(m.UpdatedAt))
		return err
	})
}

// FindMerchant returns ENOTFOUND for an unknown business identifier.
func (d *DB) FindMerchant(ctx context.Context, id vippsmgmt.BusinessIdentifier) (*vippsmgmt.Merchant, error) {
	return findOne(d, d.db.QueryRowContext(ctx, selectMerchant+` WHERE scheme = $1 AND id = $2`, id.Scheme, id.ID), scanMerchant, "Merchant", id)
}

// FindMerchants lists merchants by name; Query matches name or business id, case-insensitive.
func (d *DB) FindMerchants(ctx context.Context, f vippsmgmt.MerchantFilter) ([]*vippsmgmt.Merchant, error) {
	var q query
	q.add(selectMerchant, ` WHERE 1 = 1`)
	if f.Query != "" {
		p := q.arg(likePattern(f.Query))
		q.add(` AND (lower(name) LIKE `, p, ` ESCAPE '\' OR lower(id) LIKE `, p, ` ESCAPE '\')`)
	}
	q.keyset(f.After, f.Limit, false, "name", "scheme", "id")
	return queryAll(ctx, d, q.String(), q.args, scanMerchant)
}

func scanMerchant(s scanner) (*vippsmgmt.Merchant, error) {
	var (
		m              vippsmgmt.Merchant
		addr, post     sql.NullString
		created, updat int64
		err            error
	)
	if err := s.Scan(&m.BusinessIdentifier.Scheme, &m.BusinessIdentifier.ID, &m.Name, &m.Status, &m.CountryCode,
		&addr, &post, &created, &updat); err != nil {
		return nil, err
	}
	if m.BusinessAddress, err = jsonScan[vippsmgmt.Address](addr); err != nil {
		return nil, err
	}
	if m.BusinessPostAddress, err = jsonScan[vippsmgmt.Address](post); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updat)
	return &m, nil
}

// findMerchantTx reads a merchant inside a transaction; sql.ErrNoRows when unknown.
func (d *DB) findMerchantTx(ctx context.Context, tx *sql.Tx, id vippsmgmt.BusinessIdentifier) (*vippsmgmt.Merchant, error) {
	return scanMerchant(tx.QueryRowContext(ctx, selectMerchant+` WHERE scheme = $1 AND id = $2`, id.Scheme, id.ID))
}

// CreatePricePackage stores a new price package; ENOTFOUND if its partner is unknown, ECONFLICT
// if the id is taken.
func (d *DB) CreatePricePackage(ctx context.Context, p *vippsmgmt.PricePackage) error {
	return d.validInTx(ctx, p, func(tx *sql.Tx) error {
		if err := mustBeNew(ctx, tx, `SELECT 1 FROM price_packages WHERE id = $1`, p.ID, pricePackageTaken(p.ID)); err != nil {
			return err
		}
		return d.insertPricePackage(ctx, tx, p)
	})
}

// pricePackageTaken answers a create of a price package whose id is in use.
func pricePackageTaken(id string) error {
	return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "A price package with the id %s already exists.", id)
}

// insertPricePackage inserts a price package of a partner that must exist. An id taken since the
// caller looked (by a transaction that committed meanwhile) is ECONFLICT too.
func (d *DB) insertPricePackage(ctx context.Context, tx *sql.Tx, p *vippsmgmt.PricePackage) error {
	if err := referencesExist(ctx, tx, partnerRef(&p.PartnerID)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO price_packages
		(id, partner_id, name, description, visible_in_signup_form, product_type, market, commission)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, p.PartnerID, p.Name, p.Description, nullable(p.VisibleInSignupForm), nullable(p.ProductType), nullable(p.Market), nullable(p.Commission))
	if vippsmgmt.ErrorCode(d.formatError(err)) == vippsmgmt.ECONFLICT {
		return pricePackageTaken(p.ID)
	}
	return err
}

// UpsertPricePackage creates or updates a price package; ECONFLICT if the id belongs to another
// partner, ENOTFOUND if the partner is unknown.
func (d *DB) UpsertPricePackage(ctx context.Context, p *vippsmgmt.PricePackage) error {
	return d.upsertInTx(ctx, p, func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT partner_id FROM price_packages WHERE id = $1`+d.forUpdate(), p.ID).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return d.insertPricePackage(ctx, tx, p)
		case err != nil:
			return err
		case owner != p.PartnerID:
			return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "Price package %s belongs to another partner.", p.ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE price_packages SET name = $2, description = $3, visible_in_signup_form = $4,
			product_type = $5, market = $6, commission = $7 WHERE id = $1`,
			p.ID, p.Name, p.Description, nullable(p.VisibleInSignupForm), nullable(p.ProductType), nullable(p.Market), nullable(p.Commission))
		return err
	})
}

const selectPricePackage = `SELECT id, partner_id, name, description, visible_in_signup_form, product_type, market,
	commission FROM price_packages`

// FindPricePackages lists the packages matching f by partner, then name.
func (d *DB) FindPricePackages(ctx context.Context, f vippsmgmt.PricePackageFilter) ([]*vippsmgmt.PricePackage, error) {
	var q query
	q.add(selectPricePackage, ` WHERE 1 = 1`)
	if f.PartnerID != "" {
		q.add(` AND partner_id = `, q.arg(f.PartnerID))
	}
	if f.Query != "" {
		p := q.arg(likePattern(f.Query))
		q.add(` AND (lower(id) LIKE `, p, ` ESCAPE '\' OR lower(name) LIKE `, p, ` ESCAPE '\' OR lower(partner_id) LIKE `, p,
			` ESCAPE '\' OR lower(description) LIKE `, p, ` ESCAPE '\')`)
	}
	q.keyset(f.After, f.Limit, false, "partner_id", "name", "id")
	return queryAll(ctx, d, q.String(), q.args, scanPricePackage)
}

// FindPricePackageByID returns ENOTFOUND for an unknown id.
func (d *DB) FindPricePackageByID(ctx context.Context, id string) (*vippsmgmt.PricePackage, error) {
	return findOne(d, d.db.QueryRowContext(ctx, selectPricePackage+` WHERE id = $1`, id), scanPricePackage, "Price package", id)
}

func scanPricePackage(s scanner) (*vippsmgmt.PricePackage, error) {
	var (
		p                    vippsmgmt.PricePackage
		visible              sql.Null[bool]
		product, market, com sql.Null[string]
	)
	if err := s.Scan(&p.ID, &p.PartnerID, &p.Name, &p.Description, &visible, &product, &market, &com); err != nil {
		return nil, err
	}
	p.VisibleInSignupForm, p.ProductType, p.Market, p.Commission = ptrOf(visible), ptrOf(product), ptrOf(market), ptrOf(com)
	return &p, nil
}
