package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// prefillNamed makes a prefill for the demo merchant with the given sales unit name.
func prefillNamed(t *testing.T, c *client.Client, name string) client.UUID {
	t.Helper()
	req := newPrefill()
	req.SalesUnitName = &name
	o, err := c.OrderProduct(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return o.PrefilledOrderId
}

func adminOrder(t *testing.T, adm *client.Admin, id client.UUID) *client.AdminProductOrder {
	t.Helper()
	o, err := adm.GetProductOrder(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func notificationsOf(t *testing.T, adm *client.Admin, id client.UUID) []client.AdminNotification {
	t.Helper()
	all, err := adm.ListNotifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []client.AdminNotification
	for _, n := range all {
		if n.ProductOrderId == id {
			out = append(out, n)
		}
	}
	return out
}

// TestAutopilotClockDriven drives the whole lifecycle without a person and without sleeping: the
// sandbox clock is advanced past the policy's delays.
func TestAutopilotClockDriven(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, backend, testserver.Options{})
			c := partnerClient(t, srv.URL)
			adm := c.Admin()
			ctx := context.Background()
			if _, err := adm.SetAutopilot(ctx, client.Autopilot{View: client.Duration(time.Minute), Submit: client.Duration(5 * time.Minute),
				Decide: client.Duration(10 * time.Minute), Decision: "approve"}); err != nil {
				t.Fatal(err)
			}
			approved := prefillNamed(t, c, "Autopilot Kiosk")
			rejected := prefillNamed(t, c, "Autopilot Kiosk [reject]")
			created := adminOrder(t, adm, approved).CreatedAt

			// Nothing happens before the first delay.
			if o := adminOrder(t, adm, approved); o.Status != client.StatusReceived {
				t.Fatalf("status before any delay: %s", o.Status)
			}
			if _, err := adm.AdvanceClock(ctx, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			o := adminOrder(t, adm, approved)
			if o.Status != client.StatusMerchantViewed {
				t.Fatalf("after 2m: %s, want MERCHANT_VIEWED", o.Status)
			}
			if d := o.ViewedAt.Sub(created); d < time.Minute || d > time.Minute+5*time.Second {
				t.Errorf("viewed %v after the prefill, want at its due time, 1m", d)
			}
			// The partner sees it as a merchant's view would show.
			details, err := c.GetProductOrderDetails(ctx, approved)
			if err != nil || details.Status != client.StatusMerchantViewed {
				t.Errorf("partner sees %v, %v", details, err)
			}

			// One jump past the rest: each step happens at its own time.
			if _, err := adm.AdvanceClock(ctx, time.Hour); err != nil {
				t.Fatal(err)
			}
			o = adminOrder(t, adm, approved)
			if o.Status != client.StatusCompleted || o.SalesUnit == nil {
				t.Fatalf("after the delays: %s %v, want COMPLETED with a sales unit", o.Status, o.SalesUnit)
			}
			if d := o.SubmittedAt.Sub(created); d < 6*time.Minute || d > 6*time.Minute+5*time.Second {
				t.Errorf("submitted %v after the prefill, want 6m", d)
			}
			if d := o.DecidedAt.Sub(created); d < 16*time.Minute || d > 16*time.Minute+5*time.Second {
				t.Errorf("decided %v after the prefill, want 16m", d)
			}
			if o.SalesUnit.Name != "Autopilot Kiosk" {
				t.Errorf("sales unit %+v, want the prefill's name", o.SalesUnit)
			}
			su, err := c.GetMsn(ctx, o.SalesUnit.Msn)
			if err != nil {
				t.Errorf("the partner cannot read its new sales unit: %v", err)
			} else if su.Name != "Autopilot Kiosk" {
				t.Errorf("new sales unit %+v", su)
			}
			r := adminOrder(t, adm, rejected)
			if r.Status != client.StatusRejected || r.RejectionReason == nil || !strings.Contains(*r.RejectionReason, "[reject]") {
				t.Errorf("[reject] order: %s %v", r.Status, r.RejectionReason)
			}
			// The same notifications a person's decision writes: partner and merchant, each order.
			for _, id := range []client.UUID{approved, rejected} {
				ns := notificationsOf(t, adm, id)
				if len(ns) != 2 {
					t.Errorf("order %s has %d notifications, want 2", id, len(ns))
				}
			}
		})
	}
}

func TestAutopilotPaths(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	c := partnerClient(t, srv.URL)
	adm := c.Admin()
	ctx := context.Background()

	// A partner's own policy wins over the one for everyone: reject with its reason.
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(adm.SetAutopilot(ctx, client.Autopilot{View: client.Duration(0), Submit: client.Duration(0), Decide: client.Duration(0), Decision: "approve"}))
	must(adm.SetAutopilot(ctx, client.Autopilot{PartnerID: fixtures.DemoPartnerID, Submit: client.Duration(time.Hour),
		Decide: client.Duration(time.Hour), Decision: "reject", RejectReason: "The merchant's documents are missing."}))
	rej := prefillNamed(t, c, "Reject Me Kiosk")
	must(adm.AdvanceClock(ctx, 3*time.Hour))
	o := adminOrder(t, adm, rej)
	if o.Status != client.StatusRejected || o.RejectionReason == nil || *o.RejectionReason != "The merchant's documents are missing." {
		t.Fatalf("rejecting policy: %s %v", o.Status, o.RejectionReason)
	}
	if o.ViewedAt == nil || !o.ViewedAt.Equal(*o.SubmittedAt) {
		t.Errorf("a submit without a view step counts as opened then: viewed %v submitted %v", o.ViewedAt, o.SubmittedAt)
	}
	// The partner never sees the reason.
	details, err := c.GetProductOrderDetails(ctx, rej)
	if err != nil || details.Status != client.StatusRejected {
		t.Errorf("partner sees %v %v", details, err)
	}
	// [approve] overrides a rejecting policy.
	app := prefillNamed(t, c, "Kiosk [approve]")
	must(adm.AdvanceClock(ctx, 3*time.Hour))
	if o := adminOrder(t, adm, app); o.Status != client.StatusCompleted {
		t.Errorf("[approve] order under a rejecting policy: %s", o.Status)
	}

	// The merchant opens the link but never submits: the order expires as it would without the
	// autopilot, and a submit due after the expiry never happens.
	must(adm.SetAutopilot(ctx, client.Autopilot{PartnerID: fixtures.DemoPartnerID, View: client.Duration(time.Minute), Decision: "approve"}))
	viewOnly := prefillNamed(t, c, "View Only Kiosk")
	must(adm.SetAutopilot(ctx, client.Autopilot{PartnerID: "nordic-pos", View: client.Duration(time.Minute), Decision: "approve"}))
	must(adm.AdvanceClock(ctx, 2*time.Minute))
	if o := adminOrder(t, adm, viewOnly); o.Status != client.StatusMerchantViewed {
		t.Fatalf("view-only policy: %s", o.Status)
	}
	must(adm.SetAutopilot(ctx, client.Autopilot{PartnerID: fixtures.DemoPartnerID, View: client.Duration(0), Submit: client.Duration(400 * time.Hour), Decide: client.Duration(0), Decision: "approve"}))
	late := prefillNamed(t, c, "Late Kiosk")
	must(adm.AdvanceClock(ctx, 337*time.Hour))
	for _, id := range []client.UUID{viewOnly, late} {
		if o := adminOrder(t, adm, id); o.Status != client.StatusExpired {
			t.Errorf("order %s: %s, want EXPIRED", id, o.Status)
		}
		if ns := notificationsOf(t, adm, id); len(ns) != 0 {
			t.Errorf("expired order %s has notifications %v", id, ns)
		}
	}

	// In real time, too: a sweeper applies due steps without a clock move.
	must(adm.SetAutopilot(ctx, client.Autopilot{PartnerID: fixtures.DemoPartnerID, View: client.Duration(0), Submit: client.Duration(0), Decide: client.Duration(0), Decision: "approve"}))
	now := prefillNamed(t, c, "Real Time Kiosk")
	waitFor(t, "the sweeper to complete the order", func() bool {
		return adminOrder(t, adm, now).Status == client.StatusCompleted
	})

	policies, err := adm.ListAutopilot(ctx)
	if err != nil || len(policies) != 3 || policies[0].PartnerId != nil {
		t.Fatalf("policies %+v %v, want the one for everyone first, then two", policies, err)
	}
	if err := adm.DeleteAutopilot(ctx, fixtures.DemoPartnerID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, adm.DeleteAutopilot(ctx, fixtures.DemoPartnerID), 404)
}

func TestAutopilotBadInput(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	put := func(body string) (int, string) {
		return testserver.AdminJSON(t, "PUT", srv.URL+"/admin/v1/autopilot", body)
	}
	tests := []struct{ body, field string }{
		{`{"view":"1m","decision":"maybe"}`, "decision"},
		{`{"view":"-1m","decision":"approve"}`, "view"},
		{`{"submit":"soon","decision":"approve"}`, "submit"},
		{`{"decide":"9000h","decision":"approve"}`, "decide"},
		{`{"decision":"approve"}`, "view"},
		{`{"view":"1m","decision":"reject"}`, "rejectReason"},
		{`{"partnerId":"nobody","view":"1m","decision":"approve"}`, "partnerId"},
		{`{"view":"1m"}`, "decision"},
	}
	for _, tt := range tests {
		status, body := put(tt.body)
		if status != 400 || !strings.Contains(body, fmt.Sprintf("%q", tt.field)) && !strings.Contains(body, tt.field+":") {
			t.Errorf("%s: got %d %s, want 400 naming %s", tt.body, status, body, tt.field)
		}
	}
}

// TestAutopilotAcrossProcesses runs the autopilot of two servers on one PostgreSQL database at the
// same time: every order is decided once, with its two notifications, never twice.
func TestAutopilotAcrossProcesses(t *testing.T) {
	a := testserver.Start(t, "postgres", testserver.Options{})
	b := testserver.Start(t, "postgres", testserver.Options{DSN: a.DSN})
	c := partnerClient(t, a.URL)
	adm := c.Admin()
	ctx := context.Background()
	const orders = 8
	var ids []client.UUID
	for i := range orders {
		name := fmt.Sprintf("Shared Kiosk %d", i)
		if i%2 == 1 {
			name += " [reject]"
		}
		ids = append(ids, prefillNamed(t, c, name))
	}
	if _, err := adm.SetAutopilot(ctx, client.Autopilot{View: client.Duration(0), Submit: client.Duration(0), Decide: client.Duration(0), Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	// Both processes' engines at once, besides their own sweepers.
	done := make(chan error, 4)
	for _, srv := range []*testserver.Server{a, b, a, b} {
		go func() {
			_, _, err := srv.App.Autopilot.RunDue(ctx)
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		want := client.StatusCompleted
		if i%2 == 1 {
			want = client.StatusRejected
		}
		waitFor(t, "order "+id.String()+" to be decided", func() bool { return adminOrder(t, adm, id).Status == want })
		if ns := notificationsOf(t, adm, id); len(ns) != 2 {
			t.Errorf("order %s has %d notifications, want 2", id, len(ns))
		}
	}
}
