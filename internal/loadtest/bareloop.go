package loadtest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
)

// bareLoop is the baseline of the prefill rate on SQLite: one goroutine storing prefillBody's
// order again and again, each in a transaction of its own, through the store's
// CreateProductOrderAlone. That is the server's prefill without HTTP, JSON decoding, validation
// of the request or the commit queue: the same statements (idempotency key with its stored
// answer, price-package check, partner check, order), the same driver and pragmas, on a file
// beside the server's database, so on the same disk.
type bareLoop struct {
	store   *sqlstore.DB
	partner string
	order   vippsmgmt.ProductOrder // the decoded prefillBody, without id
	hash    []byte
	base    string // the server's URL, for an answer of the server's size
}

// openBareLoop creates the baseline's database at dsn with a partner of its own.
func openBareLoop(ctx context.Context, dsn, serverURL string) (*bareLoop, error) {
	store, err := sqlstore.Open(ctx, dsn, clock.New())
	if err != nil {
		return nil, err
	}
	b := &bareLoop{store: store, partner: "bare-loop-partner", base: serverURL}
	if err := store.UpsertPartner(ctx, &vippsmgmt.Partner{ID: b.partner, Name: "Bare loop partner"}); err != nil {
		store.Close()
		return nil, err
	}
	var head struct {
		BusinessIdentifier vippsmgmt.BusinessIdentifier `json:"businessIdentifier"`
		ProductType        string                       `json:"productType"`
	}
	if err := json.Unmarshal(prefillBody, &head); err != nil {
		store.Close()
		return nil, err
	}
	b.order = vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: &b.partner, Status: vippsmgmt.StatusReceived,
		BusinessIdentifier: head.BusinessIdentifier, ProductType: head.ProductType}
	if err := json.Unmarshal(prefillBody, &b.order.Details); err != nil {
		store.Close()
		return nil, err
	}
	sum := sha256.Sum256(prefillBody)
	b.hash = sum[:]
	return b, nil
}

func (b *bareLoop) Close() error { return b.store.Close() }

// run stores prefills for d and returns the rate. Keys are named by phase so runs never replay.
func (b *bareLoop) run(ctx context.Context, phase string, d time.Duration) (closedLoopResult, error) {
	answer := func(id string) ([]byte, error) {
		out, err := json.Marshal(struct {
			PrefilledOrderID string `json:"prefilledOrderId"`
			PrefillURL       string `json:"prefillUrl"`
		}{id, b.base + "/register/prefilled/" + id})
		return append(out, '\n'), err
	}
	var r closedLoopResult
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		o := b.order
		idem := &vippsmgmt.Idempotency{PartnerID: b.partner, Key: fmt.Sprintf("%s-bare-%s-%d", runID, phase, i),
			RequestHash: b.hash, Answer: answer}
		if _, replayed, err := b.store.CreateProductOrderAlone(ctx, &o, idem); err != nil {
			return r, fmt.Errorf("bare loop: %w", err)
		} else if replayed {
			return r, fmt.Errorf("bare loop: key %s was replayed", idem.Key)
		}
		r.Requests++
	}
	r.Elapsed = time.Since(start)
	return r, nil
}
