package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

const selectOrder = `SELECT id, type, partner_id, status, merchant_scheme, merchant_id, product_type, details,
	rejection_reason, result_msn, result_name, created_at, updated_at, viewed_at, submitted_at, decided_at,
	expired_at FROM product_orders`

// selectOrderSummary reads orders without their details, which are most of a row's decoding.
var selectOrderSummary = strings.Replace(selectOrder, "product_type, details,", "product_type, '{}',", 1)

// The statements of a prefill, prepared at Open.
const (
	insertIdemKeySQL = `INSERT INTO idempotency_keys (partner_id, idem_key, request_hash, order_id, created_at, response)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (partner_id, idem_key) DO NOTHING`
	insertOrderSQL = `INSERT INTO product_orders (id, type, partner_id, status, merchant_scheme, merchant_id,
		product_type, details, rejection_reason, result_msn, result_name, created_at, updated_at, viewed_at,
		submitted_at, decided_at, expired_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
	// storeKeyedOrderSQL (PostgreSQL) is insertIdemKeySQL and then insertOrderSQL in one
	// statement, which is its own transaction: the order is inserted only when its key's row is
	// new, and a failing order insert takes the key's row back with it. With $23 and $24 set, it
	// writes nothing unless the price package $23 is still at row version $24, the one the order
	// was judged against (packageCache). Its parameters are the key's ($1-$5), orderArgs ($6-$22)
	// and the package's; they are cast because a SELECT's list gives them no column type to take.
	storeKeyedOrderSQL = `WITH stored_key AS (
		INSERT INTO idempotency_keys (partner_id, idem_key, request_hash, order_id, created_at, response)
		SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BYTEA), CAST($6 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS BYTEA)
		WHERE CAST($23 AS TEXT) IS NULL
			OR EXISTS (SELECT 1 FROM price_packages WHERE id = $23 AND ` + packageVersion + ` = CAST($24 AS TEXT))
		ON CONFLICT (partner_id, idem_key) DO NOTHING
		RETURNING order_id)
		INSERT INTO product_orders (id, type, partner_id, status, merchant_scheme, merchant_id,
		product_type, details, rejection_reason, result_msn, result_name, created_at, updated_at, viewed_at,
		submitted_at, decided_at, expired_at)
		SELECT order_id, CAST($7 AS TEXT), CAST($8 AS TEXT), CAST($9 AS TEXT), CAST($10 AS TEXT), CAST($11 AS TEXT),
			CAST($12 AS TEXT), CAST($13 AS TEXT), CAST($14 AS TEXT), CAST($15 AS TEXT), CAST($16 AS TEXT),
			CAST($17 AS BIGINT), CAST($18 AS BIGINT), CAST($19 AS BIGINT), CAST($20 AS BIGINT), CAST($21 AS BIGINT),
			CAST($22 AS BIGINT)
		FROM stored_key`
)

// CreateProductOrder stores a new order, at most once per idempotency key. On SQLite concurrent
// calls share a transaction (see groupcommit.go); each returns once its order is committed.
func (d *DB) CreateProductOrder(ctx context.Context, o *vippsmgmt.ProductOrder, idem *vippsmgmt.Idempotency) (string, bool, error) {
	p, err := d.pendingOrder(ctx, o, idem)
	if err != nil {
		return "", false, err
	}
	if d.prefills != nil {
		d.prefills.submit(p)
	} else {
		d.storeAlone(p)
	}
	return p.id, p.replayed, p.err
}

// CreateProductOrderAlone is CreateProductOrder in a transaction of its own, never shared with
// concurrent calls: what PostgreSQL always does, and the baseline the load tool compares
// SQLite's group commit with.
func (d *DB) CreateProductOrderAlone(ctx context.Context, o *vippsmgmt.ProductOrder, idem *vippsmgmt.Idempotency) (string, bool, error) {
	p, err := d.pendingOrder(ctx, o, idem)
	if err != nil {
		return "", false, err
	}
	d.storeAlone(p)
	return p.id, p.replayed, p.err
}

// pendingOrder completes and validates a new order before it waits for a transaction.
func (d *DB) pendingOrder(ctx context.Context, o *vippsmgmt.ProductOrder, idem *vippsmgmt.Idempotency) (*pendingOrder, error) {
	now := d.now()
	if o.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		o.ID = id.String()
	}
	if o.Type == vippsmgmt.OrderPrefill || o.Status == "" {
		o.Status = vippsmgmt.StatusReceived
	}
	o.CreatedAt, o.UpdatedAt = now, now
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &pendingOrder{ctx: ctx, o: o, idem: idem, now: now}, nil
}

// prefillTx is a transaction storing prefills, with the statements of a prefill bound to it once.
type prefillTx struct {
	*sql.Tx
	insertIdemKey, insertOrder *sql.Stmt
}

func (d *DB) prefillTx(ctx context.Context, tx *sql.Tx) *prefillTx {
	return &prefillTx{Tx: tx, insertIdemKey: tx.StmtContext(ctx, d.insertIdemKeyStmt), insertOrder: tx.StmtContext(ctx, d.insertOrderStmt)}
}

// createOrderTx stores o in tx, or finds the order an earlier call with the same idempotency key
// stored and returns its id with replayed set. The order's refusals (its key used with another
// request, a price package it may not choose) are decided before its first write, so a refused
// order leaves nothing behind in a transaction it shares with others. wrote reports an error that
// came after a write, which only the transaction's rollback undoes: an order id taken already, or
// a partner deleted since its caller was authenticated, which the order's foreign key finds.
func (d *DB) createOrderTx(ctx context.Context, tx *prefillTx, o *vippsmgmt.ProductOrder, idem *vippsmgmt.Idempotency, now time.Time) (id string, replayed, wrote bool, err error) {
	refusal := d.checkPrefillPricePackage(ctx, tx.Tx, o)
	if refusal != nil && vippsmgmt.ErrorCode(refusal) != vippsmgmt.EINVALID {
		return "", false, false, refusal
	}
	if idem != nil {
		if refusal != nil {
			// A retry of a stored request is answered as the first was, even when the same
			// order would be refused now (its price package was deleted since, say).
			if id, err := d.findIdempotencyKey(ctx, tx.Tx, idem); !errors.Is(err, sql.ErrNoRows) {
				return id, err == nil, false, err
			}
			return "", false, false, refusal
		}
		// On PostgreSQL a concurrent insert of the same key waits here for the first
		// transaction and then inserts nothing, so only one order is ever created.
		answer, err := answerToStore(idem, o.ID)
		if err != nil {
			return "", false, false, err
		}
		res, err := tx.insertIdemKey.ExecContext(ctx, idem.PartnerID, idem.Key, idem.RequestHash, o.ID, micros(now), answer)
		if err != nil {
			return "", false, false, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return "", false, true, err
		}
		if n == 0 {
			id, err := d.findIdempotencyKey(ctx, tx.Tx, idem)
			return id, err == nil, false, err
		}
	} else if refusal != nil {
		return "", false, false, refusal
	}
	if err := d.insertOrderRow(ctx, tx.insertOrder, o); err != nil {
		return "", false, idem != nil, err
	}
	return o.ID, false, false, nil
}

// rowQuerier is a transaction or the pool.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// errInTx tells storeAlone that storeOrderAtOnce cannot store the order, which createOrderTx
// then stores in a transaction.
var errInTx = errors.New("sqlstore: the order is stored in a transaction")

// storeOrderAtOnce is createOrderTx in one statement, on PostgreSQL: its Idempotency-Key's row and
// the order are written by one statement, which is a transaction of its own, so the order costs
// one round trip to the database instead of five (BEGIN, a read of its price package, two
// inserts, COMMIT). A key stored before is answered as createOrderTx answers it: the stored
// order's id, or ECONFLICT for another body. A prefill naming a price package is judged against
// the package as packageCache holds it, and stored only while the package is still that; it
// answers errInTx, for createOrderTx to decide, when it has no key (the API always sends one),
// when its package would refuse it (a stored key's replay and the refusal are decided there), or
// when the package has changed since it was read.
func (d *DB) storeOrderAtOnce(ctx context.Context, o *vippsmgmt.ProductOrder, idem *vippsmgmt.Idempotency, now time.Time) (id string, replayed bool, err error) {
	var pkgID, pkgVersion any // no package: NULL
	if choosesPricePackage(o) {
		if idem == nil {
			return "", false, errInTx
		}
		p, version, err := d.packages.find(ctx, d.db, *o.Details.PricePackageID)
		if err != nil {
			return "", false, d.formatError(err)
		}
		if p == nil || vippsmgmt.PricePackageProblem(p, *o.PartnerID, o.ProductType) != "" {
			return "", false, errInTx
		}
		pkgID, pkgVersion = p.ID, version
	}
	if idem == nil {
		if err := d.insertOrderRow(ctx, d.insertOrderStmt, o); err != nil {
			return "", false, d.formatError(err)
		}
		return o.ID, false, nil
	}
	args, err := orderArgs(o)
	if err != nil {
		return "", false, err
	}
	answer, err := answerToStore(idem, o.ID)
	if err != nil {
		return "", false, err
	}
	args = append(append([]any{idem.PartnerID, idem.Key, idem.RequestHash, micros(now), answer}, args...), pkgID, pkgVersion)
	res, err := d.storeKeyedOrderStmt.ExecContext(ctx, args...)
	if err != nil {
		return "", false, d.formatError(d.orderInsertError(o, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", false, d.formatError(err)
	}
	if n == 1 {
		return o.ID, false, nil
	}
	// A concurrent first use of the key has been waited for by the insert and is committed.
	id, err = d.findIdempotencyKey(ctx, d.db, idem)
	if errors.Is(err, sql.ErrNoRows) && pkgID != nil {
		// Not the key: the package, which has changed since it was read.
		d.packages.forget(pkgID.(string))
		return "", false, errInTx
	} else if err != nil {
		return "", false, d.formatError(err)
	}
	return id, true, nil
}

// answerToStore is the answer kept with idem's key for replays of the order id: none without
// idem.Answer.
func answerToStore(idem *vippsmgmt.Idempotency, id string) ([]byte, error) {
	if idem.Answer == nil {
		return nil, nil
	}
	return idem.Answer(id)
}

// findIdempotencyKey returns the order stored under idem's key, with idem.Replayed set to the
// stored answer; ECONFLICT when the key was used with another request, sql.ErrNoRows when unused.
func (d *DB) findIdempotencyKey(ctx context.Context, tx rowQuerier, idem *vippsmgmt.Idempotency) (string, error) {
	var (
		hash, stored []byte
		orderID      string
	)
	if err := tx.QueryRowContext(ctx, `SELECT request_hash, order_id, response FROM idempotency_keys WHERE partner_id = $1 AND idem_key = $2`,
		idem.PartnerID, idem.Key).Scan(&hash, &orderID, &stored); err != nil {
		return "", err
	}
	if !bytes.Equal(hash, idem.RequestHash) {
		return "", vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "Idempotency-Key was already used with another request body.")
	}
	idem.Replayed = stored
	return orderID, nil
}

// choosesPricePackage tells whether storing o reads its price package first
// (checkPrefillPricePackage): a partner's prefill naming one.
func choosesPricePackage(o *vippsmgmt.ProductOrder) bool {
	return o.Type == vippsmgmt.OrderPrefill && o.PartnerID != nil && o.Details.PricePackageID != nil
}

// checkPrefillPricePackage applies vippsmgmt.PricePackageProblem to a prefill's chosen package in
// the transaction that stores the prefill, so a package cannot change owner in between.
func (d *DB) checkPrefillPricePackage(ctx context.Context, tx *sql.Tx, o *vippsmgmt.ProductOrder) error {
	if !choosesPricePackage(o) {
		return nil
	}
	p, err := scanPricePackage(tx.QueryRowContext(ctx, selectPricePackage+` WHERE id = $1`, *o.Details.PricePackageID))
	if errors.Is(err, sql.ErrNoRows) {
		p = nil
	} else if err != nil {
		return err
	}
	if why := vippsmgmt.PricePackageProblem(p, *o.PartnerID, o.ProductType); why != "" {
		return vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "pricePackageId", Problem: why}})
	}
	return nil
}

// UpsertProductOrder stores an order as given (fixtures); natural key: its id.
func (d *DB) UpsertProductOrder(ctx context.Context, o *vippsmgmt.ProductOrder) error {
	if o.ID == "" {
		return vippsmgmt.Errorf(vippsmgmt.EINVALID, "productOrderId: is required")
	}
	now := d.now()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = now
	}
	return d.upsertInTx(ctx, o, func(tx *sql.Tx) error {
		err := exists(ctx, tx, `SELECT 1 FROM product_orders WHERE id = $1`+d.forUpdate(), o.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return d.insertOrder(ctx, tx, o)
		} else if err != nil {
			return err
		}
		return d.updateOrder(ctx, tx, o)
	})
}

// orderArgs returns the column values of o in selectOrder's order.
func orderArgs(o *vippsmgmt.ProductOrder) ([]any, error) {
	details, err := json.Marshal(o.Details)
	if err != nil {
		return nil, err
	}
	var msn, name any
	if o.SalesUnit != nil {
		msn, name = o.SalesUnit.MSN, o.SalesUnit.Name
	}
	return []any{o.ID, o.Type, nullable(o.PartnerID), o.Status, o.BusinessIdentifier.Scheme, o.BusinessIdentifier.ID,
		o.ProductType, string(details), o.RejectionReason, msn, name, micros(o.CreatedAt.UTC()), micros(o.UpdatedAt.UTC()),
		microsPtr(o.ViewedAt), microsPtr(o.SubmittedAt), microsPtr(o.DecidedAt), microsPtr(o.ExpiredAt)}, nil
}

func (d *DB) insertOrder(ctx context.Context, tx *sql.Tx, o *vippsmgmt.ProductOrder) error {
	return d.insertOrderRow(ctx, tx.StmtContext(ctx, d.insertOrderStmt), o)
}

// insertOrderRow inserts o with insert, insertOrderSQL prepared on a transaction or on the pool.
func (d *DB) insertOrderRow(ctx context.Context, insert *sql.Stmt, o *vippsmgmt.ProductOrder) error {
	args, err := orderArgs(o)
	if err != nil {
		return err
	}
	_, err = insert.ExecContext(ctx, args...)
	return d.orderInsertError(o, err)
}

// orderInsertError names what an insert of o into product_orders failed on.
func (d *DB) orderInsertError(o *vippsmgmt.ProductOrder, err error) error {
	switch vippsmgmt.ErrorCode(d.formatError(err)) {
	case vippsmgmt.ECONFLICT:
		return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "Product order %s already exists.", o.ID)
	case vippsmgmt.ENOTFOUND: // the partner is the order's only reference
		if o.PartnerID != nil {
			return notFound("Partner %s was not found.", *o.PartnerID)
		}
	}
	return err
}

func (d *DB) updateOrder(ctx context.Context, tx *sql.Tx, o *vippsmgmt.ProductOrder) error {
	args, err := orderArgs(o)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE product_orders SET type = $2, partner_id = $3, status = $4,
		merchant_scheme = $5, merchant_id = $6, product_type = $7, details = $8, rejection_reason = $9,
		result_msn = $10, result_name = $11, created_at = $12, updated_at = $13, viewed_at = $14,
		submitted_at = $15, decided_at = $16, expired_at = $17 WHERE id = $1`, args...)
	return err
}

// FindProductOrderByID returns ENOTFOUND for an unknown or deleted order.
func (d *DB) FindProductOrderByID(ctx context.Context, id string) (*vippsmgmt.ProductOrder, error) {
	return findOne(d, d.db.QueryRowContext(ctx, selectOrder+` WHERE id = $1`, id), scanOrder, "Product order", id)
}

// lockOrder reads the order for a lifecycle write, locked until commit.
func (d *DB) lockOrder(ctx context.Context, tx *sql.Tx, id string) (*vippsmgmt.ProductOrder, error) {
	o, err := scanOrder(tx.QueryRowContext(ctx, selectOrder+` WHERE id = $1`+d.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Product order %s was not found.", id)
	}
	return o, err
}

// FindProductOrders lists orders newest first.
func (d *DB) FindProductOrders(ctx context.Context, f vippsmgmt.ProductOrderFilter) ([]*vippsmgmt.ProductOrder, error) {
	q := d.productOrderQuery(f)
	return queryAll(ctx, d, q.String(), q.args, scanOrder)
}

// EachProductOrder hands the orders FindProductOrders would list to fn one at a time, as it reads
// them, so a list of any length costs one order's memory.
func (d *DB) EachProductOrder(ctx context.Context, f vippsmgmt.ProductOrderFilter, fn func(*vippsmgmt.ProductOrder) error) error {
	q := d.productOrderQuery(f)
	rows, err := d.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return d.formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return d.formatError(err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return d.formatError(rows.Err())
}

func (d *DB) productOrderQuery(f vippsmgmt.ProductOrderFilter) *query {
	q := &query{}
	if f.WithoutDetails {
		q.add(selectOrderSummary, ` WHERE 1 = 1`)
	} else {
		q.add(selectOrder, ` WHERE 1 = 1`)
	}
	if f.PartnerID != nil {
		q.add(` AND partner_id = `, q.arg(*f.PartnerID))
	}
	if len(f.Statuses) > 0 {
		q.add(` AND status IN (`)
		for i, s := range f.Statuses {
			if i > 0 {
				q.add(`, `)
			}
			q.add(q.arg(s))
		}
		q.add(`)`)
	}
	if !f.IncludeExpired {
		q.add(` AND status <> '`+vippsmgmt.StatusExpired+`' AND NOT (`+expiringPrefill, q.arg(micros(vippsmgmt.ExpiryCutoff(d.now()))), `)`)
	}
	q.keyset(f.After, f.Limit, true, "created_at", "id")
	return q
}

// expiringPrefill, followed by the cutoff, selects the orders ProductOrder.StatusAt calls EXPIRED
// while their stored status is not yet: built from the same constants, so the two cannot drift.
var expiringPrefill = `type = '` + vippsmgmt.OrderPrefill + `' AND status IN ('` +
	strings.Join(vippsmgmt.ExpiringStatuses, `', '`) + `') AND created_at <= `

// StepProductOrder applies a lifecycle step (view, submit, submit-form, reject, expire) under a
// row lock. The form's submit holds the details to ProductOrder.SubmitProblems in the
// transaction, which also decides whether the merchant is registered.
func (d *DB) StepProductOrder(ctx context.Context, id, step string, details *vippsmgmt.OrderDetails, reason string) (*vippsmgmt.ProductOrder, error) {
	switch step {
	case vippsmgmt.StepView, vippsmgmt.StepSubmit, vippsmgmt.StepSubmitForm, vippsmgmt.StepReject, vippsmgmt.StepExpire:
	case vippsmgmt.StepApprove:
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "Use ApproveProductOrder to approve.")
	case vippsmgmt.StepDelete:
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "Use DeleteProductOrder to delete.")
	default:
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "unknown step %q", step)
	}
	if step == vippsmgmt.StepSubmit && details != nil {
		if err := vippsmgmt.InvalidFields(details.Validate()); err != nil {
			return nil, err
		}
	}
	if step == vippsmgmt.StepReject {
		if err := vippsmgmt.ValidateRejectionReason(reason); err != nil {
			return nil, err
		}
	}
	var o *vippsmgmt.ProductOrder
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if o, err = d.lockOrder(ctx, tx, id); err != nil {
			return err
		}
		if err := o.Apply(step, d.now()); err != nil {
			return err
		}
		switch step {
		case vippsmgmt.StepSubmitForm:
			if details == nil {
				details = &o.Details
			}
			_, err := d.findMerchantTx(ctx, tx, o.BusinessIdentifier)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err := vippsmgmt.InvalidFields(o.SubmitProblems(details, err == nil)); err != nil {
				return err
			}
			o.Details = *details
		case vippsmgmt.StepSubmit:
			if details != nil {
				o.Details = *details
			}
		case vippsmgmt.StepReject:
			o.RejectionReason = reason
			if err := d.queueRejection(ctx, tx, o); err != nil {
				return err
			}
		}
		return d.updateOrder(ctx, tx, o)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ApproveProductOrder completes a submitted order: merchant (created if unknown), sales unit,
// order and notifications in one transaction.
func (d *DB) ApproveProductOrder(ctx context.Context, id string, a vippsmgmt.Approval) (*vippsmgmt.ProductOrder, *vippsmgmt.SalesUnit, error) {
	defer d.unitsChanged()
	if a.MSN != "" && !vippsmgmt.ValidMSN(a.MSN) {
		return nil, nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "msn: must be 4 to 10 digits")
	}
	var (
		o  *vippsmgmt.ProductOrder
		su *vippsmgmt.SalesUnit
	)
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if o, err = d.lockOrder(ctx, tx, id); err != nil {
			return err
		}
		now := d.now()
		if err := o.Apply(vippsmgmt.StepApprove, now); err != nil {
			return err
		}
		m, err := d.findMerchantTx(ctx, tx, o.BusinessIdentifier)
		if errors.Is(err, sql.ErrNoRows) {
			if m, err = o.ApprovalMerchant(a.MerchantName, now); err != nil {
				return err
			}
			if inserted, err := d.insertMerchant(ctx, tx, m); err != nil {
				return err
			} else if !inserted {
				return vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "The merchant %s was created meanwhile; approve again.", m.BusinessIdentifier)
			}
		} else if err != nil {
			return err
		}

		// Given MSNs take the allocation lock too, so an allocation never races them.
		if err := d.lockMSNAllocation(ctx, tx); err != nil {
			return err
		}
		msn := a.MSN
		if msn == "" {
			if msn, err = d.nextMSN(ctx, tx); err != nil {
				return err
			}
		} else if err := mustBeNew(ctx, tx, `SELECT 1 FROM sales_units WHERE msn = $1`, msn,
			vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "MSN %s is already taken.", msn)); err != nil {
			return err
		}

		su = o.ApprovalSalesUnit(msn, m, now)
		if err := su.Validate(); err != nil {
			return err
		}
		if err := d.checkSalesUnitRefs(ctx, tx, su); err != nil {
			return err
		}
		if err := d.insertSalesUnit(ctx, tx, su); err != nil {
			return err
		}
		o.SalesUnit = &vippsmgmt.MsnInfo{MSN: su.MSN, Name: su.Name}
		if err := d.updateOrder(ctx, tx, o); err != nil {
			return err
		}
		return d.queueApproval(ctx, tx, o, m, su)
	})
	if err != nil {
		return nil, nil, err
	}
	return o, su, nil
}

// nextMSN returns one above the highest 6-digit MSN, starting at 100001. The caller holds the
// allocation lock.
func (d *DB) nextMSN(ctx context.Context, tx *sql.Tx) (string, error) {
	var highest sql.NullString
	// Six-digit strings of digits sort as their numbers do.
	if err := tx.QueryRowContext(ctx, `SELECT MAX(msn) FROM sales_units WHERE length(msn) = 6`).Scan(&highest); err != nil {
		return "", err
	}
	next := 100001
	if highest.Valid {
		if n, err := strconv.Atoi(highest.String); err == nil && n >= next {
			next = n + 1
		}
	}
	if next > 999999 {
		return "", vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "No free six-digit MSN is left; give one explicitly.")
	}
	return strconv.Itoa(next), nil
}

// DeleteProductOrder deletes a prefilled, unsubmitted order of partnerID. The idempotency row
// stays, so a retried create still answers with the same id.
func (d *DB) DeleteProductOrder(ctx context.Context, partnerID, id string) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		o, err := d.lockOrder(ctx, tx, id)
		if err != nil {
			return err
		}
		// Another partner's order is answered like a missing one, so ids cannot be probed.
		if o.PartnerID == nil || *o.PartnerID != partnerID {
			return notFound("Product order %s was not found.", id)
		}
		if err := o.Apply(vippsmgmt.StepDelete, d.now()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM product_orders WHERE id = $1`, id)
		return err
	})
}

// ExpireProductOrders records EXPIRED on every unsubmitted prefill past its lifetime. One UPDATE
// re-checks the status of each row it changes, so concurrent sweeps never count an order twice.
func (d *DB) ExpireProductOrders(ctx context.Context) (int, error) {
	now := d.now()
	n, err := d.exec(ctx, `UPDATE product_orders SET status = '`+vippsmgmt.StatusExpired+`', updated_at = $1,
		expired_at = created_at + $2 WHERE `+expiringPrefill+`$3`,
		micros(now), vippsmgmt.PrefillLifetime.Microseconds(), micros(vippsmgmt.ExpiryCutoff(now)))
	return int(n), err
}

// PurgeIdempotencyKeys forgets keys older than before.
func (d *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int, error) {
	n, err := d.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, micros(before))
	return int(n), err
}

func scanOrder(s scanner) (*vippsmgmt.ProductOrder, error) {
	var (
		o                                 vippsmgmt.ProductOrder
		partner                           sql.Null[string]
		msn, name                         sql.NullString
		details                           string
		created, updated                  int64
		viewed, submitted, decided, expir sql.NullInt64
	)
	if err := s.Scan(&o.ID, &o.Type, &partner, &o.Status, &o.BusinessIdentifier.Scheme, &o.BusinessIdentifier.ID,
		&o.ProductType, &details, &o.RejectionReason, &msn, &name, &created, &updated, &viewed, &submitted,
		&decided, &expir); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(details), &o.Details); err != nil {
		return nil, fmt.Errorf("order %s details: %w", o.ID, err)
	}
	o.PartnerID = ptrOf(partner)
	if msn.Valid {
		o.SalesUnit = &vippsmgmt.MsnInfo{MSN: msn.String, Name: name.String}
	}
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	o.ViewedAt, o.SubmittedAt, o.DecidedAt, o.ExpiredAt = fromNullMicros(viewed), fromNullMicros(submitted), fromNullMicros(decided), fromNullMicros(expir)
	return &o, nil
}
