package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

func testSalesUnits(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	e.merchant("987654317", vippsmgmt.MerchantDeactivated)
	pp := e.pricePackage("acme")
	_, err := e.s.FindSalesUnitByMSN(e.ctx, "123456")
	wantCode(t, err, vippsmgmt.ENOTFOUND)

	su := &vippsmgmt.SalesUnit{MSN: "123456", Name: "Fjordkaffe Sentrum", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688"),
		PartnerID: ptr("acme"), SettlementBankAccount: &vippsmgmt.BankAccount{Scheme: "BBAN:NO", ID: "12345678903"},
		Configuration: &vippsmgmt.Configuration{PaymentAllowed: ptr(true), CaptureType: ptr(vippsmgmt.CaptureReserve)}, PricePackageID: &pp.ID}
	must(t, e.s.UpsertSalesUnit(e.ctx, su))
	got := stored(e, e.s.FindSalesUnitByMSN, "123456")
	want := *su
	want.MerchantStatus = vippsmgmt.MerchantActive
	wantSame(t, "FindSalesUnitByMSN", &want, got)

	e.clock.Advance(time.Hour)
	again := *su
	again.CreatedAt, again.UpdatedAt = time.Time{}, time.Time{}
	must(t, e.s.UpsertSalesUnit(e.ctx, &again))
	got = stored(e, e.s.FindSalesUnitByMSN, "123456")
	wantSame(t, "same upsert twice changed the unit", &want, got)
	again.Name = "Fjordkaffe Torget"
	must(t, e.s.UpsertSalesUnit(e.ctx, &again))
	got = stored(e, e.s.FindSalesUnitByMSN, "123456")
	if got.Name != "Fjordkaffe Torget" || !got.UpdatedAt.Equal(Start.Add(time.Hour)) || !got.CreatedAt.Equal(Start) {
		t.Errorf("after rename: got %q created %v updated %v", got.Name, got.CreatedAt, got.UpdatedAt)
	}

	e.unit("654321", "987654317", nil, vippsmgmt.SalesUnitActive)
	got = stored(e, e.s.FindSalesUnitByMSN, "654321")
	if got.MerchantStatus != vippsmgmt.MerchantDeactivated || got.PartnerID != nil {
		t.Errorf("unit of deactivated merchant: got MerchantStatus %q partner %v", got.MerchantStatus, got.PartnerID)
	}

	for _, c := range []struct {
		name string
		su   vippsmgmt.SalesUnit
		code string
	}{
		{"msn of another merchant", vippsmgmt.SalesUnit{MSN: "123456", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("987654317")}, vippsmgmt.ECONFLICT},
		{"unknown merchant", vippsmgmt.SalesUnit{MSN: "222222", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("911111101")}, vippsmgmt.ENOTFOUND},
		{"unknown partner", vippsmgmt.SalesUnit{MSN: "222222", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688"), PartnerID: ptr("ghost")}, vippsmgmt.ENOTFOUND},
		{"unknown price package", vippsmgmt.SalesUnit{MSN: "222222", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688"), PricePackageID: ptr(uuid.NewString())}, vippsmgmt.ENOTFOUND},
		{"invalid", vippsmgmt.SalesUnit{MSN: "12", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688")}, vippsmgmt.EINVALID},
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
	e.merchant("912345688", vippsmgmt.MerchantActive)
	e.unit("123456", "912345688", ptr("acme"), vippsmgmt.SalesUnitActive)
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
	stored := stored(e, e.s.FindSalesUnitByMSN, "123456")
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
	e.merchant("912345688", vippsmgmt.MerchantActive)
	e.merchant("987654317", vippsmgmt.MerchantDeactivated)
	e.unit("100001", "912345688", ptr("acme"), vippsmgmt.SalesUnitActive)   // visible to acme
	e.unit("100002", "912345688", ptr("acme"), vippsmgmt.SalesUnitInactive) // inactive unit
	e.unit("100003", "987654317", ptr("acme"), vippsmgmt.SalesUnitActive)   // deactivated merchant
	e.unit("100004", "912345688", ptr("beta"), vippsmgmt.SalesUnitActive)   // other partner
	e.unit("100005", "912345688", nil, vippsmgmt.SalesUnitActive)           // no partner
	e.unit("2000", "912345688", ptr("acme"), vippsmgmt.SalesUnitActive)     // sorts first as text
}

func testVisibility(t *testing.T, e *env) {
	visibilityFixture(e)
	m1, m2 := bid("912345688"), bid("987654317")
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
			wantSame(t, "EachSalesUnit", c.want, e.each(c.f))
			wantSame(t, "FindSalesUnits", c.want, e.find(c.f))
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
	wantSame(t, "calls before stop", []string{"100001", "100002"}, calls)
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
	wantSame(t, "names", []string{"Unit 100001", "Unit 2000"}, names)
}

// testCreateSalesUnit: creating never updates, and names what is missing.
func testCreateSalesUnit(t *testing.T, e *env) {
	e.partner("acme")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	su := &vippsmgmt.SalesUnit{MSN: "123456", Name: "Kiosk", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688"), PartnerID: ptr("acme")}
	must(t, e.s.CreateSalesUnit(e.ctx, su))
	if su.MerchantStatus != vippsmgmt.MerchantActive || !su.CreatedAt.Equal(Start) {
		t.Errorf("created unit: merchant status %q, created %v", su.MerchantStatus, su.CreatedAt)
	}
	got := stored(e, e.s.FindSalesUnitByMSN, "123456")
	wantSame(t, "FindSalesUnitByMSN", su, got)
	again := *su
	again.Name = "Other"
	wantCode(t, e.s.CreateSalesUnit(e.ctx, &again), vippsmgmt.ECONFLICT)
	for _, c := range []struct {
		su   vippsmgmt.SalesUnit
		code string
	}{
		{vippsmgmt.SalesUnit{MSN: "12", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688")}, vippsmgmt.EINVALID},
		{vippsmgmt.SalesUnit{MSN: "223456", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("923609016")}, vippsmgmt.ENOTFOUND},
		{vippsmgmt.SalesUnit{MSN: "223456", Name: "x", Status: vippsmgmt.SalesUnitActive, Merchant: bid("912345688"), PartnerID: ptr("nobody")}, vippsmgmt.ENOTFOUND},
	} {
		wantCode(t, e.s.CreateSalesUnit(e.ctx, &c.su), c.code)
	}
	if got, _ := e.s.FindSalesUnitByMSN(e.ctx, "123456"); got.Name != "Kiosk" {
		t.Errorf("a refused create changed the unit: %q", got.Name)
	}
}
