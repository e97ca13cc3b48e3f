package vippsmgmt

import (
	"context"
	"time"
)

// Store is the persistence contract both databases implement (internal/sqlstore over SQLite and
// PostgreSQL). Every method runs in one transaction. Reads of something missing return ENOTFOUND,
// never a nil value; uniqueness violations return ECONFLICT; invalid values return EINVALID.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error

	// EnsureSetting returns the setting name, storing candidate first if it has none. Several
	// processes racing on an empty database all get the same value.
	EnsureSetting(ctx context.Context, name, candidate string) (string, error)
	// SetSetting stores value under name.
	SetSetting(ctx context.Context, name, value string) error
	// SwapSetting stores value under name only if the stored value is still old ("" for
	// unset), and reports whether it did.
	SwapSetting(ctx context.Context, name, old, value string) (bool, error)
	// Setting returns the value of name; ENOTFOUND if unset.
	Setting(ctx context.Context, name string) (string, error)

	// CreateConsoleSession stores a console sign-in, deleting the sessions that expired or were
	// issued under another admin token.
	CreateConsoleSession(ctx context.Context, s *ConsoleSession) error
	// FindConsoleSession returns the session of idHash issued under fingerprint and live at now;
	// ENOTFOUND otherwise.
	FindConsoleSession(ctx context.Context, idHash, fingerprint []byte, now time.Time) (*ConsoleSession, error)
	// DeleteConsoleSession signs a console session out.
	DeleteConsoleSession(ctx context.Context, idHash []byte) error

	// CreatePartner stores a new partner; EINVALID if it is not valid, ECONFLICT if its id is taken.
	CreatePartner(ctx context.Context, p *Partner) error
	// RenamePartner changes a partner's name; EINVALID for an invalid name, ENOTFOUND if unknown.
	RenamePartner(ctx context.Context, id, name string) (*Partner, error)
	// UpsertPartner creates the partner or renames it, for fixtures that recreate an account.
	UpsertPartner(ctx context.Context, p *Partner) error
	// FindPartnerByID returns ENOTFOUND for an unknown partner.
	FindPartnerByID(ctx context.Context, id string) (*Partner, error)
	// FindPartners lists the partners matching f in PartnerList's order.
	FindPartners(ctx context.Context, f PartnerFilter) ([]*Partner, error)
	// CountPartners tells whether the database is empty (demo data is loaded then).
	CountPartners(ctx context.Context) (int, error)

	// CreateAPIKey stores a new key set; ECONFLICT if its client id is in use or its subscription
	// key belongs to another key set, ENOTFOUND if its partner or sales unit does not exist.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// UpsertAPIKey creates a key set or replaces its hashes, for fixtures that recreate an
	// account; ECONFLICT if the client id belongs to another owner or the subscription key to
	// another key set. ENOTFOUND if its partner or sales unit does not exist.
	UpsertAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKeyByClientID returns ENOTFOUND for an unknown client id (revoked keys are returned).
	FindAPIKeyByClientID(ctx context.Context, clientID string) (*APIKey, error)
	// FindAPIKeyBySubscriptionKeyHash returns ENOTFOUND when no key set has that subscription key.
	FindAPIKeyBySubscriptionKeyHash(ctx context.Context, hash []byte) (*APIKey, error)
	// FindAPIKeys lists the key sets of a partner (partnerID) or of a sales unit (msn), both empty:
	// all, in page p in APIKeyList's order.
	FindAPIKeys(ctx context.Context, partnerID, msn string, p Page) ([]*APIKey, error)
	// RevokeAPIKey marks the key set revoked; ENOTFOUND if unknown.
	RevokeAPIKey(ctx context.Context, clientID string) error

	// CreateMerchant stores a new merchant; EINVALID if it is not valid, ECONFLICT if its business
	// identifier is taken.
	CreateMerchant(ctx context.Context, m *Merchant) error
	// SetMerchantStatus activates or deactivates a merchant, which shows or hides all its sales
	// units; EINVALID for another status, ENOTFOUND if unknown.
	SetMerchantStatus(ctx context.Context, id BusinessIdentifier, status string) (*Merchant, error)
	// UpsertMerchant creates the merchant or updates it (natural key: business identifier), for
	// fixtures that recreate an account. A new merchant keeps CreatedAt and UpdatedAt when they are
	// set; a change to an existing one sets UpdatedAt to now.
	UpsertMerchant(ctx context.Context, m *Merchant) error
	// FindMerchant returns ENOTFOUND for an unknown business identifier.
	FindMerchant(ctx context.Context, id BusinessIdentifier) (*Merchant, error)
	FindMerchants(ctx context.Context, f MerchantFilter) ([]*Merchant, error)

	// CreateSalesUnit stores a new sales unit with MerchantStatus filled in; EINVALID if it is not
	// valid, ECONFLICT if the MSN is taken, ENOTFOUND if its merchant, partner or price package is
	// unknown.
	CreateSalesUnit(ctx context.Context, s *SalesUnit) error
	// UpsertSalesUnit creates the sales unit or updates it (natural key: MSN), for fixtures;
	// ECONFLICT if the MSN belongs to another merchant; ENOTFOUND if its merchant, partner or price
	// package is unknown.
	UpsertSalesUnit(ctx context.Context, s *SalesUnit) error
	// FindSalesUnitByMSN returns the unit with MerchantStatus filled in; ENOTFOUND if unknown.
	FindSalesUnitByMSN(ctx context.Context, msn string) (*SalesUnit, error)
	// FindSalesUnits returns full units for the operator views.
	FindSalesUnits(ctx context.Context, f SalesUnitFilter) ([]*SalesUnit, error)
	// EachSalesUnit streams the MSN and name of every unit matching f, ordered by MSN, to fn, without
	// holding them all in memory; it stops at fn's first error and returns it.
	EachSalesUnit(ctx context.Context, f SalesUnitFilter, fn func(MsnInfo) error) error
	// UpdateSalesUnit applies upd; ENOTFOUND if unknown.
	UpdateSalesUnit(ctx context.Context, msn string, upd SalesUnitUpdate) (*SalesUnit, error)

	// CreatePricePackage stores a new price package; EINVALID if it is not valid, ENOTFOUND if its
	// partner is unknown, ECONFLICT if the id is taken.
	CreatePricePackage(ctx context.Context, p *PricePackage) error
	// UpsertPricePackage creates or updates a price package (natural key: its id), for fixtures;
	// ECONFLICT if the id belongs to another partner.
	UpsertPricePackage(ctx context.Context, p *PricePackage) error
	// FindPricePackages lists the packages matching f in PricePackageList's order.
	FindPricePackages(ctx context.Context, f PricePackageFilter) ([]*PricePackage, error)
	// FindPricePackageByID returns ENOTFOUND for an unknown id.
	FindPricePackageByID(ctx context.Context, id string) (*PricePackage, error)

	// CreateProductOrder stores a new order. With idem set, the first call for (partner, key) stores
	// the order and the key together; a later call with the same request hash returns the first
	// order's id and replayed=true without creating anything (idem.Replayed then holds the stored
	// answer, even if the order was deleted since), and one with another hash returns ECONFLICT.
	// Concurrent calls with one key create exactly one order.
	CreateProductOrder(ctx context.Context, o *ProductOrder, idem *Idempotency) (id string, replayed bool, err error)
	// UpsertProductOrder stores an order as given (fixtures); natural key: its id.
	UpsertProductOrder(ctx context.Context, o *ProductOrder) error
	// FindProductOrderByID returns ENOTFOUND for an unknown or deleted order.
	FindProductOrderByID(ctx context.Context, id string) (*ProductOrder, error)
	// FindProductOrders lists orders newest first.
	FindProductOrders(ctx context.Context, f ProductOrderFilter) ([]*ProductOrder, error)
	// EachProductOrder streams the orders FindProductOrders would list to fn as it reads them;
	// an error from fn stops it and is returned.
	EachProductOrder(ctx context.Context, f ProductOrderFilter, fn func(*ProductOrder) error) error
	// StepProductOrder applies a lifecycle step (view, submit, reject) under a row lock: load,
	// ProductOrder.Apply, write. details replaces the order's details on submit when not nil;
	// reason is stored on reject. For reject it also queues the two notifications.
	StepProductOrder(ctx context.Context, id, step string, details *OrderDetails, reason string) (*ProductOrder, error)
	// ApproveProductOrder completes an ORDER_SUBMITTED order in one transaction: it creates the
	// merchant if unknown (a.MerchantName required then), a sales unit with the given or next free
	// MSN connected to the order's partner with its price package, marks the order COMPLETED and
	// queues the two notifications. ECONFLICT for an illegal step or a taken MSN.
	ApproveProductOrder(ctx context.Context, id string, a Approval) (*ProductOrder, *SalesUnit, error)
	// DeleteProductOrder deletes a prefilled order of partnerID that is not submitted; ENOTFOUND if
	// it is unknown or not the partner's, EINVALID if it can no longer be deleted.
	DeleteProductOrder(ctx context.Context, partnerID, id string) error
	// ExpireProductOrders records EXPIRED on every unsubmitted prefill created before cutoff and
	// returns how many it changed; concurrent sweeps never expire one order twice.
	ExpireProductOrders(ctx context.Context) (int, error)
	// PurgeIdempotencyKeys forgets keys older than before.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int, error)

	// FindNotifications lists the outbox, newest first (NotificationList), in page p.
	FindNotifications(ctx context.Context, p Page) ([]*Notification, error)
	// FindUnsentNotifications returns up to limit unsent notifications tried fewer than
	// maxAttempts times, oldest first: those a sender may still try.
	FindUnsentNotifications(ctx context.Context, maxAttempts, limit int) ([]*Notification, error)
	// MarkNotification records a send attempt: sent at sentAt, or failed with errText.
	MarkNotification(ctx context.Context, id int64, sentAt *time.Time, errText string) error

	// CreateFaultRule stores a new fault rule with its full budget; ECONFLICT if the id is taken or
	// MaxFaultRules rules exist.
	CreateFaultRule(ctx context.Context, r *FaultRule) error
	// PutFaultRule stores r under its id (fixtures): a new rule, or a changed definition with a
	// fresh budget; the same definition again changes nothing, not even the budget spent.
	PutFaultRule(ctx context.Context, r *FaultRule) error
	// FindFaultRules lists the rules, oldest first, with what they fired.
	FindFaultRules(ctx context.Context) ([]*FaultRule, error)
	// DeleteFaultRule returns ENOTFOUND for an unknown id.
	DeleteFaultRule(ctx context.Context, id string) error
	// FireFaultRule counts one firing of the rule, taking one from a count budget in the same
	// statement, so N is exact however many processes share the database. It returns false when
	// the budget is spent, the rule's time is over or the rule is gone.
	FireFaultRule(ctx context.Context, id string) (bool, error)

	// PutAutopilotPolicy creates or replaces the policy of p.PartnerID ("" for every partner);
	// EINVALID naming partnerId if that partner does not exist.
	PutAutopilotPolicy(ctx context.Context, p *AutopilotPolicy) error
	// FindAutopilotPolicies lists the policies, the one for every partner first
	// (AutopilotPolicyList), in page p.
	FindAutopilotPolicies(ctx context.Context, p Page) ([]*AutopilotPolicy, error)
	// DeleteAutopilotPolicy removes the policy of partnerID ("" for every partner); ENOTFOUND if
	// there is none.
	DeleteAutopilotPolicy(ctx context.Context, partnerID string) error
}

// Clock tells the time; the sandbox clock can be advanced by the operator.
type Clock interface {
	Now() time.Time
}

// ConsoleSession is an operator's console sign-in. The store never sees the session id itself,
// only its hash, and the fingerprint of the admin token it was issued under: a session issued under
// another token is not found.
type ConsoleSession struct {
	IDHash           []byte
	TokenFingerprint []byte
	CreatedAt        time.Time
	ExpiresAt        time.Time
}
