package vippsmgmt

import "time"

// Notification is an outbox message written in the same transaction as the decision it reports:
// the partner and the merchant each get one when an order completes or is rejected.
type Notification struct {
	ID            int64
	OrderID       string
	Recipient     string // "partner" or "merchant"
	RecipientName string
	Subject       string
	Body          string
	CreatedAt     time.Time
	SentAt        *time.Time
	LastError     string
	Attempts      int
}
