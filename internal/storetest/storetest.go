// Package storetest is the behaviour suite every vippsmgmt.Store must pass, plus a settable clock
// for tests elsewhere.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

// Run runs the suite. Each subtest calls open for a new, empty store using its own Clock at Start;
// open should close the store when the test ends. Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T, clock vippsmgmt.Clock) vippsmgmt.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"Ping", testPing},
		{"Settings", testSettings},
		{"SettingsConcurrent", testSettingsConcurrent},
		{"Partners", testPartners},
		{"APIKeys", testAPIKeys},
		{"Merchants", testMerchants},
		{"SalesUnits", testSalesUnits},
		{"UpdateSalesUnit", testUpdateSalesUnit},
		{"Visibility", testVisibility},
		{"EachSalesUnitStreams", testEachSalesUnitStreams},
		{"PricePackages", testPricePackages},
		{"PrefillLifecycle", testPrefillLifecycle},
		{"ApproveNewMerchant", testApproveNewMerchant},
		{"ApproveAllocatesMSN", testApproveAllocatesMSN},
		{"ApproveConcurrent", testApproveConcurrent},
		{"DecideConcurrent", testDecideConcurrent},
		{"ApproveFailures", testApproveFailures},
		{"Reject", testReject},
		{"TemplateOrder", testTemplateOrder},
		{"StepErrors", testStepErrors},
		{"DeleteProductOrder", testDeleteProductOrder},
		{"FindProductOrders", testFindProductOrders},
		{"UpsertProductOrder", testUpsertProductOrder},
		{"Expiry", testExpiry},
		{"ConcurrentSweeps", testConcurrentSweeps},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"PurgeIdempotencyKeys", testPurgeIdempotencyKeys},
		{"Notifications", testNotifications},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock(Start)
			tt.fn(t, &env{t: t, ctx: context.Background(), s: open(t, clock), clock: clock})
		})
	}
}

// env holds a subtest's store and fixture helpers.
type env struct {
	t     *testing.T
	ctx   context.Context
	s     vippsmgmt.Store
	clock *Clock
}

func ptr[T any](v T) *T { return &v }

// wantCode fails the test unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := vippsmgmt.ErrorCode(err); got != code {
		t.Fatalf("got error code %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func bid(id string) vippsmgmt.BusinessIdentifier {
	return vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: id}
}

func (e *env) partner(id string) *vippsmgmt.Partner {
	e.t.Helper()
	p := &vippsmgmt.Partner{ID: id, Name: "Partner " + id}
	must(e.t, e.s.UpsertPartner(e.ctx, p))
	return p
}

func (e *env) merchant(id, status string) *vippsmgmt.Merchant {
	e.t.Helper()
	m := &vippsmgmt.Merchant{BusinessIdentifier: bid(id), Name: "Merchant " + id, Status: status, CountryCode: "NO"}
	must(e.t, e.s.UpsertMerchant(e.ctx, m))
	return m
}

func (e *env) unit(msn, merchantID string, partnerID *string, status string) *vippsmgmt.SalesUnit {
	e.t.Helper()
	s := &vippsmgmt.SalesUnit{MSN: msn, Name: "Unit " + msn, Status: status, Merchant: bid(merchantID), PartnerID: partnerID}
	must(e.t, e.s.UpsertSalesUnit(e.ctx, s))
	return s
}

func (e *env) pricePackage(partnerID string) *vippsmgmt.PricePackage {
	e.t.Helper()
	p := &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: partnerID, Name: "Standard", Description: "1.99%",
		VisibleInSignupForm: ptr(true), ProductType: ptr("CHECKOUT"), Market: ptr("NO"), Commission: ptr("1.99")}
	must(e.t, e.s.UpsertPricePackage(e.ctx, p))
	return p
}

// prefill creates a prefilled order of partnerID for the merchant with business id merchantID.
func (e *env) prefill(partnerID, merchantID string) *vippsmgmt.ProductOrder {
	e.t.Helper()
	o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr(partnerID), BusinessIdentifier: bid(merchantID),
		ProductType: "CHECKOUT", Details: vippsmgmt.OrderDetails{SalesUnitName: ptr("Kiosk Sentrum")}}
	id, replayed, err := e.s.CreateProductOrder(e.ctx, o, nil)
	must(e.t, err)
	if replayed || id != o.ID {
		e.t.Fatalf("got id %s replayed %v, want %s replayed false", id, replayed, o.ID)
	}
	return o
}

// submitted creates a prefill and moves it to ORDER_SUBMITTED.
func (e *env) submitted(partnerID, merchantID string) *vippsmgmt.ProductOrder {
	e.t.Helper()
	o := e.prefill(partnerID, merchantID)
	o, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, nil, "")
	must(e.t, err)
	return o
}

func (e *env) order(id string) *vippsmgmt.ProductOrder {
	e.t.Helper()
	o, err := e.s.FindProductOrderByID(e.ctx, id)
	must(e.t, err)
	return o
}

func msns(infos []vippsmgmt.MsnInfo) []string {
	out := []string{}
	for _, i := range infos {
		out = append(out, i.MSN)
	}
	return out
}

func (e *env) each(f vippsmgmt.SalesUnitFilter) []string {
	e.t.Helper()
	var got []vippsmgmt.MsnInfo
	must(e.t, e.s.EachSalesUnit(e.ctx, f, func(i vippsmgmt.MsnInfo) error { got = append(got, i); return nil }))
	return msns(got)
}

func (e *env) find(f vippsmgmt.SalesUnitFilter) []string {
	e.t.Helper()
	units, err := e.s.FindSalesUnits(e.ctx, f)
	must(e.t, err)
	out := []string{}
	for _, u := range units {
		out = append(out, u.MSN)
	}
	return out
}

func testPing(t *testing.T, e *env) {
	must(t, e.s.Ping(e.ctx))
}

func testSettings(t *testing.T, e *env) {
	_, err := e.s.Setting(e.ctx, "signing-key")
	wantCode(t, err, vippsmgmt.ENOTFOUND)

	v, err := e.s.EnsureSetting(e.ctx, "signing-key", "first")
	must(t, err)
	if v != "first" {
		t.Errorf("EnsureSetting on empty: got %q, want first", v)
	}
	v, err = e.s.EnsureSetting(e.ctx, "signing-key", "second")
	must(t, err)
	if v != "first" {
		t.Errorf("EnsureSetting again: got %q, want first", v)
	}
	must(t, e.s.SetSetting(e.ctx, "signing-key", "third"))
	must(t, e.s.SetSetting(e.ctx, "other", "x"))
	if v, err := e.s.Setting(e.ctx, "signing-key"); err != nil || v != "third" {
		t.Errorf("Setting: got %q, %v, want third", v, err)
	}
}

func testSettingsConcurrent(t *testing.T, e *env) {
	const n = 10
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := e.s.EnsureSetting(e.ctx, "instance-id", fmt.Sprintf("candidate-%d", i))
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[i] == "" {
			t.Fatalf("racing EnsureSetting calls got different values: %q", got)
		}
	}
}

func testPartners(t *testing.T, e *env) {
	if n, err := e.s.CountPartners(e.ctx); err != nil || n != 0 {
		t.Fatalf("CountPartners on empty: got %d, %v, want 0", n, err)
	}
	_, err := e.s.FindPartnerByID(e.ctx, "acme")
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.UpsertPartner(e.ctx, &vippsmgmt.Partner{ID: "bad id!", Name: "x"}), vippsmgmt.EINVALID)

	b := e.partner("beta")
	a := e.partner("acme")
	if !a.CreatedAt.Equal(Start) {
		t.Errorf("CreatedAt: got %v, want %v", a.CreatedAt, Start)
	}
	e.clock.Advance(time.Hour)
	renamed := &vippsmgmt.Partner{ID: "acme", Name: "Acme Payments"}
	must(t, e.s.UpsertPartner(e.ctx, renamed))
	if !renamed.CreatedAt.Equal(Start) {
		t.Errorf("rename changed CreatedAt to %v", renamed.CreatedAt)
	}
	got, err := e.s.FindPartnerByID(e.ctx, "acme")
	must(t, err)
	if diff := cmp.Diff(renamed, got); diff != "" {
		t.Errorf("FindPartnerByID (-want +got):\n%s", diff)
	}
	all, err := e.s.FindPartners(e.ctx)
	must(t, err)
	if diff := cmp.Diff([]*vippsmgmt.Partner{renamed, b}, all); diff != "" {
		t.Errorf("FindPartners (-want +got):\n%s", diff)
	}
	if n, err := e.s.CountPartners(e.ctx); err != nil || n != 2 {
		t.Errorf("CountPartners: got %d, %v, want 2", n, err)
	}
}

func testAPIKeys(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	e.unit("123456", "912345678", nil, vippsmgmt.SalesUnitActive)

	partnerKey := &vippsmgmt.APIKey{ClientID: "client-a", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"),
		SecretHash: []byte("secret-a"), SubscriptionKeyHash: []byte("sub-a")}
	mgmtKey := &vippsmgmt.APIKey{ClientID: "client-m", Kind: vippsmgmt.KeyManagement, PartnerID: ptr("acme"), SecretHash: []byte("secret-m")}
	merchantKey := &vippsmgmt.APIKey{ClientID: "client-u", Kind: vippsmgmt.KeyMerchant, MSN: ptr("123456"),
		SecretHash: []byte("secret-u"), SubscriptionKeyHash: []byte("sub-u")}
	for _, k := range []*vippsmgmt.APIKey{partnerKey, mgmtKey, merchantKey} {
		must(t, e.s.UpsertAPIKey(e.ctx, k))
	}

	got, err := e.s.FindAPIKeyByClientID(e.ctx, "client-a")
	must(t, err)
	if diff := cmp.Diff(partnerKey, got); diff != "" {
		t.Errorf("FindAPIKeyByClientID (-want +got):\n%s", diff)
	}
	got, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-u"))
	must(t, err)
	if diff := cmp.Diff(merchantKey, got); diff != "" {
		t.Errorf("FindAPIKeyBySubscriptionKeyHash (-want +got):\n%s", diff)
	}
	got, err = e.s.FindAPIKeyByClientID(e.ctx, "client-m")
	must(t, err)
	if got.SubscriptionKeyHash != nil {
		t.Errorf("management key has subscription key hash %x, want nil", got.SubscriptionKeyHash)
	}

	t.Run("lookups", func(t *testing.T) {
		_, err := e.s.FindAPIKeyByClientID(e.ctx, "nobody")
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		_, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("nope"))
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		_, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, nil)
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		ids := func(keys []*vippsmgmt.APIKey, err error) []string {
			must(t, err)
			out := []string{}
			for _, k := range keys {
				out = append(out, k.ClientID)
			}
			return out
		}
		for _, c := range []struct {
			partner, msn string
			want         []string
		}{
			{"acme", "", []string{"client-a", "client-m"}},
			{"", "123456", []string{"client-u"}},
			{"beta", "", []string{}},
			{"", "", []string{"client-a", "client-m", "client-u"}},
		} {
			if diff := cmp.Diff(c.want, ids(e.s.FindAPIKeys(e.ctx, c.partner, c.msn))); diff != "" {
				t.Errorf("FindAPIKeys(%q, %q) (-want +got):\n%s", c.partner, c.msn, diff)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		other := *partnerKey
		other.PartnerID = ptr("beta")
		wantCode(t, e.s.UpsertAPIKey(e.ctx, &other), vippsmgmt.ECONFLICT)
		stolen := &vippsmgmt.APIKey{ClientID: "client-b", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("beta"),
			SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-a")}
		wantCode(t, e.s.UpsertAPIKey(e.ctx, stolen), vippsmgmt.ECONFLICT)
		orphan := &vippsmgmt.APIKey{ClientID: "client-x", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("ghost"),
			SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-x")}
		wantCode(t, e.s.UpsertAPIKey(e.ctx, orphan), vippsmgmt.ENOTFOUND)
		orphan = &vippsmgmt.APIKey{ClientID: "client-y", Kind: vippsmgmt.KeyMerchant, MSN: ptr("999999"),
			SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-y")}
		wantCode(t, e.s.UpsertAPIKey(e.ctx, orphan), vippsmgmt.ENOTFOUND)
		wantCode(t, e.s.UpsertAPIKey(e.ctx, &vippsmgmt.APIKey{ClientID: "client-z", Kind: vippsmgmt.KeyPartner}), vippsmgmt.EINVALID)
		wantCode(t, e.s.RevokeAPIKey(e.ctx, "nobody"), vippsmgmt.ENOTFOUND)
	})

	t.Run("rotate and revoke", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		rotated := *partnerKey
		rotated.CreatedAt = time.Time{}
		rotated.SecretHash, rotated.SubscriptionKeyHash = []byte("secret-a2"), []byte("sub-a2")
		must(t, e.s.UpsertAPIKey(e.ctx, &rotated))
		if !rotated.CreatedAt.Equal(Start) {
			t.Errorf("rotation changed CreatedAt to %v", rotated.CreatedAt)
		}
		_, err := e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-a"))
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		got, err := e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-a2"))
		must(t, err)
		if string(got.SecretHash) != "secret-a2" {
			t.Errorf("secret hash: got %q, want secret-a2", got.SecretHash)
		}
		must(t, e.s.RevokeAPIKey(e.ctx, "client-a"))
		got, err = e.s.FindAPIKeyByClientID(e.ctx, "client-a")
		must(t, err)
		if !got.Revoked {
			t.Error("revoked key: got Revoked false")
		}
		got, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-a2"))
		must(t, err)
		if !got.Revoked {
			t.Error("revoked key by subscription key: got Revoked false")
		}
	})
}

func testMerchants(t *testing.T, e *env) {
	_, err := e.s.FindMerchant(e.ctx, bid("912345678"))
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.UpsertMerchant(e.ctx, &vippsmgmt.Merchant{BusinessIdentifier: bid("1"), Name: "x"}), vippsmgmt.EINVALID)

	m := &vippsmgmt.Merchant{BusinessIdentifier: bid("912345678"), Name: "Fjordkaffe AS", Status: vippsmgmt.MerchantActive,
		CountryCode: "NO", BusinessAddress: &vippsmgmt.Address{Lines: []string{"Storgata 1"}, PostCode: ptr("0155"), City: ptr("Oslo"), CountryCode: ptr("NO")}}
	must(t, e.s.UpsertMerchant(e.ctx, m))
	got, err := e.s.FindMerchant(e.ctx, m.BusinessIdentifier)
	must(t, err)
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("FindMerchant (-want +got):\n%s", diff)
	}

	// Same data again changes nothing, not even UpdatedAt.
	e.clock.Advance(time.Hour)
	again := *m
	again.CreatedAt, again.UpdatedAt = time.Time{}, time.Time{}
	must(t, e.s.UpsertMerchant(e.ctx, &again))
	got, err = e.s.FindMerchant(e.ctx, m.BusinessIdentifier)
	must(t, err)
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("after same upsert (-want +got):\n%s", diff)
	}

	changed := again
	changed.Status = vippsmgmt.MerchantDeactivated
	changed.BusinessPostAddress = &vippsmgmt.Address{Lines: []string{}}
	must(t, e.s.UpsertMerchant(e.ctx, &changed))
	got, err = e.s.FindMerchant(e.ctx, m.BusinessIdentifier)
	must(t, err)
	if !got.UpdatedAt.Equal(Start.Add(time.Hour)) || !got.CreatedAt.Equal(Start) {
		t.Errorf("after change: got created %v updated %v, want %v and %v", got.CreatedAt, got.UpdatedAt, Start, Start.Add(time.Hour))
	}
	if diff := cmp.Diff(&changed, got); diff != "" {
		t.Errorf("after change (-want +got):\n%s", diff)
	}

	e.merchant("987654321", vippsmgmt.MerchantActive)
	e.merchant("955555555", vippsmgmt.MerchantActive)
	for _, c := range []struct {
		f    vippsmgmt.MerchantFilter
		want []string
	}{
		{vippsmgmt.MerchantFilter{}, []string{"912345678", "955555555", "987654321"}},
		{vippsmgmt.MerchantFilter{Query: "FJORD"}, []string{"912345678"}},
		{vippsmgmt.MerchantFilter{Query: "98765"}, []string{"987654321"}},
		{vippsmgmt.MerchantFilter{Query: "merchant"}, []string{"955555555", "987654321"}},
		{vippsmgmt.MerchantFilter{Query: "%"}, []string{}},
		{vippsmgmt.MerchantFilter{Limit: 1}, []string{"912345678"}},
	} {
		ms, err := e.s.FindMerchants(e.ctx, c.f)
		must(t, err)
		ids := []string{}
		for _, m := range ms {
			ids = append(ids, m.BusinessIdentifier.ID)
		}
		if diff := cmp.Diff(c.want, ids); diff != "" {
			t.Errorf("FindMerchants(%+v) (-want +got):\n%s", c.f, diff)
		}
	}

	// A new merchant keeps the times it is given (a fixture recreating an account); a later
	// change still moves UpdatedAt to now and leaves CreatedAt alone.
	dated := &vippsmgmt.Merchant{BusinessIdentifier: bid("923609016"), Name: "Dated AS", Status: vippsmgmt.MerchantActive,
		CountryCode: "NO", CreatedAt: Start.Add(-48 * time.Hour), UpdatedAt: Start.Add(-24 * time.Hour)}
	must(t, e.s.UpsertMerchant(e.ctx, dated))
	got, err = e.s.FindMerchant(e.ctx, dated.BusinessIdentifier)
	must(t, err)
	if diff := cmp.Diff(dated, got); diff != "" {
		t.Errorf("merchant with given times (-want +got):\n%s", diff)
	}
	renamed := *dated
	renamed.Name = "Dated Renamed AS"
	must(t, e.s.UpsertMerchant(e.ctx, &renamed))
	got, err = e.s.FindMerchant(e.ctx, dated.BusinessIdentifier)
	must(t, err)
	if !got.CreatedAt.Equal(dated.CreatedAt) || !got.UpdatedAt.Equal(Start.Add(time.Hour)) {
		t.Errorf("after renaming: got created %v updated %v, want %v and %v", got.CreatedAt, got.UpdatedAt, dated.CreatedAt, Start.Add(time.Hour))
	}
}

func testSalesUnits(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	e.merchant("987654321", vippsmgmt.MerchantDeactivated)
	pp := e.pricePackage("acme")
	_, err := e.s.FindSalesUnitByMSN(e.ctx, "123456")
	wantCode(t, err, vippsmgmt.ENOTFOUND)

	su := &vippsmgmt.SalesUnit{MSN: "123456", Name: "Fjordkaffe Sentrum", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345678"),
		PartnerID: ptr("acme"), SettlementBankAccount: &vippsmgmt.BankAccount{Scheme: "BBAN:NO", ID: "12345678903"},
		Configuration: &vippsmgmt.Configuration{PaymentAllowed: ptr(true), CaptureType: ptr(vippsmgmt.CaptureReserve)}, PricePackageID: &pp.ID}
	must(t, e.s.UpsertSalesUnit(e.ctx, su))
	got, err := e.s.FindSalesUnitByMSN(e.ctx, "123456")
	must(t, err)
	want := *su
	want.MerchantStatus = vippsmgmt.MerchantActive
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("FindSalesUnitByMSN (-want +got):\n%s", diff)
	}

	e.clock.Advance(time.Hour)
	again := *su
	again.CreatedAt, again.UpdatedAt = time.Time{}, time.Time{}
	must(t, e.s.UpsertSalesUnit(e.ctx, &again))
	got, err = e.s.FindSalesUnitByMSN(e.ctx, "123456")
	must(t, err)
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("same upsert twice changed the unit (-want +got):\n%s", diff)
	}
	again.Name = "Fjordkaffe Torget"
	must(t, e.s.UpsertSalesUnit(e.ctx, &again))
	got, err = e.s.FindSalesUnitByMSN(e.ctx, "123456")
	must(t, err)
	if got.Name != "Fjordkaffe Torget" || !got.UpdatedAt.Equal(Start.Add(time.Hour)) || !got.CreatedAt.Equal(Start) {
		t.Errorf("after rename: got %q created %v updated %v", got.Name, got.CreatedAt, got.UpdatedAt)
	}

	e.unit("654321", "987654321", nil, vippsmgmt.SalesUnitActive)
	got, err = e.s.FindSalesUnitByMSN(e.ctx, "654321")
	must(t, err)
	if got.MerchantStatus != vippsmgmt.MerchantDeactivated || got.PartnerID != nil {
		t.Errorf("unit of deactivated merchant: got MerchantStatus %q partner %v", got.MerchantStatus, got.PartnerID)
	}

	for _, c := range []struct {
		name string
		su   vippsmgmt.SalesUnit
		code string
	}{
		{"msn of another merchant", vippsmgmt.SalesUnit{MSN: "123456", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("987654321")}, vippsmgmt.ECONFLICT},
		{"unknown merchant", vippsmgmt.SalesUnit{MSN: "222222", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("911111111")}, vippsmgmt.ENOTFOUND},
		{"unknown partner", vippsmgmt.SalesUnit{MSN: "222222", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345678"), PartnerID: ptr("ghost")}, vippsmgmt.ENOTFOUND},
		{"unknown price package", vippsmgmt.SalesUnit{MSN: "222222", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345678"), PricePackageID: ptr(uuid.NewString())}, vippsmgmt.ENOTFOUND},
		{"invalid", vippsmgmt.SalesUnit{MSN: "12", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345678")}, vippsmgmt.EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, e.s.UpsertSalesUnit(e.ctx, &c.su), c.code)
		})
	}
	if _, err := e.s.FindSalesUnitByMSN(e.ctx, "222222"); vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		t.Errorf("a failed upsert left a unit behind: %v", err)
	}
}

func testUpdateSalesUnit(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	e.unit("123456", "912345678", ptr("acme"), vippsmgmt.SalesUnitActive)
	_, err := e.s.UpdateSalesUnit(e.ctx, "999999", vippsmgmt.SalesUnitUpdate{Name: ptr("x")})
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	_, err = e.s.UpdateSalesUnit(e.ctx, "123456", vippsmgmt.SalesUnitUpdate{Status: ptr("GONE")})
	wantCode(t, err, vippsmgmt.EINVALID)
	_, err = e.s.UpdateSalesUnit(e.ctx, "123456", vippsmgmt.SalesUnitUpdate{PartnerID: ptr("ghost")})
	wantCode(t, err, vippsmgmt.ENOTFOUND)

	e.clock.Advance(time.Minute)
	got, err := e.s.UpdateSalesUnit(e.ctx, "123456", vippsmgmt.SalesUnitUpdate{Name: ptr("Renamed"), Status: ptr(vippsmgmt.SalesUnitInactive),
		PartnerID: ptr("beta"), Configuration: &vippsmgmt.Configuration{RecurringAllowed: ptr(true)}})
	must(t, err)
	if got.Name != "Renamed" || got.Status != vippsmgmt.SalesUnitInactive || got.PartnerID == nil || *got.PartnerID != "beta" ||
		got.Configuration == nil || got.Configuration.RecurringAllowed == nil || !*got.Configuration.RecurringAllowed ||
		!got.UpdatedAt.Equal(Start.Add(time.Minute)) || got.MerchantStatus != vippsmgmt.MerchantActive {
		t.Errorf("UpdateSalesUnit: got %+v", got)
	}
	stored, err := e.s.FindSalesUnitByMSN(e.ctx, "123456")
	must(t, err)
	if diff := cmp.Diff(got, stored); diff != "" {
		t.Errorf("returned and stored differ (-returned +stored):\n%s", diff)
	}
	got, err = e.s.UpdateSalesUnit(e.ctx, "123456", vippsmgmt.SalesUnitUpdate{ClearPartner: true, PartnerID: ptr("acme")})
	must(t, err)
	if got.PartnerID != nil {
		t.Errorf("ClearPartner: got partner %q, want none", *got.PartnerID)
	}
}

// visibilityFixture builds units that each break one visibility rule.
func visibilityFixture(e *env) {
	e.partner("acme")
	e.partner("beta")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	e.merchant("987654321", vippsmgmt.MerchantDeactivated)
	e.unit("100001", "912345678", ptr("acme"), vippsmgmt.SalesUnitActive)   // visible to acme
	e.unit("100002", "912345678", ptr("acme"), vippsmgmt.SalesUnitInactive) // inactive unit
	e.unit("100003", "987654321", ptr("acme"), vippsmgmt.SalesUnitActive)   // deactivated merchant
	e.unit("100004", "912345678", ptr("beta"), vippsmgmt.SalesUnitActive)   // other partner
	e.unit("100005", "912345678", nil, vippsmgmt.SalesUnitActive)           // no partner
	e.unit("2000", "912345678", ptr("acme"), vippsmgmt.SalesUnitActive)     // sorts first as text
}

func testVisibility(t *testing.T, e *env) {
	visibilityFixture(e)
	m1, m2 := bid("912345678"), bid("987654321")
	for _, c := range []struct {
		name string
		f    vippsmgmt.SalesUnitFilter
		want []string
	}{
		{"partner visible", vippsmgmt.SalesUnitFilter{PartnerID: ptr("acme"), Visible: true}, []string{"100001", "2000"}},
		{"other partner visible", vippsmgmt.SalesUnitFilter{PartnerID: ptr("beta"), Visible: true}, []string{"100004"}},
		{"unknown partner", vippsmgmt.SalesUnitFilter{PartnerID: ptr("ghost"), Visible: true}, []string{}},
		{"partner all", vippsmgmt.SalesUnitFilter{PartnerID: ptr("acme")}, []string{"100001", "100002", "100003", "2000"}},
		{"merchant visible", vippsmgmt.SalesUnitFilter{Merchant: &m1, Visible: true}, []string{"100001", "100004", "100005", "2000"}},
		{"deactivated merchant visible", vippsmgmt.SalesUnitFilter{Merchant: &m2, Visible: true}, []string{}},
		{"deactivated merchant all", vippsmgmt.SalesUnitFilter{Merchant: &m2}, []string{"100003"}},
		{"partner and merchant", vippsmgmt.SalesUnitFilter{PartnerID: ptr("beta"), Merchant: &m1, Visible: true}, []string{"100004"}},
		{"partner and other merchant", vippsmgmt.SalesUnitFilter{PartnerID: ptr("beta"), Merchant: &m2}, []string{}},
		{"all visible", vippsmgmt.SalesUnitFilter{Visible: true}, []string{"100001", "100004", "100005", "2000"}},
		{"all", vippsmgmt.SalesUnitFilter{}, []string{"100001", "100002", "100003", "100004", "100005", "2000"}},
		{"query msn", vippsmgmt.SalesUnitFilter{Query: "0000"}, []string{"100001", "100002", "100003", "100004", "100005"}},
		{"query name", vippsmgmt.SalesUnitFilter{Query: "UNIT 2"}, []string{"2000"}},
		{"query wildcard is literal", vippsmgmt.SalesUnitFilter{Query: "_"}, []string{}},
		{"limit", vippsmgmt.SalesUnitFilter{Limit: 2}, []string{"100001", "100002"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, e.each(c.f)); diff != "" {
				t.Errorf("EachSalesUnit (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.want, e.find(c.f)); diff != "" {
				t.Errorf("FindSalesUnits (-want +got):\n%s", diff)
			}
		})
	}
	// The store's view must agree with the domain rule the handlers apply to single units.
	caller := vippsmgmt.Caller{Kind: vippsmgmt.KeyPartner, PartnerID: "acme"}
	for _, msn := range []string{"100001", "100002", "100003", "100004", "100005", "2000"} {
		su, err := e.s.FindSalesUnitByMSN(e.ctx, msn)
		must(t, err)
		want := msn == "100001" || msn == "2000"
		if got := caller.CanSee(su); got != want {
			t.Errorf("CanSee(%s): got %v, want %v", msn, got, want)
		}
	}
}

func testEachSalesUnitStreams(t *testing.T, e *env) {
	visibilityFixture(e)
	stop := errors.New("stop")
	var calls []string
	err := e.s.EachSalesUnit(e.ctx, vippsmgmt.SalesUnitFilter{}, func(i vippsmgmt.MsnInfo) error {
		calls = append(calls, i.MSN)
		if len(calls) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("got %v, want fn's error", err)
	}
	if diff := cmp.Diff([]string{"100001", "100002"}, calls); diff != "" {
		t.Errorf("calls before stop (-want +got):\n%s", diff)
	}
	// fn may use the store while rows are still arriving.
	var names []string
	must(t, e.s.EachSalesUnit(e.ctx, vippsmgmt.SalesUnitFilter{PartnerID: ptr("acme"), Visible: true}, func(i vippsmgmt.MsnInfo) error {
		su, err := e.s.FindSalesUnitByMSN(e.ctx, i.MSN)
		if err != nil {
			return err
		}
		if su.Name != i.Name {
			return fmt.Errorf("name %q, want %q", i.Name, su.Name)
		}
		names = append(names, i.Name)
		return nil
	}))
	if diff := cmp.Diff([]string{"Unit 100001", "Unit 2000"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func testPricePackages(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	a1 := e.pricePackage("acme")
	a2 := &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: "acme", Name: "Hidden", VisibleInSignupForm: ptr(false)}
	must(t, e.s.UpsertPricePackage(e.ctx, a2))
	b1 := e.pricePackage("beta")

	got, err := e.s.FindPricePackages(e.ctx, "acme")
	must(t, err)
	if diff := cmp.Diff([]*vippsmgmt.PricePackage{a2, a1}, got); diff != "" {
		t.Errorf("FindPricePackages(acme) (-want +got):\n%s", diff)
	}
	got, err = e.s.FindPricePackages(e.ctx, "beta")
	must(t, err)
	if diff := cmp.Diff([]*vippsmgmt.PricePackage{b1}, got); diff != "" {
		t.Errorf("FindPricePackages(beta) (-want +got):\n%s", diff)
	}
	if got, err := e.s.FindPricePackages(e.ctx, ""); err != nil || len(got) != 3 {
		t.Errorf("FindPricePackages(\"\"): got %d, %v, want 3", len(got), err)
	}
	if got, err := e.s.FindPricePackages(e.ctx, "ghost"); err != nil || len(got) != 0 {
		t.Errorf("FindPricePackages(ghost): got %d, %v, want 0", len(got), err)
	}

	one, err := e.s.FindPricePackageByID(e.ctx, b1.ID)
	must(t, err)
	if diff := cmp.Diff(b1, one); diff != "" {
		t.Errorf("FindPricePackageByID (-want +got):\n%s", diff)
	}
	_, err = e.s.FindPricePackageByID(e.ctx, uuid.NewString())
	wantCode(t, err, vippsmgmt.ENOTFOUND)

	a1.Name, a1.Commission = "Renamed", nil
	must(t, e.s.UpsertPricePackage(e.ctx, a1))
	must(t, e.s.UpsertPricePackage(e.ctx, a1))
	one, err = e.s.FindPricePackageByID(e.ctx, a1.ID)
	must(t, err)
	if diff := cmp.Diff(a1, one); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}

	stolen := *b1
	stolen.PartnerID = "acme"
	wantCode(t, e.s.UpsertPricePackage(e.ctx, &stolen), vippsmgmt.ECONFLICT)
	wantCode(t, e.s.UpsertPricePackage(e.ctx, &vippsmgmt.PricePackage{ID: uuid.NewString(), PartnerID: "ghost", Name: "x"}), vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.UpsertPricePackage(e.ctx, &vippsmgmt.PricePackage{ID: "not-a-uuid", PartnerID: "acme", Name: "x"}), vippsmgmt.EINVALID)
}

func testPrefillLifecycle(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	pp := e.pricePackage("acme")
	o := e.prefill("acme", "912345678")
	if u, err := uuid.Parse(o.ID); err != nil || u.Version() != 7 {
		t.Errorf("id %q: want a version 7 UUID (%v)", o.ID, err)
	}
	got := e.order(o.ID)
	if diff := cmp.Diff(o, got); diff != "" {
		t.Errorf("created order (-want +got):\n%s", diff)
	}
	if got.Status != vippsmgmt.StatusReceived || !got.CreatedAt.Equal(Start) || !got.UpdatedAt.Equal(Start) {
		t.Errorf("new order: got status %s created %v updated %v", got.Status, got.CreatedAt, got.UpdatedAt)
	}

	viewAt := e.clock.Advance(time.Minute)
	viewed, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepView, nil, "")
	must(t, err)
	if viewed.Status != vippsmgmt.StatusMerchantViewed || viewed.ViewedAt == nil || !viewed.ViewedAt.Equal(viewAt) {
		t.Errorf("after view: got %s viewed %v", viewed.Status, viewed.ViewedAt)
	}
	e.clock.Advance(time.Minute)
	again, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepView, nil, "")
	must(t, err)
	if !again.ViewedAt.Equal(viewAt) {
		t.Errorf("second view moved ViewedAt to %v", again.ViewedAt)
	}

	details := vippsmgmt.OrderDetails{SalesUnitName: ptr("Fjordkaffe Bryggen"), PricePackageID: &pp.ID, HasRecurring: ptr(true),
		SettlementBankAccount: &vippsmgmt.BankAccount{Scheme: "BBAN:NO", ID: "12345678903"}}
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, &vippsmgmt.OrderDetails{MerchantCategoryCode: ptr("x")}, "")), vippsmgmt.EINVALID)
	submitAt := e.clock.Advance(time.Minute)
	sub, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, &details, "")
	must(t, err)
	if sub.Status != vippsmgmt.StatusOrderSubmitted || !sub.SubmittedAt.Equal(submitAt) {
		t.Errorf("after submit: got %s submitted %v", sub.Status, sub.SubmittedAt)
	}
	if diff := cmp.Diff(sub, e.order(o.ID)); diff != "" {
		t.Errorf("returned and stored differ (-returned +stored):\n%s", diff)
	}
	if diff := cmp.Diff(details, e.order(o.ID).Details); diff != "" {
		t.Errorf("submitted details (-want +got):\n%s", diff)
	}
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepView, nil, "")), vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, nil, "")), vippsmgmt.ECONFLICT)

	decideAt := e.clock.Advance(time.Hour)
	done, su, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MSN: "4321"})
	must(t, err)
	if done.Status != vippsmgmt.StatusCompleted || !done.DecidedAt.Equal(decideAt) ||
		done.SalesUnit == nil || *done.SalesUnit != (vippsmgmt.MsnInfo{MSN: "4321", Name: "Fjordkaffe Bryggen"}) {
		t.Errorf("approved order: got %s decided %v unit %+v", done.Status, done.DecidedAt, done.SalesUnit)
	}
	if diff := cmp.Diff(done, e.order(o.ID)); diff != "" {
		t.Errorf("returned and stored order differ (-returned +stored):\n%s", diff)
	}
	wantSU := &vippsmgmt.SalesUnit{MSN: "4321", Name: "Fjordkaffe Bryggen", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345678"),
		MerchantStatus: vippsmgmt.MerchantActive, PartnerID: ptr("acme"), SettlementBankAccount: details.SettlementBankAccount,
		Configuration:  &vippsmgmt.Configuration{PaymentAllowed: ptr(true), CaptureType: ptr(vippsmgmt.CaptureReserve), RecurringAllowed: ptr(true)},
		PricePackageID: &pp.ID, CreatedAt: decideAt, UpdatedAt: decideAt}
	if diff := cmp.Diff(wantSU, su); diff != "" {
		t.Errorf("created sales unit (-want +got):\n%s", diff)
	}
	stored, err := e.s.FindSalesUnitByMSN(e.ctx, "4321")
	must(t, err)
	if diff := cmp.Diff(wantSU, stored); diff != "" {
		t.Errorf("stored sales unit (-want +got):\n%s", diff)
	}
	if got := e.each(vippsmgmt.SalesUnitFilter{PartnerID: ptr("acme"), Visible: true}); !cmp.Equal(got, []string{"4321"}) {
		t.Errorf("partner's visible units after approval: got %v", got)
	}

	_, _, err = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "late")), vippsmgmt.ECONFLICT)

	ns, err := e.s.FindNotifications(e.ctx, 0)
	must(t, err)
	if len(ns) != 2 {
		t.Fatalf("got %d notifications, want 2", len(ns))
	}
	byRecipient := map[string]*vippsmgmt.Notification{}
	for _, n := range ns {
		byRecipient[n.Recipient] = n
		if n.OrderID != o.ID || n.SentAt != nil || !n.CreatedAt.Equal(decideAt) {
			t.Errorf("notification %+v: want order %s, unsent, created %v", n, o.ID, decideAt)
		}
		for _, s := range []string{"912345678", "Merchant 912345678", "4321", "Fjordkaffe Bryggen"} {
			if !strings.Contains(n.Subject+"\n"+n.Body, s) {
				t.Errorf("notification to %s does not mention %q:\n%s\n%s", n.Recipient, s, n.Subject, n.Body)
			}
		}
	}
	if p := byRecipient["partner"]; p == nil || p.RecipientName != "Partner acme" {
		t.Errorf("partner notification: got %+v", p)
	}
	if m := byRecipient["merchant"]; m == nil || m.RecipientName != "Merchant 912345678" {
		t.Errorf("merchant notification: got %+v", m)
	}
}

func stepErr(_ *vippsmgmt.ProductOrder, err error) error { return err }

func testApproveNewMerchant(t *testing.T, e *env) {
	e.partner("acme")
	o := e.submitted("acme", "933333333")
	_, _, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.EINVALID)
	if got := e.order(o.ID).Status; got != vippsmgmt.StatusOrderSubmitted {
		t.Fatalf("failed approval left status %s", got)
	}

	done, su, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MerchantName: "Nyhandel AS"})
	must(t, err)
	m, err := e.s.FindMerchant(e.ctx, bid("933333333"))
	must(t, err)
	if m.Name != "Nyhandel AS" || m.Status != vippsmgmt.MerchantActive || m.CountryCode != "NO" {
		t.Errorf("created merchant: got %+v", m)
	}
	if su.MSN != "100001" || su.Name != "Kiosk Sentrum" || done.SalesUnit.MSN != "100001" {
		t.Errorf("first allocated unit: got %s %q", su.MSN, su.Name)
	}

	// A scheme without a country cannot make a merchant.
	o2 := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderManual, BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: "business:ORGNUMBER", ID: "944444444"},
		ProductType: "LOGIN"}
	_, _, err = e.s.CreateProductOrder(e.ctx, o2, nil)
	must(t, err)
	_, _, err = e.s.ApproveProductOrder(e.ctx, o2.ID, vippsmgmt.Approval{MerchantName: "Nowhere AS"})
	wantCode(t, err, vippsmgmt.EINVALID)
}

func testApproveAllocatesMSN(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	e.unit("100041", "912345678", nil, vippsmgmt.SalesUnitActive)
	e.unit("99999999", "912345678", nil, vippsmgmt.SalesUnitActive) // not six digits: ignored
	e.unit("099999", "912345678", nil, vippsmgmt.SalesUnitActive)   // below the range: ignored

	long := strings.Repeat("Langt navn ", 6)[:40]
	var wantMSN = []string{"100042", "100043", "100044"}
	for i, want := range wantMSN {
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345678"), ProductType: "LOGIN"}
		if i == 1 {
			o.Details.SalesUnitName = &long
		}
		_, _, err := e.s.CreateProductOrder(e.ctx, o, nil)
		must(t, err)
		_, err = e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, nil, "")
		must(t, err)
		_, su, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
		must(t, err)
		if su.MSN != want {
			t.Errorf("approval %d: got MSN %s, want %s", i, su.MSN, want)
		}
		wantName := "Merchant 912345678"
		if i == 1 {
			wantName = long
		}
		if su.Name != wantName {
			t.Errorf("approval %d: got name %q, want %q", i, su.Name, wantName)
		}
		if c := su.Configuration; c == nil || c.PaymentAllowed == nil || *c.PaymentAllowed || c.RecurringAllowed == nil || *c.RecurringAllowed {
			t.Errorf("LOGIN unit configuration: got %+v, want payments and recurring off", c)
		}
	}
}

func testApproveConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	const n = 8
	orders := make([]*vippsmgmt.ProductOrder, n)
	for i := range orders {
		orders[i] = e.submitted("acme", "912345678")
	}
	got := make([]string, n)
	var wg sync.WaitGroup
	for i, o := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, su, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
			if err != nil {
				t.Errorf("approval %d: %v", i, err)
				return
			}
			got[i] = su.MSN
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, msn := range got {
		if seen[msn] {
			t.Fatalf("concurrent approvals allocated one MSN twice: %v", got)
		}
		seen[msn] = true
	}
	want := []string{"100001", "100002", "100003", "100004", "100005", "100006", "100007", "100008"}
	if diff := cmp.Diff(want, e.each(vippsmgmt.SalesUnitFilter{})); diff != "" {
		t.Errorf("units after concurrent approvals (-want +got):\n%s", diff)
	}
}

// testDecideConcurrent races approvals and rejections of one order: the row lock must let exactly
// one decide it, with one decision's notifications. Several rounds, so the later ones run on a
// warm connection pool where the transactions really overlap.
func testDecideConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	const rounds, n = 4, 10
	for round := range rounds {
		o := e.submitted("acme", "912345678")
		errs := make([]error, n)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%2 == 0 {
					_, _, errs[i] = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
				} else {
					_, errs[i] = e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "race")
				}
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch vippsmgmt.ErrorCode(err) {
			case "":
				ok++
			case vippsmgmt.ECONFLICT:
			default:
				t.Errorf("round %d, decision %d: %v", round, i, err)
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d decisions succeeded, want 1", round, ok)
		}
	}
	ns, err := e.s.FindNotifications(e.ctx, 0)
	must(t, err)
	orders, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{})
	must(t, err)
	completed := 0
	for _, o := range orders {
		if o.Status == vippsmgmt.StatusCompleted {
			completed++
		}
	}
	if len(ns) != 2*rounds {
		t.Errorf("got %d notifications, want %d", len(ns), 2*rounds)
	}
	if units := e.each(vippsmgmt.SalesUnitFilter{}); len(units) != completed {
		t.Errorf("got %d sales units for %d completed orders", len(units), completed)
	}
}

func testApproveFailures(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	e.unit("123456", "912345678", nil, vippsmgmt.SalesUnitActive)
	received := e.prefill("acme", "912345678")
	_, _, err := e.s.ApproveProductOrder(e.ctx, received.ID, vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.ECONFLICT)

	o := e.submitted("acme", "912345678")
	_, _, err = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MSN: "123456"})
	wantCode(t, err, vippsmgmt.ECONFLICT)
	_, _, err = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MSN: "12a"})
	wantCode(t, err, vippsmgmt.EINVALID)
	_, _, err = e.s.ApproveProductOrder(e.ctx, uuid.NewString(), vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	if got := e.order(o.ID); got.Status != vippsmgmt.StatusOrderSubmitted || got.SalesUnit != nil {
		t.Errorf("failed approvals changed the order: %s %+v", got.Status, got.SalesUnit)
	}
	if ns, err := e.s.FindNotifications(e.ctx, 0); err != nil || len(ns) != 0 {
		t.Errorf("failed approvals queued %d notifications (%v)", len(ns), err)
	}
}

func testReject(t *testing.T, e *env) {
	e.partner("acme")
	o := e.submitted("acme", "912345678") // merchant unknown: notifications name the business id
	at := e.clock.Advance(time.Hour)
	got, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "Missing documentation")
	must(t, err)
	if got.Status != vippsmgmt.StatusRejected || got.RejectionReason != "Missing documentation" || !got.DecidedAt.Equal(at) {
		t.Errorf("rejected order: got %s %q %v", got.Status, got.RejectionReason, got.DecidedAt)
	}
	if diff := cmp.Diff(got, e.order(o.ID)); diff != "" {
		t.Errorf("returned and stored differ (-returned +stored):\n%s", diff)
	}
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "again")), vippsmgmt.ECONFLICT)
	_, _, err = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MerchantName: "x"})
	wantCode(t, err, vippsmgmt.ECONFLICT)

	ns, err := e.s.FindUnsentNotifications(e.ctx, 10)
	must(t, err)
	if len(ns) != 2 {
		t.Fatalf("got %d notifications, want 2", len(ns))
	}
	names := map[string]string{}
	for _, n := range ns {
		names[n.Recipient] = n.RecipientName
		if !strings.Contains(n.Subject+n.Body, "912345678") {
			t.Errorf("rejection notification lacks the business id:\n%s\n%s", n.Subject, n.Body)
		}
		// The merchant learns why; the reason may not be disclosed to the partner.
		if got, want := strings.Contains(n.Body, "Missing documentation"), n.Recipient == "merchant"; got != want {
			t.Errorf("%s notification carries the reason: %v, want %v:\n%s", n.Recipient, got, want, n.Body)
		}
	}
	if diff := cmp.Diff(map[string]string{"partner": "Partner acme", "merchant": bid("912345678").String()}, names); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
}

func testTemplateOrder(t *testing.T, e *env) {
	e.merchant("912345678", vippsmgmt.MerchantActive)
	o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderTemplate, BusinessIdentifier: bid("912345678"), ProductType: "CASHIER"}
	_, _, err := e.s.CreateProductOrder(e.ctx, o, nil)
	must(t, err)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepView, nil, "")), vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, nil, "")), vippsmgmt.ECONFLICT)
	done, su, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
	must(t, err)
	if done.Status != vippsmgmt.StatusCompleted || su.PartnerID != nil {
		t.Errorf("template approval: got %s partner %v", done.Status, su.PartnerID)
	}
	ns, err := e.s.FindNotifications(e.ctx, 0)
	must(t, err)
	if len(ns) != 1 || ns[0].Recipient != "merchant" {
		t.Errorf("an order without a partner notifies only the merchant: got %d notifications", len(ns))
	}
	// Created long ago, a template order never expires.
	e.clock.Advance(vippsmgmt.PrefillLifetime * 2)
	o2 := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderManual, BusinessIdentifier: bid("912345678"), ProductType: "CASHIER"}
	_, _, err = e.s.CreateProductOrder(e.ctx, o2, nil)
	must(t, err)
	e.clock.Advance(vippsmgmt.PrefillLifetime * 2)
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 0 {
		t.Errorf("ExpireProductOrders: got %d, %v, want 0", n, err)
	}
}

func testStepErrors(t *testing.T, e *env) {
	e.partner("acme")
	o := e.prefill("acme", "912345678")
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, uuid.NewString(), vippsmgmt.StepView, nil, "")), vippsmgmt.ENOTFOUND)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, "teleport", nil, "")), vippsmgmt.EINVALID)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "too early")), vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepExpire, nil, "")), vippsmgmt.ECONFLICT)
	// RECEIVED straight to ORDER_SUBMITTED is allowed: opened and submitted in one visit.
	got, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, nil, "")
	must(t, err)
	if got.Status != vippsmgmt.StatusOrderSubmitted || got.ViewedAt == nil {
		t.Errorf("submit from RECEIVED: got %s viewed %v", got.Status, got.ViewedAt)
	}
	_, _, err = e.s.CreateProductOrder(e.ctx, &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("ghost"),
		BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}, nil)
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	_, _, err = e.s.CreateProductOrder(e.ctx, &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, BusinessIdentifier: bid("9"), ProductType: "CHECKOUT"}, nil)
	wantCode(t, err, vippsmgmt.EINVALID)
	dup := &vippsmgmt.ProductOrder{ID: o.ID, Type: vippsmgmt.OrderPrefill, BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}
	_, _, err = e.s.CreateProductOrder(e.ctx, dup, nil)
	wantCode(t, err, vippsmgmt.ECONFLICT)
}

func testDeleteProductOrder(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: "k1", RequestHash: []byte("h1")}
	o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}
	id, _, err := e.s.CreateProductOrder(e.ctx, o, idem)
	must(t, err)

	wantCode(t, e.s.DeleteProductOrder(e.ctx, "beta", id), vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.DeleteProductOrder(e.ctx, "acme", uuid.NewString()), vippsmgmt.ENOTFOUND)
	_, err = e.s.StepProductOrder(e.ctx, id, vippsmgmt.StepView, nil, "")
	must(t, err)
	must(t, e.s.DeleteProductOrder(e.ctx, "acme", id))
	_, err = e.s.FindProductOrderByID(e.ctx, id)
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.DeleteProductOrder(e.ctx, "acme", id), vippsmgmt.ENOTFOUND)

	// The key outlives the order: a retry still answers with the same id.
	again := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}
	rid, replayed, err := e.s.CreateProductOrder(e.ctx, again, idem)
	must(t, err)
	if rid != id || !replayed {
		t.Errorf("replay after delete: got %s %v, want %s true", rid, replayed, id)
	}

	sub := e.submitted("acme", "912345678")
	wantCode(t, e.s.DeleteProductOrder(e.ctx, "acme", sub.ID), vippsmgmt.EINVALID)
	e.order(sub.ID)

	tmpl := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderTemplate, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}
	_, _, err = e.s.CreateProductOrder(e.ctx, tmpl, nil)
	must(t, err)
	wantCode(t, e.s.DeleteProductOrder(e.ctx, "acme", tmpl.ID), vippsmgmt.EINVALID)

	// An expired prefill may still be withdrawn.
	old := e.prefill("acme", "912345678")
	e.clock.Advance(vippsmgmt.PrefillLifetime)
	must(t, e.s.DeleteProductOrder(e.ctx, "acme", old.ID))
}

func testFindProductOrders(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	a1 := e.prefill("acme", "912345678")
	e.clock.Advance(time.Second)
	b1 := e.prefill("beta", "912345678")
	e.clock.Advance(time.Second)
	a2 := e.submitted("acme", "987654321")
	e.clock.Advance(time.Second)
	a3 := e.prefill("acme", "955555555")

	ids := func(f vippsmgmt.ProductOrderFilter) []string {
		t.Helper()
		os, err := e.s.FindProductOrders(e.ctx, f)
		must(t, err)
		out := []string{}
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    vippsmgmt.ProductOrderFilter
		want []string
	}{
		{"all newest first", vippsmgmt.ProductOrderFilter{}, []string{a3.ID, a2.ID, b1.ID, a1.ID}},
		{"partner", vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme")}, []string{a3.ID, a2.ID, a1.ID}},
		{"other partner", vippsmgmt.ProductOrderFilter{PartnerID: ptr("beta")}, []string{b1.ID}},
		{"status", vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme"), Statuses: []string{vippsmgmt.StatusOrderSubmitted}}, []string{a2.ID}},
		{"statuses", vippsmgmt.ProductOrderFilter{Statuses: []string{vippsmgmt.StatusReceived, vippsmgmt.StatusCompleted}}, []string{a3.ID, b1.ID, a1.ID}},
		{"limit", vippsmgmt.ProductOrderFilter{Limit: 2}, []string{a3.ID, a2.ID}},
	} {
		if diff := cmp.Diff(c.want, ids(c.f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	got, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme"), Statuses: []string{vippsmgmt.StatusOrderSubmitted}})
	must(t, err)
	if diff := cmp.Diff([]*vippsmgmt.ProductOrder{e.order(a2.ID)}, got); diff != "" {
		t.Errorf("full order (-want +got):\n%s", diff)
	}
	// WithoutDetails reads everything but the details.
	summary, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme"), Statuses: []string{vippsmgmt.StatusOrderSubmitted}, WithoutDetails: true})
	must(t, err)
	want := e.order(a2.ID)
	if want.Details == (vippsmgmt.OrderDetails{}) {
		t.Fatal("the submitted order has no details to leave out")
	}
	want.Details = vippsmgmt.OrderDetails{}
	if diff := cmp.Diff([]*vippsmgmt.ProductOrder{want}, summary); diff != "" {
		t.Errorf("order without details (-want +got):\n%s", diff)
	}
}

func testUpsertProductOrder(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	created := Start.Add(-48 * time.Hour)
	decided := Start.Add(-24 * time.Hour)
	o := &vippsmgmt.ProductOrder{ID: uuid.NewString(), Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), Status: vippsmgmt.StatusCompleted,
		BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT", Details: vippsmgmt.OrderDetails{AnnualTurnover: ptr(int64(1000))},
		SalesUnit: &vippsmgmt.MsnInfo{MSN: "123456", Name: "Fixture"}, CreatedAt: created, UpdatedAt: decided,
		ViewedAt: &created, SubmittedAt: &created, DecidedAt: &decided}
	must(t, e.s.UpsertProductOrder(e.ctx, o))
	must(t, e.s.UpsertProductOrder(e.ctx, o))
	if diff := cmp.Diff(o, e.order(o.ID)); diff != "" {
		t.Errorf("fixture (-want +got):\n%s", diff)
	}
	o.RejectionReason, o.Status, o.SalesUnit = "changed", vippsmgmt.StatusRejected, nil
	must(t, e.s.UpsertProductOrder(e.ctx, o))
	if diff := cmp.Diff(o, e.order(o.ID)); diff != "" {
		t.Errorf("updated fixture (-want +got):\n%s", diff)
	}
	bad := *o
	bad.Status = vippsmgmt.StatusCompleted
	wantCode(t, e.s.UpsertProductOrder(e.ctx, &bad), vippsmgmt.EINVALID)
	orphan := *o
	orphan.ID, orphan.PartnerID = uuid.NewString(), ptr("ghost")
	wantCode(t, e.s.UpsertProductOrder(e.ctx, &orphan), vippsmgmt.ENOTFOUND)
}

func testExpiry(t *testing.T, e *env) {
	e.partner("acme")
	received := e.prefill("acme", "911111111")
	viewed := e.prefill("acme", "922222222")
	_, err := e.s.StepProductOrder(e.ctx, viewed.ID, vippsmgmt.StepView, nil, "")
	must(t, err)
	submitted := e.submitted("acme", "933333333")
	e.clock.Advance(time.Hour)
	young := e.prefill("acme", "944444444")

	visible := func() []string {
		t.Helper()
		os, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme")})
		must(t, err)
		out := []string{}
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	all := []string{young.ID, submitted.ID, viewed.ID, received.ID}
	e.clock.Set(Start.Add(vippsmgmt.PrefillLifetime - time.Microsecond))
	if diff := cmp.Diff(all, visible()); diff != "" {
		t.Errorf("just before expiry (-want +got):\n%s", diff)
	}
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 0 {
		t.Errorf("sweep before expiry: got %d, %v, want 0", n, err)
	}

	// At ExpiresAt the orders are EXPIRED for callers although no sweep has written it.
	e.clock.Set(Start.Add(vippsmgmt.PrefillLifetime))
	if diff := cmp.Diff([]string{young.ID, submitted.ID}, visible()); diff != "" {
		t.Errorf("expired but not swept (-want +got):\n%s", diff)
	}
	if got := e.order(received.ID); got.Status != vippsmgmt.StatusReceived || got.StatusAt(e.clock.Now()) != vippsmgmt.StatusExpired {
		t.Errorf("unswept order: stored %s, StatusAt %s", got.Status, got.StatusAt(e.clock.Now()))
	}
	withExpired, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	if len(withExpired) != 4 {
		t.Errorf("IncludeExpired: got %d orders, want 4", len(withExpired))
	}
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, viewed.ID, vippsmgmt.StepSubmit, nil, "")), vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, received.ID, vippsmgmt.StepView, nil, "")), vippsmgmt.ECONFLICT)

	sweepAt := e.clock.Advance(time.Minute)
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 2 {
		t.Fatalf("sweep: got %d, %v, want 2", n, err)
	}
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 0 {
		t.Errorf("second sweep: got %d, %v, want 0", n, err)
	}
	for _, id := range []string{received.ID, viewed.ID} {
		got := e.order(id)
		if got.Status != vippsmgmt.StatusExpired || got.ExpiredAt == nil || !got.ExpiredAt.Equal(got.ExpiresAt()) || !got.UpdatedAt.Equal(sweepAt) {
			t.Errorf("swept order: got %s expired %v updated %v, want EXPIRED at %v", got.Status, got.ExpiredAt, got.UpdatedAt, got.ExpiresAt())
		}
	}
	if got := e.order(submitted.ID); got.Status != vippsmgmt.StatusOrderSubmitted {
		t.Errorf("submitted order: got %s", got.Status)
	}
	if diff := cmp.Diff([]string{young.ID, submitted.ID}, visible()); diff != "" {
		t.Errorf("after sweep (-want +got):\n%s", diff)
	}
	expired, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{Statuses: []string{vippsmgmt.StatusExpired}, IncludeExpired: true})
	must(t, err)
	if len(expired) != 2 {
		t.Errorf("stored EXPIRED: got %d, want 2", len(expired))
	}
}

// testConcurrentSweeps runs sweeps side by side; the second round runs on a warm pool.
func testConcurrentSweeps(t *testing.T, e *env) {
	e.partner("acme")
	const rounds, orders, sweepers = 2, 30, 6
	for round := range rounds {
		for i := range orders {
			e.prefill("acme", fmt.Sprintf("9%08d", i))
		}
		e.clock.Advance(vippsmgmt.PrefillLifetime)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
			start = make(chan struct{})
		)
		for range sweepers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				n, err := e.s.ExpireProductOrders(e.ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if total != orders {
			t.Errorf("round %d: concurrent sweeps expired %d orders in total, want %d", round, total, orders)
		}
	}
}

func testIdempotency(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	newOrder := func(partner string) *vippsmgmt.ProductOrder {
		return &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr(partner), BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}
	}
	idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-1", RequestHash: []byte{1, 2, 3}}
	id, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder("acme"), idem)
	must(t, err)
	if replayed {
		t.Error("first call: got replayed true")
	}
	e.clock.Advance(time.Minute)
	id2, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder("acme"), idem)
	must(t, err)
	if id2 != id || !replayed {
		t.Errorf("replay: got %s %v, want %s true", id2, replayed, id)
	}
	_, _, err = e.s.CreateProductOrder(e.ctx, newOrder("acme"), &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-1", RequestHash: []byte{9}})
	wantCode(t, err, vippsmgmt.ECONFLICT)
	if !strings.Contains(vippsmgmt.ErrorMessage(err), "Idempotency-Key") {
		t.Errorf("conflict message: got %q", vippsmgmt.ErrorMessage(err))
	}
	id3, replayed, err := e.s.CreateProductOrder(e.ctx, newOrder("beta"), &vippsmgmt.Idempotency{PartnerID: "beta", Key: "key-1", RequestHash: []byte{1, 2, 3}})
	must(t, err)
	if id3 == id || replayed {
		t.Errorf("same key of another partner: got %s %v, want a new order", id3, replayed)
	}
	os, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	if len(os) != 2 {
		t.Errorf("got %d orders, want 2", len(os))
	}
	// A failed create must not consume the key.
	bad := newOrder("acme")
	bad.ProductType = "NOPE"
	_, _, err = e.s.CreateProductOrder(e.ctx, bad, &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-2", RequestHash: []byte{7}})
	wantCode(t, err, vippsmgmt.EINVALID)
	_, replayed, err = e.s.CreateProductOrder(e.ctx, newOrder("acme"), &vippsmgmt.Idempotency{PartnerID: "acme", Key: "key-2", RequestHash: []byte{8}})
	must(t, err)
	if replayed {
		t.Error("key of a failed request: got replayed true")
	}
}

// testIdempotencyConcurrent races 20 creates with one key, in several rounds so the later ones
// run on a warm connection pool where the transactions really overlap.
func testIdempotencyConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	const rounds, n = 3, 20
	for round := range rounds {
		key := fmt.Sprintf("key-%d", round)
		ids := make([]string, n)
		replays := make([]bool, n)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}
				id, replayed, err := e.s.CreateProductOrder(e.ctx, o, &vippsmgmt.Idempotency{PartnerID: "acme", Key: key, RequestHash: []byte("body")})
				if err != nil {
					t.Errorf("round %d, goroutine %d: %v", round, i, err)
				}
				ids[i], replays[i] = id, replayed
			}()
		}
		close(start)
		wg.Wait()
		firsts := 0
		for i := range ids {
			if ids[i] != ids[0] {
				t.Fatalf("round %d: concurrent creates returned different ids: %q", round, ids)
			}
			if !replays[i] {
				firsts++
			}
		}
		if firsts != 1 {
			t.Errorf("round %d: got %d non-replayed answers, want 1", round, firsts)
		}
		e.order(ids[0])
	}
	os, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true})
	must(t, err)
	if len(os) != rounds {
		t.Errorf("got %d orders, want exactly %d", len(os), rounds)
	}
}

func testPurgeIdempotencyKeys(t *testing.T, e *env) {
	e.partner("acme")
	create := func(key string) (string, bool) {
		t.Helper()
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345678"), ProductType: "CHECKOUT"}
		id, replayed, err := e.s.CreateProductOrder(e.ctx, o, &vippsmgmt.Idempotency{PartnerID: "acme", Key: key, RequestHash: []byte("h")})
		must(t, err)
		return id, replayed
	}
	old, _ := create("old")
	e.clock.Advance(vippsmgmt.IdempotencyRetention)
	create("new")
	n, err := e.s.PurgeIdempotencyKeys(e.ctx, e.clock.Now().Add(-vippsmgmt.IdempotencyRetention+time.Microsecond))
	must(t, err)
	if n != 1 {
		t.Errorf("purged %d keys, want 1", n)
	}
	if id, replayed := create("old"); replayed || id == old {
		t.Errorf("purged key: got %s replayed %v, want a new order", id, replayed)
	}
	if _, replayed := create("new"); !replayed {
		t.Error("kept key: got replayed false")
	}
}

func testNotifications(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345678", vippsmgmt.MerchantActive)
	o1 := e.submitted("acme", "912345678")
	_, _, err := e.s.ApproveProductOrder(e.ctx, o1.ID, vippsmgmt.Approval{})
	must(t, err)
	e.clock.Advance(time.Second)
	o2 := e.submitted("acme", "912345678")
	_, err = e.s.StepProductOrder(e.ctx, o2.ID, vippsmgmt.StepReject, nil, "no")
	must(t, err)

	all, err := e.s.FindNotifications(e.ctx, 0)
	must(t, err)
	if len(all) != 4 || all[0].OrderID != o2.ID || all[3].OrderID != o1.ID || all[0].ID <= all[3].ID {
		t.Fatalf("FindNotifications: want 4, newest first; got %d", len(all))
	}
	if two, err := e.s.FindNotifications(e.ctx, 2); err != nil || len(two) != 2 || two[0].ID != all[0].ID {
		t.Errorf("FindNotifications(2): got %d, %v", len(two), err)
	}
	unsent, err := e.s.FindUnsentNotifications(e.ctx, 3)
	must(t, err)
	if len(unsent) != 3 || unsent[0].ID != all[3].ID {
		t.Fatalf("FindUnsentNotifications(3): want the 3 oldest, got %d", len(unsent))
	}

	must(t, e.s.MarkNotification(e.ctx, unsent[0].ID, nil, "smtp: connection refused"))
	sentAt := e.clock.Advance(time.Minute)
	must(t, e.s.MarkNotification(e.ctx, unsent[1].ID, &sentAt, ""))
	wantCode(t, e.s.MarkNotification(e.ctx, 1<<40, &sentAt, ""), vippsmgmt.ENOTFOUND)

	unsent, err = e.s.FindUnsentNotifications(e.ctx, 10)
	must(t, err)
	if len(unsent) != 3 {
		t.Fatalf("after one sent: got %d unsent, want 3", len(unsent))
	}
	if f := unsent[0]; f.ID != all[3].ID || f.Attempts != 1 || f.LastError != "smtp: connection refused" || f.SentAt != nil {
		t.Errorf("failed notification: got %+v", f)
	}
	all2, err := e.s.FindNotifications(e.ctx, 0)
	must(t, err)
	if s := all2[2]; s.SentAt == nil || !s.SentAt.Equal(sentAt) || s.Attempts != 1 || s.LastError != "" {
		t.Errorf("sent notification: got %+v", s)
	}
}
