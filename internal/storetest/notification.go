package storetest

import (
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

func testNotifications(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	o1 := e.submitted("acme", "912345688")
	_, _, err := e.s.ApproveProductOrder(e.ctx, o1.ID, vippsmgmt.Approval{})
	must(t, err)
	e.clock.Advance(time.Second)
	o2 := e.submitted("acme", "912345688")
	_, err = e.s.StepProductOrder(e.ctx, o2.ID, vippsmgmt.StepReject, nil, "no")
	must(t, err)

	all, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{})
	must(t, err)
	if len(all) != 4 || all[0].OrderID != o2.ID || all[3].OrderID != o1.ID || all[0].ID <= all[3].ID {
		t.Fatalf("FindNotifications: want 4, newest first; got %d", len(all))
	}
	if two, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{Limit: 2}); err != nil || len(two) != 2 || two[0].ID != all[0].ID {
		t.Errorf("FindNotifications(2): got %d, %v", len(two), err)
	}
	unsent, err := e.s.FindUnsentNotifications(e.ctx, 10, 3)
	must(t, err)
	if len(unsent) != 3 || unsent[0].ID != all[3].ID {
		t.Fatalf("FindUnsentNotifications(3): want the 3 oldest, got %d", len(unsent))
	}

	must(t, e.s.MarkNotification(e.ctx, unsent[0].ID, nil, "smtp: connection refused"))
	sentAt := e.clock.Advance(time.Minute)
	must(t, e.s.MarkNotification(e.ctx, unsent[1].ID, &sentAt, ""))
	wantCode(t, e.s.MarkNotification(e.ctx, 1<<40, &sentAt, ""), vippsmgmt.ENOTFOUND)

	unsent, err = e.s.FindUnsentNotifications(e.ctx, 10, 10)
	must(t, err)
	if len(unsent) != 3 {
		t.Fatalf("after one sent: got %d unsent, want 3", len(unsent))
	}
	if f := unsent[0]; f.ID != all[3].ID || f.Attempts != 1 || f.LastError != "smtp: connection refused" || f.SentAt != nil {
		t.Errorf("failed notification: got %+v", f)
	}
	// One tried as often as the sender allows is read past, so the ones behind it are reached.
	unsent, err = e.s.FindUnsentNotifications(e.ctx, 1, 10)
	must(t, err)
	if len(unsent) != 2 || unsent[0].ID == all[3].ID {
		t.Errorf("unsent tried fewer than once: got %d, want 2 without the failed %d", len(unsent), all[3].ID)
	}
	all2, err := e.s.FindNotifications(e.ctx, vippsmgmt.Page{})
	must(t, err)
	if s := all2[2]; s.SentAt == nil || !s.SentAt.Equal(sentAt) || s.Attempts != 1 || s.LastError != "" {
		t.Errorf("sent notification: got %+v", s)
	}
}
