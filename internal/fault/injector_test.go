package fault_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/fault"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// countingStore is a real SQLite store that counts the reads and writes of fault rules.
type countingStore struct {
	vippsmgmt.Store
	finds, fires atomic.Int64
}

func (s *countingStore) FindFaultRules(ctx context.Context) ([]*vippsmgmt.FaultRule, error) {
	s.finds.Add(1)
	return s.Store.FindFaultRules(ctx)
}

func (s *countingStore) FireFaultRule(ctx context.Context, id string) (bool, error) {
	s.fires.Add(1)
	return s.Store.FireFaultRule(ctx, id)
}

func TestInjector(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(storetest.Start)
	db := sqlitetest.Open(t, clock)
	store := &countingStore{Store: db}
	catalog, err := fault.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	partners := map[string]string{"acme-client": "acme"}
	lookups := 0
	in := fault.NewInjector(store, clock, catalog, func(_ context.Context, id string) string { lookups++; return partners[id] }, nil)

	// No rule: inactive, and asking costs no database work.
	if err := in.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if in.Active() {
		t.Fatal("active without rules")
	}
	for range 100 {
		if r := in.Fire(ctx, fault.Request{Operation: "getMsn"}); r != nil {
			t.Fatalf("fired %v without rules", r)
		}
	}
	if store.finds.Load() != 1 || store.fires.Load() != 0 {
		t.Errorf("without rules: %d reads, %d writes; want only the refresh", store.finds.Load(), store.fires.Load())
	}

	two := 2
	for _, r := range []*vippsmgmt.FaultRule{
		{ID: "units", Match: vippsmgmt.FaultMatch{Method: "GET", Path: "/management/v1/sales-units/{msn}"}, Effect: vippsmgmt.FaultEffect{Status: 500}, Count: &two},
		{ID: "acme-tokens", Match: vippsmgmt.FaultMatch{OperationID: fault.AccessToken, PartnerID: "acme"}, Effect: vippsmgmt.FaultEffect{Status: 503}},
		{ID: "other-client", Match: vippsmgmt.FaultMatch{OperationID: "*", ClientID: "other"}, Effect: vippsmgmt.FaultEffect{Drop: true}},
	} {
		if err := catalog.Check(r); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateFaultRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	fire := func(req fault.Request) string {
		if r := in.Fire(ctx, req); r != nil {
			return r.ID
		}
		return ""
	}
	tests := []struct {
		req  fault.Request
		want string
	}{
		{fault.Request{Operation: "getAllSalesUnits", ClientID: "acme-client", PartnerID: "acme"}, ""},
		{fault.Request{Operation: "getMsn", ClientID: "acme-client", PartnerID: "acme"}, "units"},
		{fault.Request{Operation: "getMsn"}, "units"},
		{fault.Request{Operation: "getMsn"}, ""}, // count spent
		{fault.Request{Operation: fault.AccessToken, ClientID: "acme-client", Token: true}, "acme-tokens"},
		{fault.Request{Operation: fault.AccessToken, ClientID: "nordic-client", Token: true}, ""},
		{fault.Request{Operation: fault.MiamiToken, ClientID: "other", Token: true}, "other-client"},
		{fault.Request{Operation: ""}, ""},
	}
	for i, tt := range tests {
		if got := fire(tt.req); got != tt.want {
			t.Errorf("%d: %+v fired %q, want %q", i, tt.req, got, tt.want)
		}
	}
	if lookups == 0 {
		t.Error("the partner of a token request was never looked up")
	}

	// A spent rule drops out of the live set at the next request.
	clock.Advance(time.Second)
	if r := in.Fire(ctx, fault.Request{Operation: "getMsn"}); r != nil {
		t.Errorf("spent rule fired: %v", r)
	}
	fires := store.fires.Load()
	in.Fire(ctx, fault.Request{Operation: "getMsn"})
	if store.fires.Load() != fires {
		t.Error("a spent rule is still tried against the database")
	}
}
