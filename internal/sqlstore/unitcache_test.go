package sqlstore

import (
	"context"
	"path/filepath"
	"reflect"
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

	// What FindSalesUnitDerived keeps must follow every write as the unit does.
	nameOf := func(su *vippsmgmt.SalesUnit) any { return su.Name + "/" + string(su.MerchantStatus) }
	derived := func() string {
		t.Helper()
		v, err := d.FindSalesUnitDerived(ctx, "555001", nameOf)
		if err != nil {
			t.Fatal(err)
		}
		return v.(string)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					read := func() error { _, err := d.FindSalesUnitByMSN(ctx, "555001"); return err }
					if w%2 == 1 {
						read = func() error { _, err := d.FindSalesUnitDerived(ctx, "555001", nameOf); return err }
					}
					if err := read(); err != nil {
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
		if got, want := derived(), name+"/"+string(vippsmgmt.MerchantActive); got != want {
			t.Fatalf("write %d: derived %q, want %q", i, got, want)
		}
	}
	m.Status = vippsmgmt.MerchantDeactivated
	must(d.UpsertMerchant(ctx, m))
	if got, _ := d.FindSalesUnitByMSN(ctx, "555001"); got.MerchantStatus != vippsmgmt.MerchantDeactivated {
		t.Fatalf("merchant status after deactivation: %s", got.MerchantStatus)
	}
	if got := derived(); got[len(got)-len(vippsmgmt.MerchantDeactivated):] != string(vippsmgmt.MerchantDeactivated) {
		t.Fatalf("derived after deactivation: %q", got)
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

// TestCloneSalesUnit fills every pointer of a sales unit and its configuration (by reflection, so
// a field added later is covered) and checks that the copy is equal and shares none of them.
func TestCloneSalesUnit(t *testing.T) {
	fill := func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			if f.Kind() != reflect.Pointer || v.Type().Field(i).Name == "Configuration" {
				continue
			}
			p := reflect.New(f.Type().Elem())
			switch p.Elem().Kind() {
			case reflect.Bool:
				p.Elem().SetBool(i%2 == 0)
			case reflect.String:
				p.Elem().SetString("value " + v.Type().Field(i).Name)
			case reflect.Struct:
				p.Elem().Field(0).SetString("scheme")
			default:
				t.Fatalf("field %s: unexpected type %s: cloneSalesUnit needs updating", v.Type().Field(i).Name, f.Type())
			}
			f.Set(p)
		}
	}
	su := &vippsmgmt.SalesUnit{MSN: "123456", Name: "Clone AS", Configuration: &vippsmgmt.Configuration{}}
	fill(reflect.ValueOf(su).Elem())
	fill(reflect.ValueOf(su.Configuration).Elem())
	got := cloneSalesUnit(su)
	if !reflect.DeepEqual(got, su) {
		t.Fatalf("got %+v, want %+v", got, su)
	}
	var shared func(path string, a, b reflect.Value)
	shared = func(path string, a, b reflect.Value) {
		for i := range a.NumField() {
			fa, fb := a.Field(i), b.Field(i)
			name := path + a.Type().Field(i).Name
			if fa.Kind() != reflect.Pointer {
				continue
			}
			if fa.IsNil() {
				t.Errorf("%s is nil in the copy", name)
				continue
			}
			if fa.Pointer() == fb.Pointer() {
				t.Errorf("%s is shared with the original", name)
			}
			if fa.Elem().Kind() == reflect.Struct {
				shared(name+".", fa.Elem(), fb.Elem())
			}
		}
	}
	shared("", reflect.ValueOf(got).Elem(), reflect.ValueOf(su).Elem())
	if nilCopy := cloneSalesUnit(&vippsmgmt.SalesUnit{MSN: "1"}); nilCopy.Configuration != nil || nilCopy.PartnerID != nil {
		t.Errorf("nil pointers came back set: %+v", nilCopy)
	}
}
