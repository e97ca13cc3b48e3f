package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

func testApproveNewMerchant(t *testing.T, e *env) {
	e.partner("acme")
	o := e.submitted("acme", "933333329")
	_, _, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.EINVALID)
	if got := e.order(o.ID).Status; got != vippsmgmt.StatusOrderSubmitted {
		t.Fatalf("failed approval left status %s", got)
	}

	done, su, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MerchantName: "Nyhandel AS"})
	must(t, err)
	m := stored(e, e.s.FindMerchant, bid("933333329"))
	if m.Name != "Nyhandel AS" || m.Status != vippsmgmt.MerchantActive || m.CountryCode != "NO" {
		t.Errorf("created merchant: got %+v", m)
	}
	if su.MSN != "100001" || su.Name != "Kiosk Sentrum" || done.SalesUnit.MSN != "100001" {
		t.Errorf("first allocated unit: got %s %q", su.MSN, su.Name)
	}

	// A scheme without a country cannot make a merchant.
	o2 := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderManual, BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: "business:ORGNUMBER", ID: "944444440"},
		ProductType: "LOGIN"}
	_, _, err = e.s.CreateProductOrder(e.ctx, o2, nil)
	must(t, err)
	_, _, err = e.s.ApproveProductOrder(e.ctx, o2.ID, vippsmgmt.Approval{MerchantName: "Nowhere AS"})
	wantCode(t, err, vippsmgmt.EINVALID)
}

func testApproveAllocatesMSN(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	e.unit("100041", "912345688", nil, vippsmgmt.SalesUnitActive)
	e.unit("99999999", "912345688", nil, vippsmgmt.SalesUnitActive) // not six digits: ignored
	e.unit("099999", "912345688", nil, vippsmgmt.SalesUnitActive)   // below the range: ignored

	long := strings.Repeat("Langt navn ", 6)[:40]
	var wantMSN = []string{"100042", "100043", "100044"}
	for i, want := range wantMSN {
		o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"), ProductType: "LOGIN"}
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
		wantName := "Merchant 912345688"
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
	e.merchant("912345688", vippsmgmt.MerchantActive)
	const n = 8
	orders := make([]*vippsmgmt.ProductOrder, n)
	for i := range orders {
		orders[i] = e.submitted("acme", "912345688")
	}
	got := make([]string, n)
	race(n, func(i int) {
		_, su, err := e.s.ApproveProductOrder(e.ctx, orders[i].ID, vippsmgmt.Approval{})
		if err != nil {
			t.Errorf("approval %d: %v", i, err)
			return
		}
		got[i] = su.MSN
	})
	seen := map[string]bool{}
	for _, msn := range got {
		if seen[msn] {
			t.Fatalf("concurrent approvals allocated one MSN twice: %v", got)
		}
		seen[msn] = true
	}
	want := []string{"100001", "100002", "100003", "100004", "100005", "100006", "100007", "100008"}
	wantSame(t, "units after concurrent approvals", want, e.each(vippsmgmt.SalesUnitFilter{}))
}

// testDecideConcurrent races approvals and rejections of one order: the row lock must let exactly
// one decide it, with one decision's notifications. Several rounds, so the later ones run on a
// warm connection pool where the transactions really overlap.
func testDecideConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	const rounds, n = 4, 10
	for round := range rounds {
		o := e.submitted("acme", "912345688")
		errs := make([]error, n)
		race(n, func(i int) {
			if i%2 == 0 {
				_, _, errs[i] = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
			} else {
				_, errs[i] = e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "race")
			}
		})
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
	ns, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{})
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
	e.merchant("912345688", vippsmgmt.MerchantActive)
	e.unit("123456", "912345688", nil, vippsmgmt.SalesUnitActive)
	received := e.prefill("acme", "912345688")
	_, _, err := e.s.ApproveProductOrder(e.ctx, received.ID, vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.ECONFLICT)

	o := e.submitted("acme", "912345688")
	_, _, err = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MSN: "123456"})
	wantCode(t, err, vippsmgmt.ECONFLICT)
	_, _, err = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{MSN: "12a"})
	wantCode(t, err, vippsmgmt.EINVALID)
	_, _, err = e.s.ApproveProductOrder(e.ctx, uuid.NewString(), vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	if got := e.order(o.ID); got.Status != vippsmgmt.StatusOrderSubmitted || got.SalesUnit != nil {
		t.Errorf("failed approvals changed the order: %s %+v", got.Status, got.SalesUnit)
	}
	if ns, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{}); err != nil || len(ns) != 0 {
		t.Errorf("failed approvals queued %d notifications (%v)", len(ns), err)
	}
}

func testReject(t *testing.T, e *env) {
	e.partner("acme")
	o := e.submitted("acme", "912345688") // merchant unknown: notifications name the business id
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

	ns, err := e.s.FindUnsentNotifications(e.ctx, 10, 10)
	must(t, err)
	if len(ns) != 2 {
		t.Fatalf("got %d notifications, want 2", len(ns))
	}
	names := map[string]string{}
	for _, n := range ns {
		names[n.Recipient] = n.RecipientName
		if !strings.Contains(n.Subject+n.Body, "912345688") {
			t.Errorf("rejection notification lacks the business id:\n%s\n%s", n.Subject, n.Body)
		}
		// The merchant learns why; the reason may not be disclosed to the partner.
		if got, want := strings.Contains(n.Body, "Missing documentation"), n.Recipient == "merchant"; got != want {
			t.Errorf("%s notification carries the reason: %v, want %v:\n%s", n.Recipient, got, want, n.Body)
		}
	}
	wantSame(t, "recipients", map[string]string{"partner": "Partner acme", "merchant": bid("912345688").String()}, names)
}

// testRejectNeedsAReason: the store refuses a rejection without a valid reason, whoever asks
// (operator API, console, autopilot), and leaves the order undecided with no e-mail queued.
func testRejectNeedsAReason(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	o := e.submitted("acme", "912345688")
	for _, reason := range []string{"", " \n ", "No\x00 licence", strings.Repeat("x", vippsmgmt.MaxRejectionReasonChars+1)} {
		_, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, reason)
		wantCode(t, err, vippsmgmt.EINVALID)
	}
	got, err := e.s.FindProductOrderByID(e.ctx, o.ID)
	must(t, err)
	if got.Status != vippsmgmt.StatusOrderSubmitted || got.RejectionReason != "" {
		t.Fatalf("after refused rejections: status %s, reason %q", got.Status, got.RejectionReason)
	}
	ns, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{})
	must(t, err)
	if len(ns) != 0 {
		t.Errorf("refused rejections queued %d notifications", len(ns))
	}
	rejected, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "No licence.\nSee the register.")
	must(t, err)
	if rejected.Status != vippsmgmt.StatusRejected || rejected.RejectionReason != "No licence.\nSee the register." {
		t.Errorf("rejected: status %s, reason %q", rejected.Status, rejected.RejectionReason)
	}
}
