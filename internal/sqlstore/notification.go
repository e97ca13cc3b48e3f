package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// Recipients of notifications.
const (
	recipientPartner  = "partner"
	recipientMerchant = "merchant"
)

// queueApproval writes the approval notifications in the approving transaction, so a decision is
// never recorded without them.
func (d *DB) queueApproval(ctx context.Context, tx *sql.Tx, o *vippsmgmt.ProductOrder, m *vippsmgmt.Merchant, su *vippsmgmt.SalesUnit) error {
	subject := fmt.Sprintf("Product order approved: %s, MSN %s", m.Name, su.MSN)
	body := fmt.Sprintf("The product order %s has been approved.\n\n"+
		"Business identifier: %s %s\nMerchant name: %s\nMSN: %s\nSales unit name: %s\n",
		o.ID, o.BusinessIdentifier.Scheme, o.BusinessIdentifier.ID, m.Name, su.MSN, su.Name)
	return d.queueBoth(ctx, tx, o, m.Name, subject, body, body)
}

// queueRejection writes the rejection notifications. Only the merchant's carries the reason: the
// reason for a rejection may not be disclosed to the partner.
func (d *DB) queueRejection(ctx context.Context, tx *sql.Tx, o *vippsmgmt.ProductOrder) error {
	merchantName := o.BusinessIdentifier.String()
	m, err := d.findMerchantTx(ctx, tx, o.BusinessIdentifier)
	if err == nil {
		merchantName = m.Name
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	reason := o.RejectionReason
	if reason == "" {
		reason = "No reason was given."
	}
	subject := fmt.Sprintf("Product order rejected: %s", merchantName)
	partnerBody := fmt.Sprintf("The product order %s has been rejected.\n\n"+
		"Business identifier: %s %s\nMerchant name: %s\n",
		o.ID, o.BusinessIdentifier.Scheme, o.BusinessIdentifier.ID, merchantName)
	return d.queueBoth(ctx, tx, o, merchantName, subject, partnerBody, partnerBody+"Reason: "+reason+"\n")
}

// queueBoth queues one notification to the order's partner, if it names one, and one to the
// merchant.
func (d *DB) queueBoth(ctx context.Context, tx *sql.Tx, o *vippsmgmt.ProductOrder, merchantName, subject, partnerBody, merchantBody string) error {
	now := d.now()
	if o.PartnerID != nil {
		name := *o.PartnerID
		err := tx.QueryRowContext(ctx, `SELECT name FROM partners WHERE id = $1`, *o.PartnerID).Scan(&name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := insertNotification(ctx, tx, o.ID, recipientPartner, name, subject, partnerBody, now); err != nil {
			return err
		}
	}
	return insertNotification(ctx, tx, o.ID, recipientMerchant, merchantName, subject, merchantBody, now)
}

func insertNotification(ctx context.Context, tx *sql.Tx, orderID, recipient, name, subject, body string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (order_id, recipient, recipient_name, subject, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, orderID, recipient, name, subject, body, micros(now))
	return err
}

const selectNotification = `SELECT id, order_id, recipient, recipient_name, subject, body, created_at, sent_at,
	last_error, attempts FROM notifications`

// FindNotifications lists the outbox, newest first, in page p.
func (d *DB) FindNotifications(ctx context.Context, p vippsmgmt.Page) ([]*vippsmgmt.Notification, error) {
	var q query
	q.add(selectNotification, ` WHERE 1 = 1`)
	q.keyset(p.After, p.Limit, true, "id")
	return d.findNotifications(ctx, q.String(), q.args...)
}

// FindUnsentNotifications returns up to limit unsent notifications tried fewer than maxAttempts
// times, oldest first.
func (d *DB) FindUnsentNotifications(ctx context.Context, maxAttempts, limit int) ([]*vippsmgmt.Notification, error) {
	q := selectNotification + ` WHERE sent_at IS NULL AND attempts < $1 ORDER BY id`
	if limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(limit)
	}
	return d.findNotifications(ctx, q, maxAttempts)
}

func (d *DB) findNotifications(ctx context.Context, q string, args ...any) ([]*vippsmgmt.Notification, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, d.formatError(err)
	}
	defer rows.Close()
	var out []*vippsmgmt.Notification
	for rows.Next() {
		var (
			n       vippsmgmt.Notification
			created int64
			sent    sql.NullInt64
		)
		if err := rows.Scan(&n.ID, &n.OrderID, &n.Recipient, &n.RecipientName, &n.Subject, &n.Body, &created, &sent,
			&n.LastError, &n.Attempts); err != nil {
			return nil, d.formatError(err)
		}
		n.CreatedAt, n.SentAt = fromMicros(created), fromNullMicros(sent)
		out = append(out, &n)
	}
	return out, d.formatError(rows.Err())
}

// MarkNotification records a send attempt: sent at sentAt, or failed with errText.
func (d *DB) MarkNotification(ctx context.Context, id int64, sentAt *time.Time, errText string) error {
	var (
		n   int64
		err error
	)
	if sentAt != nil {
		n, err = d.exec(ctx, `UPDATE notifications SET sent_at = $2, last_error = '', attempts = attempts + 1
			WHERE id = $1`, id, micros(sentAt.UTC()))
	} else {
		n, err = d.exec(ctx, `UPDATE notifications SET last_error = $2, attempts = attempts + 1
			WHERE id = $1`, id, errText)
	}
	if err == nil && n == 0 {
		return notFound("Notification %d was not found.", id)
	}
	return err
}
