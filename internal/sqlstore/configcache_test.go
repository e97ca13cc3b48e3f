package sqlstore

import (
	"database/sql"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

// TestScanConfiguration checks that the cached decoding equals json.Unmarshal and that every
// pointer field of a copy is its own, also for fields added to Configuration later.
func TestScanConfiguration(t *testing.T) {
	full := vippsmgmt.Configuration{}
	v := reflect.ValueOf(&full).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer {
			t.Fatalf("field %s is not a pointer: cloneConfiguration needs updating", v.Type().Field(i).Name)
		}
		switch f.Type().Elem().Kind() {
		case reflect.Bool:
			f.Set(reflect.ValueOf(new(bool)))
			f.Elem().SetBool(i%2 == 0)
		case reflect.String:
			f.Set(reflect.ValueOf(new(string)))
			f.Elem().SetString(vippsmgmt.CaptureReserve)
		default:
			t.Fatalf("field %s: unexpected type %s", v.Type().Field(i).Name, f.Type())
		}
	}
	b, _ := json.Marshal(full)
	for _, text := range []string{string(b), `{}`, `{"paymentAllowed":false}`} {
		var want vippsmgmt.Configuration
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatal(err)
		}
		first, err := scanConfiguration(sql.NullString{String: text, Valid: true})
		if err != nil {
			t.Fatal(err)
		}
		second, _ := scanConfiguration(sql.NullString{String: text, Valid: true}) // from the cache
		for _, got := range []*vippsmgmt.Configuration{first, second} {
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("%s: got %+v, want %+v", text, *got, want)
			}
		}
		a, c := reflect.ValueOf(first).Elem(), reflect.ValueOf(second).Elem()
		for i := 0; i < a.NumField(); i++ {
			if !a.Field(i).IsNil() && a.Field(i).Pointer() == c.Field(i).Pointer() {
				t.Errorf("%s: two reads share field %s", text, a.Type().Field(i).Name)
			}
		}
	}
	if got, err := scanConfiguration(sql.NullString{}); got != nil || err != nil {
		t.Errorf("NULL: got %v, %v", got, err)
	}
	if _, err := scanConfiguration(sql.NullString{String: "{", Valid: true}); err == nil {
		t.Error("broken JSON: no error")
	}
}
