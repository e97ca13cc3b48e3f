package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vippsmgmt/vippsmgmt"
)

// selectSalesUnit joins the merchant for MerchantStatus, which every visibility check needs.
const selectSalesUnit = `SELECT s.msn, s.name, s.status, s.merchant_scheme, s.merchant_id, m.status, s.partner_id,
	s.settlement_bank_account, s.configuration, s.price_package_id, s.created_at, s.updated_at
	FROM sales_units s JOIN merchants m ON m.scheme = s.merchant_scheme AND m.id = s.merchant_id`

// findSalesUnitSQL reads one sales unit by its MSN, the primary key.
const findSalesUnitSQL = selectSalesUnit + ` WHERE s.msn = $1`

// CreateSalesUnit stores a new sales unit; ECONFLICT if the MSN is taken, ENOTFOUND if its
// merchant, partner or price package is unknown.
func (d *DB) CreateSalesUnit(ctx context.Context, s *vippsmgmt.SalesUnit) error {
	defer d.unitsChanged()
	return d.validInTx(ctx, s, func(tx *sql.Tx) error {
		if err := mustBeNew(ctx, tx, `SELECT 1 FROM sales_units WHERE msn = $1`, s.MSN,
			vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "MSN %s is already in use.", s.MSN)); err != nil {
			return err
		}
		if err := d.checkSalesUnitRefs(ctx, tx, s); err != nil {
			return err
		}
		s.CreatedAt = d.now()
		s.UpdatedAt = s.CreatedAt
		return d.insertSalesUnit(ctx, tx, s)
	})
}

// UpsertSalesUnit creates the sales unit or updates it; ECONFLICT if the MSN belongs to another
// merchant, ENOTFOUND if its merchant, partner or price package is unknown.
func (d *DB) UpsertSalesUnit(ctx context.Context, s *vippsmgmt.SalesUnit) error {
	defer d.unitsChanged()
	return d.upsertInTx(ctx, s, func(tx *sql.Tx) error {
		old, err := scanSalesUnit(tx.QueryRowContext(ctx, findSalesUnitSQL+d.forUpdateOf("s"), s.MSN))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if old != nil && old.Merchant != s.Merchant {
			return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "MSN %s belongs to another merchant.", s.MSN)
		}
		if err := d.checkSalesUnitRefs(ctx, tx, s); err != nil {
			return err
		}
		now := d.now()
		if old == nil {
			if s.CreatedAt.IsZero() {
				s.CreatedAt = now
			}
			s.UpdatedAt = now
			return d.insertSalesUnit(ctx, tx, s)
		}
		s.CreatedAt, s.MerchantStatus = old.CreatedAt, old.MerchantStatus
		if sameSalesUnit(old, s) {
			s.UpdatedAt = old.UpdatedAt
			return nil
		}
		s.UpdatedAt = now
		return d.updateSalesUnit(ctx, tx, s)
	})
}

// checkSalesUnitRefs names the missing item, which a foreign key violation cannot.
func (d *DB) checkSalesUnitRefs(ctx context.Context, tx *sql.Tx, s *vippsmgmt.SalesUnit) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM merchants WHERE scheme = $1 AND id = $2`, s.Merchant.Scheme, s.Merchant.ID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("Merchant %s was not found.", s.Merchant)
	} else if err != nil {
		return err
	}
	s.MerchantStatus = status
	return referencesExist(ctx, tx, partnerRef(s.PartnerID), pricePackageRef(s.PricePackageID))
}

func sameSalesUnit(a, b *vippsmgmt.SalesUnit) bool {
	return a.Name == b.Name && a.Status == b.Status && sameStr(a.PartnerID, b.PartnerID) &&
		sameStr(a.PricePackageID, b.PricePackageID) && reflect.DeepEqual(a.SettlementBankAccount, b.SettlementBankAccount) &&
		reflect.DeepEqual(a.Configuration, b.Configuration)
}

// salesUnitJSON encodes the columns of a sales unit that are stored as JSON.
func salesUnitJSON(s *vippsmgmt.SalesUnit) (account, configuration any, err error) {
	if account, err = jsonArg(s.SettlementBankAccount); err != nil {
		return nil, nil, err
	}
	if configuration, err = jsonArg(s.Configuration); err != nil {
		return nil, nil, err
	}
	return account, configuration, nil
}

func (d *DB) insertSalesUnit(ctx context.Context, tx *sql.Tx, s *vippsmgmt.SalesUnit) error {
	acct, conf, err := salesUnitJSON(s)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sales_units
		(msn, name, status, merchant_scheme, merchant_id, partner_id, settlement_bank_account, configuration,
		price_package_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.MSN, s.Name, s.Status, s.Merchant.Scheme, s.Merchant.ID, nullable(s.PartnerID), acct, conf,
		nullable(s.PricePackageID), micros(s.CreatedAt), micros(s.UpdatedAt))
	if vippsmgmt.ErrorCode(d.formatError(err)) == vippsmgmt.ECONFLICT {
		return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "MSN %s is already taken.", s.MSN)
	}
	return err
}

func (d *DB) updateSalesUnit(ctx context.Context, tx *sql.Tx, s *vippsmgmt.SalesUnit) error {
	acct, conf, err := salesUnitJSON(s)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE sales_units SET name = $2, status = $3, partner_id = $4,
		settlement_bank_account = $5, configuration = $6, price_package_id = $7, updated_at = $8 WHERE msn = $1`,
		s.MSN, s.Name, s.Status, nullable(s.PartnerID), acct, conf, nullable(s.PricePackageID), micros(s.UpdatedAt))
	return err
}

// FindSalesUnitByMSN returns the unit with MerchantStatus filled in; ENOTFOUND if unknown.
func (d *DB) FindSalesUnitByMSN(ctx context.Context, msn string) (*vippsmgmt.SalesUnit, error) {
	var gen uint64
	if d.units != nil {
		if s, ok := d.units.get(msn); ok {
			return s, nil
		}
		gen = d.units.gen.Load()
	}
	var (
		s   *vippsmgmt.SalesUnit
		err error
	)
	if d.dialect == DialectPostgres {
		s, err = d.findSalesUnitPostgres(ctx, msn)
	} else {
		s, err = findOne(d, d.findSalesUnit.QueryRowContext(ctx, msn), scanSalesUnit, "Sales unit", msn)
	}
	if err != nil {
		return nil, d.formatError(err)
	}
	if d.units != nil {
		d.units.put(gen, s)
	}
	return s, nil
}

// FindSalesUnitDerived returns derive(unit) for the sales unit msn; ENOTFOUND if unknown. Where
// units are cached (SQLite), the value is kept with the cached unit: until the unit changes or its
// cache entry expires, later calls return the same value without copying the unit or calling
// derive. derive may keep the unit it is given, which no one else holds; its value must depend
// on nothing but the unit and is shared, so no one may change it. Every caller must pass a derive
// giving the same kind of value: the API's GET of a sales unit keeps its answer's bytes.
func (d *DB) FindSalesUnitDerived(ctx context.Context, msn string, derive func(*vippsmgmt.SalesUnit) any) (any, error) {
	if d.units == nil {
		su, err := d.FindSalesUnitByMSN(ctx, msn)
		if err != nil {
			return nil, err
		}
		return derive(su), nil
	}
	if v, ok := d.units.getDerived(msn); ok {
		return v, nil
	}
	gen := d.units.gen.Load()
	su, err := d.FindSalesUnitByMSN(ctx, msn)
	if err != nil {
		return nil, err
	}
	v := derive(su)
	d.units.putDerived(gen, msn, v)
	return v, nil
}

// salesUnitQuery builds the WHERE clause of f, combining filters with AND.
func salesUnitQuery(q *query, f vippsmgmt.SalesUnitFilter) {
	q.add(` WHERE 1 = 1`)
	if f.PartnerID != nil {
		q.add(` AND s.partner_id = `, q.arg(*f.PartnerID))
	}
	if f.Merchant != nil {
		q.add(` AND s.merchant_scheme = `, q.arg(f.Merchant.Scheme), ` AND s.merchant_id = `, q.arg(f.Merchant.ID))
	}
	if f.Visible {
		q.add(` AND s.status = 'ACTIVE' AND m.status = 'ACTIVE'`)
	}
	if f.Query != "" {
		p := q.arg(likePattern(f.Query))
		q.add(` AND (s.msn LIKE `, p, ` ESCAPE '\' OR lower(s.name) LIKE `, p, ` ESCAPE '\')`)
	}
	q.keyset(f.After, f.Limit, false, "s.msn")
}

// FindSalesUnits returns full units ordered by MSN.
func (d *DB) FindSalesUnits(ctx context.Context, f vippsmgmt.SalesUnitFilter) ([]*vippsmgmt.SalesUnit, error) {
	var q query
	q.add(selectSalesUnit)
	salesUnitQuery(&q, f)
	return queryAll(ctx, d, q.String(), q.args, scanSalesUnit)
}

// EachSalesUnit streams the MSN and name of every matching unit, ordered by MSN, to fn; a partner's
// list can be long, so rows go to fn as they arrive.
func (d *DB) EachSalesUnit(ctx context.Context, f vippsmgmt.SalesUnitFilter, fn func(vippsmgmt.MsnInfo) error) error {
	var q query
	q.add(`SELECT s.msn, s.name FROM sales_units s JOIN merchants m ON m.scheme = s.merchant_scheme AND m.id = s.merchant_id`)
	salesUnitQuery(&q, f)
	rows, err := d.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return d.formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var info vippsmgmt.MsnInfo
		if err := rows.Scan(&info.MSN, &info.Name); err != nil {
			return d.formatError(err)
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return d.formatError(rows.Err())
}

// UpdateSalesUnit applies upd; ENOTFOUND if unknown.
func (d *DB) UpdateSalesUnit(ctx context.Context, msn string, upd vippsmgmt.SalesUnitUpdate) (*vippsmgmt.SalesUnit, error) {
	defer d.unitsChanged()
	var s *vippsmgmt.SalesUnit
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		s, err = scanSalesUnit(tx.QueryRowContext(ctx, findSalesUnitSQL+d.forUpdateOf("s"), msn))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Sales unit %s was not found.", msn)
		} else if err != nil {
			return err
		}
		old := *s
		if err := upd.Apply(s); err != nil {
			return err
		}
		if err := d.checkSalesUnitRefs(ctx, tx, s); err != nil {
			return err
		}
		if sameSalesUnit(&old, s) {
			return nil
		}
		s.UpdatedAt = d.now()
		return d.updateSalesUnit(ctx, tx, s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func scanSalesUnit(sc scanner) (*vippsmgmt.SalesUnit, error) {
	var (
		s              vippsmgmt.SalesUnit
		partner, pp    sql.Null[string]
		acct, conf     sql.NullString
		created, updat int64
		err            error
	)
	if err := sc.Scan(&s.MSN, &s.Name, &s.Status, &s.Merchant.Scheme, &s.Merchant.ID, &s.MerchantStatus, &partner,
		&acct, &conf, &pp, &created, &updat); err != nil {
		return nil, err
	}
	if s.SettlementBankAccount, err = jsonScan[vippsmgmt.BankAccount](acct); err != nil {
		return nil, err
	}
	if s.Configuration, err = scanConfiguration(conf); err != nil {
		return nil, err
	}
	s.PartnerID, s.PricePackageID = ptrOf(partner), ptrOf(pp)
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updat)
	return &s, nil
}

// findSalesUnitPostgres reads a sales unit on a pooled connection through pgx itself, with the
// caller's context. Through database/sql, a query with a context that can end starts a goroutine
// per query to watch it (Rows.awaitDone) and wakes it again on Close: in a server process that is
// not kept busy, those handoffs wake idle threads (futex calls, context switches) on every GET.
// pgx watches the same context without a goroutine (context.AfterFunc), so a caller that goes
// away still ends the query (cancelOnServer), as before.
// pgx prepares the statement on each connection at its first use and keeps it (its statement
// cache), so a read is one round trip: Bind, Execute and Sync in one write, the row in one read.
func (d *DB) findSalesUnitPostgres(ctx context.Context, msn string) (*vippsmgmt.SalesUnit, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var s *vippsmgmt.SalesUnit
	err = conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected PostgreSQL driver connection %T", driverConn)
		}
		var err error
		s, err = findOne(d, c.Conn().QueryRow(ctx, findSalesUnitSQL, msn), scanSalesUnit, "Sales unit", msn)
		return err
	})
	return s, err
}
