package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

func testMerchants(t *testing.T, e *env) {
	_, err := e.s.FindMerchant(e.ctx, bid("912345688"))
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	wantCode(t, e.s.UpsertMerchant(e.ctx, &vippsmgmt.Merchant{BusinessIdentifier: bid("1"), Name: "x"}), vippsmgmt.EINVALID)

	m := &vippsmgmt.Merchant{BusinessIdentifier: bid("912345688"), Name: "Fjordkaffe AS", Status: vippsmgmt.MerchantActive,
		CountryCode: "NO", BusinessAddress: &vippsmgmt.Address{Lines: []string{"Storgata 1"}, PostCode: ptr("0155"), City: ptr("Oslo"), CountryCode: ptr("NO")}}
	must(t, e.s.UpsertMerchant(e.ctx, m))
	got := stored(e, e.s.FindMerchant, m.BusinessIdentifier)
	wantSame(t, "FindMerchant", m, got)

	// Same data again changes nothing, not even UpdatedAt.
	e.clock.Advance(time.Hour)
	again := *m
	again.CreatedAt, again.UpdatedAt = time.Time{}, time.Time{}
	must(t, e.s.UpsertMerchant(e.ctx, &again))
	got = stored(e, e.s.FindMerchant, m.BusinessIdentifier)
	wantSame(t, "after same upsert", m, got)

	changed := again
	changed.Status = vippsmgmt.MerchantDeactivated
	changed.BusinessPostAddress = &vippsmgmt.Address{Lines: []string{}}
	must(t, e.s.UpsertMerchant(e.ctx, &changed))
	got = stored(e, e.s.FindMerchant, m.BusinessIdentifier)
	if !got.UpdatedAt.Equal(Start.Add(time.Hour)) || !got.CreatedAt.Equal(Start) {
		t.Errorf("after change: got created %v updated %v, want %v and %v", got.CreatedAt, got.UpdatedAt, Start, Start.Add(time.Hour))
	}
	wantSame(t, "after change", &changed, got)

	e.merchant("987654317", vippsmgmt.MerchantActive)
	e.merchant("955555554", vippsmgmt.MerchantActive)
	for _, c := range []struct {
		f    vippsmgmt.MerchantFilter
		want []string
	}{
		{vippsmgmt.MerchantFilter{}, []string{"912345688", "955555554", "987654317"}},
		{vippsmgmt.MerchantFilter{Query: "FJORD"}, []string{"912345688"}},
		{vippsmgmt.MerchantFilter{Query: "98765"}, []string{"987654317"}},
		{vippsmgmt.MerchantFilter{Query: "merchant"}, []string{"955555554", "987654317"}},
		{vippsmgmt.MerchantFilter{Query: "%"}, []string{}},
		{vippsmgmt.MerchantFilter{Limit: 1}, []string{"912345688"}},
	} {
		ms, err := e.s.FindMerchants(e.ctx, c.f)
		must(t, err)
		wantSame(t, fmt.Sprintf("FindMerchants(%+v)", c.f), c.want, keysOf(ms, func(m *vippsmgmt.Merchant) string { return m.BusinessIdentifier.ID }))
	}

	// A new merchant keeps the times it is given (a fixture recreating an account); a later
	// change still moves UpdatedAt to now and leaves CreatedAt alone.
	dated := &vippsmgmt.Merchant{BusinessIdentifier: bid("923609016"), Name: "Dated AS", Status: vippsmgmt.MerchantActive,
		CountryCode: "NO", CreatedAt: Start.Add(-48 * time.Hour), UpdatedAt: Start.Add(-24 * time.Hour)}
	must(t, e.s.UpsertMerchant(e.ctx, dated))
	got = stored(e, e.s.FindMerchant, dated.BusinessIdentifier)
	wantSame(t, "merchant with given times", dated, got)
	renamed := *dated
	renamed.Name = "Dated Renamed AS"
	must(t, e.s.UpsertMerchant(e.ctx, &renamed))
	got = stored(e, e.s.FindMerchant, dated.BusinessIdentifier)
	if !got.CreatedAt.Equal(dated.CreatedAt) || !got.UpdatedAt.Equal(Start.Add(time.Hour)) {
		t.Errorf("after renaming: got created %v updated %v, want %v and %v", got.CreatedAt, got.UpdatedAt, dated.CreatedAt, Start.Add(time.Hour))
	}
}

// testCreateMerchant: creating never updates, and the status changes only through
// SetMerchantStatus.
func testCreateMerchant(t *testing.T, e *env) {
	m := &vippsmgmt.Merchant{BusinessIdentifier: bid("912345688"), Name: "Kiosk AS", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}
	must(t, e.s.CreateMerchant(e.ctx, m))
	if !m.CreatedAt.Equal(Start) || !m.UpdatedAt.Equal(Start) {
		t.Errorf("times: got %v %v, want %v", m.CreatedAt, m.UpdatedAt, Start)
	}
	again := *m
	again.Name = "Other AS"
	wantCode(t, e.s.CreateMerchant(e.ctx, &again), vippsmgmt.ECONFLICT)
	wantCode(t, e.s.CreateMerchant(e.ctx, &vippsmgmt.Merchant{BusinessIdentifier: bid("1"), Name: "x", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}), vippsmgmt.EINVALID)
	wantSame(t, "after a refused create", m, stored(e, e.s.FindMerchant, m.BusinessIdentifier))

	e.clock.Advance(time.Hour)
	_, err := e.s.SetMerchantStatus(e.ctx, m.BusinessIdentifier, "PAUSED")
	wantCode(t, err, vippsmgmt.EINVALID)
	_, err = e.s.SetMerchantStatus(e.ctx, bid("923609016"), vippsmgmt.MerchantDeactivated)
	wantCode(t, err, vippsmgmt.ENOTFOUND)
	same, err := e.s.SetMerchantStatus(e.ctx, m.BusinessIdentifier, vippsmgmt.MerchantActive)
	must(t, err)
	if !same.UpdatedAt.Equal(Start) {
		t.Errorf("the same status moved UpdatedAt to %v", same.UpdatedAt)
	}
	off, err := e.s.SetMerchantStatus(e.ctx, m.BusinessIdentifier, vippsmgmt.MerchantDeactivated)
	must(t, err)
	want := *m
	want.Status, want.UpdatedAt = vippsmgmt.MerchantDeactivated, Start.Add(time.Hour)
	wantSame(t, "SetMerchantStatus", &want, off)
	if got, _ := e.s.FindMerchant(e.ctx, m.BusinessIdentifier); got.Status != vippsmgmt.MerchantDeactivated {
		t.Errorf("stored status %s", got.Status)
	}
}
