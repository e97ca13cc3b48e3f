package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

func testPrefillLifecycle(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	pp := e.pricePackage("acme")
	o := e.prefill("acme", "912345688")
	if u, err := uuid.Parse(o.ID); err != nil || u.Version() != 7 {
		t.Errorf("id %q: want a version 7 UUID (%v)", o.ID, err)
	}
	got := e.order(o.ID)
	wantSame(t, "created order", o, got)
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
	wantSame(t, "submitted details", details, e.order(o.ID).Details)
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
	wantSU := &vippsmgmt.SalesUnit{MSN: "4321", Name: "Fjordkaffe Bryggen", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688"),
		MerchantStatus: vippsmgmt.MerchantActive, PartnerID: ptr("acme"), SettlementBankAccount: details.SettlementBankAccount,
		Configuration:  &vippsmgmt.Configuration{PaymentAllowed: ptr(true), CaptureType: ptr(vippsmgmt.CaptureReserve), RecurringAllowed: ptr(true)},
		PricePackageID: &pp.ID, CreatedAt: decideAt, UpdatedAt: decideAt}
	wantSame(t, "created sales unit", wantSU, su)
	stored := stored(e, e.s.FindSalesUnitByMSN, "4321")
	wantSame(t, "stored sales unit", wantSU, stored)
	if got := e.each(vippsmgmt.SalesUnitFilter{PartnerID: ptr("acme"), Visible: true}); !cmp.Equal(got, []string{"4321"}) {
		t.Errorf("partner's visible units after approval: got %v", got)
	}

	_, _, err = e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
	wantCode(t, err, vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepReject, nil, "late")), vippsmgmt.ECONFLICT)

	ns, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{})
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
		for _, s := range []string{"912345688", "Merchant 912345688", "4321", "Fjordkaffe Bryggen"} {
			if !strings.Contains(n.Subject+"\n"+n.Body, s) {
				t.Errorf("notification to %s does not mention %q:\n%s\n%s", n.Recipient, s, n.Subject, n.Body)
			}
		}
	}
	if p := byRecipient["partner"]; p == nil || p.RecipientName != "Partner acme" {
		t.Errorf("partner notification: got %+v", p)
	}
	if m := byRecipient["merchant"]; m == nil || m.RecipientName != "Merchant 912345688" {
		t.Errorf("merchant notification: got %+v", m)
	}
}

func stepErr(_ *vippsmgmt.ProductOrder, err error) error { return err }

func testTemplateOrder(t *testing.T, e *env) {
	e.merchant("912345688", vippsmgmt.MerchantActive)
	o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderTemplate, BusinessIdentifier: bid("912345688"), ProductType: "CASHIER"}
	_, _, err := e.s.CreateProductOrder(e.ctx, o, nil)
	must(t, err)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepView, nil, "")), vippsmgmt.ECONFLICT)
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmit, nil, "")), vippsmgmt.ECONFLICT)
	done, su, err := e.s.ApproveProductOrder(e.ctx, o.ID, vippsmgmt.Approval{})
	must(t, err)
	if done.Status != vippsmgmt.StatusCompleted || su.PartnerID != nil {
		t.Errorf("template approval: got %s partner %v", done.Status, su.PartnerID)
	}
	ns, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{})
	must(t, err)
	if len(ns) != 1 || ns[0].Recipient != "merchant" {
		t.Errorf("an order without a partner notifies only the merchant: got %d notifications", len(ns))
	}
	// Created long ago, a template order never expires.
	e.clock.Advance(vippsmgmt.PrefillLifetime * 2)
	o2 := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderManual, BusinessIdentifier: bid("912345688"), ProductType: "CASHIER"}
	_, _, err = e.s.CreateProductOrder(e.ctx, o2, nil)
	must(t, err)
	e.clock.Advance(vippsmgmt.PrefillLifetime * 2)
	if n, err := e.s.ExpireProductOrders(e.ctx); err != nil || n != 0 {
		t.Errorf("ExpireProductOrders: got %d, %v, want 0", n, err)
	}
}

func testStepErrors(t *testing.T, e *env) {
	e.partner("acme")
	o := e.prefill("acme", "912345688")
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
		BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}, nil)
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	_, _, err = e.s.CreateProductOrder(e.ctx, &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, BusinessIdentifier: bid("9"), ProductType: "CHECKOUT"}, nil)
	wantCode(t, err, vippsmgmt.EINVALID)
	dup := &vippsmgmt.ProductOrder{ID: o.ID, Type: vippsmgmt.OrderPrefill, BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
	_, _, err = e.s.CreateProductOrder(e.ctx, dup, nil)
	wantCode(t, err, vippsmgmt.ECONFLICT)
}

func testDeleteProductOrder(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	idem := &vippsmgmt.Idempotency{PartnerID: "acme", Key: "k1", RequestHash: []byte("h1")}
	o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
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
	again := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
	rid, replayed, err := e.s.CreateProductOrder(e.ctx, again, idem)
	must(t, err)
	if rid != id || !replayed {
		t.Errorf("replay after delete: got %s %v, want %s true", rid, replayed, id)
	}

	sub := e.submitted("acme", "912345688")
	wantCode(t, e.s.DeleteProductOrder(e.ctx, "acme", sub.ID), vippsmgmt.EINVALID)
	e.order(sub.ID)

	tmpl := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderTemplate, PartnerID: ptr("acme"), BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT"}
	_, _, err = e.s.CreateProductOrder(e.ctx, tmpl, nil)
	must(t, err)
	wantCode(t, e.s.DeleteProductOrder(e.ctx, "acme", tmpl.ID), vippsmgmt.EINVALID)

	// An expired prefill may still be withdrawn.
	old := e.prefill("acme", "912345688")
	e.clock.Advance(vippsmgmt.PrefillLifetime)
	must(t, e.s.DeleteProductOrder(e.ctx, "acme", old.ID))
}

func testFindProductOrders(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	a1 := e.prefill("acme", "912345688")
	e.clock.Advance(time.Second)
	b1 := e.prefill("beta", "912345688")
	e.clock.Advance(time.Second)
	a2 := e.submitted("acme", "987654317")
	e.clock.Advance(time.Second)
	a3 := e.prefill("acme", "955555554")

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
		wantSame(t, c.name, c.want, e.orderIDs(c.f))
	}
	got, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme"), Statuses: []string{vippsmgmt.StatusOrderSubmitted}})
	must(t, err)
	wantSame(t, "full order", []*vippsmgmt.ProductOrder{e.order(a2.ID)}, got)
	// WithoutDetails reads everything but the details.
	summary, err := e.s.FindProductOrders(e.ctx, vippsmgmt.ProductOrderFilter{PartnerID: ptr("acme"), Statuses: []string{vippsmgmt.StatusOrderSubmitted}, WithoutDetails: true})
	must(t, err)
	want := e.order(a2.ID)
	if want.Details == (vippsmgmt.OrderDetails{}) {
		t.Fatal("the submitted order has no details to leave out")
	}
	want.Details = vippsmgmt.OrderDetails{}
	wantSame(t, "order without details", []*vippsmgmt.ProductOrder{want}, summary)
}

func testUpsertProductOrder(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	created := Start.Add(-48 * time.Hour)
	decided := Start.Add(-24 * time.Hour)
	o := &vippsmgmt.ProductOrder{ID: uuid.NewString(), Type: vippsmgmt.OrderPrefill, PartnerID: ptr("acme"), Status: vippsmgmt.StatusCompleted,
		BusinessIdentifier: bid("912345688"), ProductType: "CHECKOUT", Details: vippsmgmt.OrderDetails{AnnualTurnover: ptr(int64(1000))},
		SalesUnit: &vippsmgmt.MsnInfo{MSN: "123456", Name: "Fixture"}, CreatedAt: created, UpdatedAt: decided,
		ViewedAt: &created, SubmittedAt: &created, DecidedAt: &decided}
	must(t, e.s.UpsertProductOrder(e.ctx, o))
	must(t, e.s.UpsertProductOrder(e.ctx, o))
	wantSame(t, "fixture", o, e.order(o.ID))
	o.RejectionReason, o.Status, o.SalesUnit = "changed", vippsmgmt.StatusRejected, nil
	must(t, e.s.UpsertProductOrder(e.ctx, o))
	wantSame(t, "updated fixture", o, e.order(o.ID))
	bad := *o
	bad.Status = vippsmgmt.StatusCompleted
	wantCode(t, e.s.UpsertProductOrder(e.ctx, &bad), vippsmgmt.EINVALID)
	orphan := *o
	orphan.ID, orphan.PartnerID = uuid.NewString(), ptr("ghost")
	wantCode(t, e.s.UpsertProductOrder(e.ctx, &orphan), vippsmgmt.ENOTFOUND)
}

// testSubmitForm: the merchant's form is held to ProductOrder.SubmitProblems in the submit's
// transaction, with the merchant looked up there: a refused submit changes nothing, and a
// business registered meanwhile is no longer asked for its name.
func testSubmitForm(t *testing.T, e *env) {
	e.partner("acme")
	o := e.prefill("acme", "912345688") // CHECKOUT, for a business not registered yet
	wantFields := func(err error, want ...string) {
		t.Helper()
		wantCode(t, err, vippsmgmt.EINVALID)
		var got []string
		for _, fe := range err.(*vippsmgmt.Error).Fields {
			got = append(got, fe.Field)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
	}
	bare := vippsmgmt.OrderDetails{SalesUnitName: ptr("Kiosk Sentrum")}
	wantFields(stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmitForm, &bare, "")),
		"merchantName", "settlementBankAccount.scheme", "settlementBankAccount.id")
	wantFields(stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmitForm, nil, "")),
		"merchantName", "settlementBankAccount.scheme", "settlementBankAccount.id")
	wantSame(t, "order after refused submits", o, e.order(o.ID))

	e.merchant("912345688", vippsmgmt.MerchantActive)
	details := bare
	details.SettlementBankAccount = &vippsmgmt.BankAccount{Scheme: "BBAN:NO", ID: "12345678903"}
	sub, err := e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmitForm, &details, "")
	must(t, err)
	if sub.Status != vippsmgmt.StatusOrderSubmitted {
		t.Errorf("after submit: got %s", sub.Status)
	}
	wantSame(t, "submitted details", details, e.order(o.ID).Details)
	// A submitted order is a conflict, whatever its details lack.
	wantCode(t, stepErr(e.s.StepProductOrder(e.ctx, o.ID, vippsmgmt.StepSubmitForm, &bare, "")), vippsmgmt.ECONFLICT)
}
