package sqlstore

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// TestUnitCacheNeverServesAWrittenUnitStale changes a sales unit and its merchant through every
// write path while readers hammer FindSalesUnitByMSN, and checks that each read after a write
// returns sees it.
func TestUnitCacheNeverServesAWrittenUnitStale(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "db"), storetest.NewClock(storetest.Start))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.units == nil {
		t.Fatal("SQLite store has no unit cache")
	}
	b := vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "912345688"}
	m := &vippsmgmt.Merchant{BusinessIdentifier: b, Name: "Cache AS", Status: vippsmgmt.MerchantActive, CountryCode: "NO"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.UpsertMerchant(ctx, m))
	must(d.UpsertSalesUnit(ctx, &vippsmgmt.SalesUnit{MSN: "555001", Name: "Name 0", Status: vippsmgmt.SalesUnitActive, Merchant: b}))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					if _, err := d.FindSalesUnitByMSN(ctx, "555001"); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for i := 1; i <= 50; i++ {
		name := "Name " + string(rune('A'+i%26))
		if i%2 == 0 {
			_, err = d.UpdateSalesUnit(ctx, "555001", vippsmgmt.SalesUnitUpdate{Name: &name})
		} else {
			err = d.UpsertSalesUnit(ctx, &vippsmgmt.SalesUnit{MSN: "555001", Name: name, Status: vippsmgmt.SalesUnitActive, Merchant: b})
		}
		must(err)
		if got, err := d.FindSalesUnitByMSN(ctx, "555001"); err != nil || got.Name != name {
			t.Fatalf("write %d: read %v %v, want name %q", i, got, err, name)
		}
	}
	m.Status = vippsmgmt.MerchantDeactivated
	must(d.UpsertMerchant(ctx, m))
	if got, _ := d.FindSalesUnitByMSN(ctx, "555001"); got.MerchantStatus != vippsmgmt.MerchantDeactivated {
		t.Fatalf("merchant status after deactivation: %s", got.MerchantStatus)
	}
	close(stop)
	wg.Wait()

	// Callers get copies: changing one changes nothing cached.
	got, _ := d.FindSalesUnitByMSN(ctx, "555001")
	got.Name = "scribbled"
	if again, _ := d.FindSalesUnitByMSN(ctx, "555001"); again.Name == "scribbled" {
		t.Fatal("a caller's change reached the cache")
	}
	// A unit written by another process is seen within the cache lifetime.
	if _, err := d.db.ExecContext(ctx, `UPDATE sales_units SET name = 'Elsewhere' WHERE msn = '555001'`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(unitCacheTTL + 50*time.Millisecond)
	if again, _ := d.FindSalesUnitByMSN(ctx, "555001"); again.Name != "Elsewhere" {
		t.Fatalf("outside write not seen after the cache lifetime: %q", again.Name)
	}
}
