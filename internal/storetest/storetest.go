// Package storetest is the behaviour suite every vippsmgmt.Store must pass, plus a settable clock
// for tests elsewhere.
package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

// Run runs the suite. Each subtest calls open for a new, empty store using its own Clock at Start;
// open should close the store when the test ends. Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T, clock vippsmgmt.Clock) vippsmgmt.Store) {
	runSuite(t, open, []suiteTest{
		{"Ping", testPing},
		{"Settings", testSettings},
		{"SettingsConcurrent", testSettingsConcurrent},
		{"Partners", testPartners},
		{"CreateAndRenamePartner", testCreateAndRenamePartner},
		{"APIKeys", testAPIKeys},
		{"CreateAPIKeyConcurrent", testCreateAPIKeyConcurrent},
		{"Merchants", testMerchants},
		{"CreateMerchant", testCreateMerchant},
		{"SalesUnits", testSalesUnits},
		{"CreateSalesUnit", testCreateSalesUnit},
		{"UpdateSalesUnit", testUpdateSalesUnit},
		{"Visibility", testVisibility},
		{"EachSalesUnitStreams", testEachSalesUnitStreams},
		{"PricePackages", testPricePackages},
		{"CreatePricePackage", testCreatePricePackage},
		{"CreatePricePackageConcurrent", testCreatePricePackageConcurrent},
		{"PrefillPricePackage", testPrefillPricePackage},
		{"PrefillPackageChanged", testPrefillPackageChanged},
		{"PrefillLifecycle", testPrefillLifecycle},
		{"SubmitForm", testSubmitForm},
		{"ApproveNewMerchant", testApproveNewMerchant},
		{"ApproveAllocatesMSN", testApproveAllocatesMSN},
		{"ApproveConcurrent", testApproveConcurrent},
		{"DecideConcurrent", testDecideConcurrent},
		{"RejectNeedsAReason", testRejectNeedsAReason},
		{"ApproveFailures", testApproveFailures},
		{"Reject", testReject},
		{"TemplateOrder", testTemplateOrder},
		{"StepErrors", testStepErrors},
		{"DeleteProductOrder", testDeleteProductOrder},
		{"FindProductOrders", testFindProductOrders},
		{"UpsertProductOrder", testUpsertProductOrder},
		{"UpsertConcurrent", testUpsertConcurrent},
		{"Expiry", testExpiry},
		{"ExpiryAgreesWithStatusAt", testExpiryAgreesWithStatusAt},
		{"ConcurrentSweeps", testConcurrentSweeps},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"IdempotencyChosenPackage", testIdempotencyChosenPackage},
		{"IdempotentAnswer", testIdempotentAnswer},
		{"PurgeIdempotencyKeys", testPurgeIdempotencyKeys},
		{"Notifications", testNotifications},
		{"FaultRules", testFaultRules},
		{"FaultBudgets", testFaultBudgets},
		{"FaultCountConcurrent", testFaultCountConcurrent},
		{"PutFaultRule", testPutFaultRule},
		{"AutopilotPolicies", testAutopilotPolicies},
		{"PageProductOrders", testPageProductOrders},
		{"PageLists", testPageLists},
		{"PageNotifications", testPageNotifications},
	})
}

// RunReport runs the behaviour suite of vippsmgmt.ReportStore; open must return a store that also
// implements it.
func RunReport(t *testing.T, open func(t *testing.T, clock vippsmgmt.Clock) vippsmgmt.Store) {
	runSuite(t, open, []suiteTest{
		{"Aggregates", withReportStore(testReportAggregates)},
		{"StateContinues", withReportStore(testReportStateContinues)},
		{"Reset", withReportStore(testReportReset)},
		{"Concurrent", withReportStore(testReportConcurrent)},
		{"ProblemsBounded", withReportStore(testReportProblemsBounded)},
	})
}

// withReportStore hands fn the store under test as the vippsmgmt.ReportStore it must also be.
func withReportStore(fn func(*testing.T, *env, vippsmgmt.ReportStore)) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		rs, ok := e.s.(vippsmgmt.ReportStore)
		if !ok {
			t.Fatalf("%T does not implement vippsmgmt.ReportStore", e.s)
		}
		fn(t, e, rs)
	}
}

type suiteTest struct {
	name string
	fn   func(*testing.T, *env)
}

// runSuite runs each test in parallel on a new store that open makes with the test's own Clock.
func runSuite(t *testing.T, open func(t *testing.T, clock vippsmgmt.Clock) vippsmgmt.Store, tests []suiteTest) {
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

// race runs f(0) … f(n-1) in n goroutines released together, so that their store calls overlap
// as far as the connection pool lets them, and returns when all have returned.
func race(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// wantSame fails the test unless got equals want, showing under the heading what how they differ.
func wantSame[T any](t *testing.T, what string, want, got T) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
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

// stored reads with find the row of key k, which must exist.
func stored[K, V any](e *env, find func(context.Context, K) (V, error), k K) V {
	e.t.Helper()
	v, err := find(e.ctx, k)
	must(e.t, err)
	return v
}

func (e *env) order(id string) *vippsmgmt.ProductOrder {
	e.t.Helper()
	return stored(e, e.s.FindProductOrderByID, id)
}

// keysOf lists key(row) for each row, in order; with no rows it is empty, not nil, so that it
// compares equal to []string{}.
func keysOf[T any](rows []T, key func(T) string) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, key(r))
	}
	return out
}

func msns(infos []vippsmgmt.MsnInfo) []string {
	return keysOf(infos, func(i vippsmgmt.MsnInfo) string { return i.MSN })
}

// orderIDs lists the ids of the orders FindProductOrders finds with f, in its order.
func (e *env) orderIDs(f vippsmgmt.ProductOrderFilter) []string {
	e.t.Helper()
	os, err := e.s.FindProductOrders(e.ctx, f)
	must(e.t, err)
	return keysOf(os, func(o *vippsmgmt.ProductOrder) string { return o.ID })
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
	return keysOf(units, func(u *vippsmgmt.SalesUnit) string { return u.MSN })
}
