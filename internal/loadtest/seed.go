package loadtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/auth"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

// Seeded is what Seed wrote: a partner, its sales units and its partner keys.
type Seeded struct {
	PartnerID string
	Merchant  vippsmgmt.BusinessIdentifier
	Keys      *credentials.Issued
	Units     int
	First     int // index of the first unit (see unitMSN)
	FirstMSN  string
	Took      time.Duration // for the sales units alone
}

// seedBatch rows go in one INSERT. More would save round trips on PostgreSQL, but SQLite looks up
// $N parameters by name in a list, so its cost per row grows with the batch.
const seedBatch = 25

// Seed opens the database (applying migrations), makes the token signing key, creates a partner with a merchant owning units
// active sales units connected to the partner, and issues partner keys. The server must not be
// running yet, or must be restarted: it hashes with the database's pepper, which Seed also uses.
//
// The sales units go in one transaction of multi-row INSERTs. Through Store.UpsertSalesUnit each
// unit is its own durable transaction (one fsync each on SQLite), which makes 100,000 units take
// minutes instead of about a second.
func Seed(ctx context.Context, dsn, partnerID string, units int) (*Seeded, error) {
	all, err := SeedPartners(ctx, dsn, []string{partnerID}, units)
	if err != nil {
		return nil, err
	}
	return all[0], nil
}

// SeedPartners is Seed for several partners, each with units sales units of its own.
func SeedPartners(ctx context.Context, dsn string, partnerIDs []string, units int) ([]*Seeded, error) {
	return seedPartners(ctx, dsn, partnerIDs, units, 0)
}

// seedPartners numbers the units from first, so that seeds on one database do not collide.
func seedPartners(ctx context.Context, dsn string, partnerIDs []string, units, first int) ([]*Seeded, error) {
	store, err := sqlstore.Open(ctx, dsn, clock.New())
	if err != nil {
		return nil, err
	}
	defer store.Close()
	hasher, err := auth.LoadHasher(ctx, store)
	if err != nil {
		return nil, err
	}
	if err := auth.EnsureSigningKey(ctx, store); err != nil {
		return nil, err
	}
	merchant := vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "919191910"}
	if err := store.UpsertMerchant(ctx, &vippsmgmt.Merchant{BusinessIdentifier: merchant, Name: "Load test merchant",
		Status: vippsmgmt.MerchantActive, CountryCode: "NO"}); err != nil {
		return nil, fmt.Errorf("seed merchant: %w", err)
	}
	var out []*Seeded
	for i, id := range partnerIDs {
		s := &Seeded{PartnerID: id, Units: units, Merchant: merchant, First: first + i*units}
		if err := store.UpsertPartner(ctx, &vippsmgmt.Partner{ID: id, Name: "Load test partner " + id}); err != nil {
			return nil, fmt.Errorf("seed partner: %w", err)
		}
		start := time.Now()
		if err := insertUnits(ctx, store, s); err != nil {
			return nil, fmt.Errorf("seed sales units: %w", err)
		}
		s.Took = time.Since(start)
		if units > 0 {
			s.FirstMSN = unitMSN(s.First)
		}
		if s.Keys, err = credentials.Issue(ctx, store, hasher, vippsmgmt.KeyPartner, id, "", ""); err != nil {
			return nil, fmt.Errorf("seed keys: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// unitMSN numbers seeded units with ten-digit MSNs, a range the demo data and approvals (six
// digits) never use.
func unitMSN(i int) string { return fmt.Sprintf("7%09d", i) }

func insertUnits(ctx context.Context, store *sqlstore.DB, s *Seeded) error {
	units := s.Units
	tx, err := store.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMicro()
	conf := `{"paymentAllowed":true,"captureType":"ReserveCapture","recurringAllowed":false}`
	full, err := tx.PrepareContext(ctx, insertUnitsSQL(seedBatch))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, seedBatch*11)
	for done := 0; done < units; {
		n := min(seedBatch, units-done)
		args = args[:0]
		for k := s.First + done; k < s.First+done+n; k++ {
			args = append(args, unitMSN(k), fmt.Sprintf("Shop %d", k), vippsmgmt.SalesUnitActive, s.Merchant.Scheme,
				s.Merchant.ID, s.PartnerID, nil, conf, nil, now, now)
		}
		if n == seedBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertUnitsSQL(n), args...)
		}
		if err != nil {
			return err
		}
		done += n
	}
	return tx.Commit()
}

// insertUnitsSQL is an INSERT of n sales units.
func insertUnitsSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO sales_units (msn, name, status, merchant_scheme, merchant_id, partner_id,
		settlement_bank_account, configuration, price_package_id, created_at, updated_at) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			q.WriteByte(',')
		}
		b := i * 11
		fmt.Fprintf(&q, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", b+1, b+2, b+3, b+4, b+5, b+6, b+7, b+8, b+9, b+10, b+11)
	}
	return q.String()
}

// SeedOrders adds n prefilled product orders, all RECEIVED and fresh, to the partner Seed made
// on dsn, in one transaction of multi-row INSERTs.
func SeedOrders(ctx context.Context, dsn string, s *Seeded, n int) (time.Duration, error) {
	store, err := sqlstore.Open(ctx, dsn, clock.New())
	if err != nil {
		return 0, err
	}
	defer store.Close()
	start := time.Now()
	tx, err := store.SQL().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	now := time.Now().UnixMicro()
	details := `{"salesUnitName":"Load test shop","productUseCase":"Website"}`
	const cols = 10
	args := make([]any, 0, seedBatch*cols)
	for done := 0; done < n; {
		k := min(seedBatch, n-done)
		args = args[:0]
		for i := done; i < done+k; i++ {
			id := uuid.NewString()
			// Distinct times keep the newest-first order of the list well defined.
			at := now - int64(i)
			args = append(args, id, vippsmgmt.OrderPrefill, s.PartnerID, vippsmgmt.StatusReceived, s.Merchant.Scheme, s.Merchant.ID,
				"PAYMENT_INTEGRATION", details, at, at)
		}
		var q strings.Builder
		q.WriteString(`INSERT INTO product_orders (id, type, partner_id, status, merchant_scheme, merchant_id, product_type, details,
			created_at, updated_at) VALUES `)
		for i := 0; i < k; i++ {
			if i > 0 {
				q.WriteByte(',')
			}
			b := i * cols
			fmt.Fprintf(&q, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", b+1, b+2, b+3, b+4, b+5, b+6, b+7, b+8, b+9, b+10)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return 0, fmt.Errorf("seed product orders: %w", err)
		}
		done += k
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
