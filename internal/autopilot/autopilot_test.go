package autopilot

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/clock"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
)

// TestAdvanceBeyondOffsetRange: advances that each pass the operator API's bound must still not
// add up past the clock offset's range, which would wrap it round into the past.
func TestAdvanceBeyondOffsetRange(t *testing.T) {
	ctx := context.Background()
	clk := clock.New()
	e := New(sqlitetest.Open(t, clk), clk, nil)
	const step = 99 * 365 * 24 * time.Hour
	for range 2 {
		if _, err := e.Advance(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	before := clk.Offset()
	_, err := e.Advance(ctx, step)
	if code := vippsmgmt.ErrorCode(err); code != vippsmgmt.EINVALID {
		t.Fatalf("third advance: error %v (code %q), want %s", err, code, vippsmgmt.EINVALID)
	}
	if got := clk.Offset(); got != before {
		t.Errorf("offset after the refused advance: got %v, want %v", got, before)
	}
}

// refusingStore holds one submitted prefill whose approval the store refuses as invalid.
type refusingStore struct {
	vippsmgmt.Store
	order     *vippsmgmt.ProductOrder
	approvals int
}

func (s *refusingStore) FindAutopilotPolicies(context.Context, vippsmgmt.Page) ([]*vippsmgmt.AutopilotPolicy, error) {
	decide := time.Second
	return []*vippsmgmt.AutopilotPolicy{{Decide: &decide, Decision: vippsmgmt.DecisionApprove}}, nil
}

func (s *refusingStore) FindProductOrders(context.Context, vippsmgmt.ProductOrderFilter) ([]*vippsmgmt.ProductOrder, error) {
	o := *s.order
	return []*vippsmgmt.ProductOrder{&o}, nil
}

func (s *refusingStore) ApproveProductOrder(context.Context, string, vippsmgmt.Approval) (*vippsmgmt.ProductOrder, *vippsmgmt.SalesUnit, error) {
	s.approvals++
	return nil, nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The price package of the order no longer exists.")
}

// TestRefusedStepNotRetried: a step the store refuses as invalid is left to a person, not tried
// again (and logged again) at every run.
func TestRefusedStepNotRetried(t *testing.T) {
	clk := clock.New()
	at := clk.Now().Add(-time.Hour)
	st := &refusingStore{order: &vippsmgmt.ProductOrder{ID: "o-1", Type: vippsmgmt.OrderPrefill,
		Status: vippsmgmt.StatusOrderSubmitted, CreatedAt: at, UpdatedAt: at, SubmittedAt: &at}}
	e := New(st, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 3 {
		if n, _, err := e.RunDue(context.Background()); err != nil || n != 0 {
			t.Fatalf("RunDue: %d applied, %v", n, err)
		}
	}
	if st.approvals != 1 {
		t.Errorf("approval tried %d times, want 1", st.approvals)
	}
}
