package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// TestSalesUnitResponseJSON holds GetMsn's hand-written encoder to the bytes of the generated
// response type, for every configuration field (also ones added to the contract later) and for
// strings encoding/json escapes.
func TestSalesUnitResponseJSON(t *testing.T) {
	var full openapi.SalesUnitConfiguration
	v := reflect.ValueOf(&full).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer {
			t.Fatalf("configuration field %s is not a pointer: salesUnitResponse.appendJSON needs updating", v.Type().Field(i).Name)
		}
		p := reflect.New(f.Type().Elem())
		switch p.Elem().Kind() {
		case reflect.Bool:
			p.Elem().SetBool(i%2 == 1)
		case reflect.String:
			p.Elem().SetString("ReserveCapture")
		default:
			t.Fatalf("configuration field %s: unexpected type %s", v.Type().Field(i).Name, f.Type())
		}
		f.Set(p)
	}
	names := []string{"Shop 1", "", `quote " backslash \ slash /`, "<b>&amp;</b>", "Ærlig Øl & Å", "tab\tnewline\n\x00\x7f",
		"line\u2028sep\u2029", "bad \xff utf-8", "emoji 🍺"}
	var cases []openapi.SalesUnit
	for _, n := range names {
		cases = append(cases, openapi.SalesUnit{
			Msn: "123456", Name: n, BusinessIdentifier: openapi.BusinessIdentifier{Scheme: "business:NO:ORG", Id: n},
			Configuration: full,
		})
	}
	single := true
	cases = append(cases, openapi.SalesUnit{Msn: "1234", Name: "x"},
		openapi.SalesUnit{Msn: "1234", Name: "y", Configuration: openapi.SalesUnitConfiguration{RecurringAllowed: &single}})
	for _, su := range cases {
		want := httptest.NewRecorder()
		if err := openapi.GetMsn200ApplicationJSONCharsetUTF8Response(su).VisitGetMsnResponse(want); err != nil {
			t.Fatal(err)
		}
		got := httptest.NewRecorder()
		answer := &salesUnitAnswer{body: salesUnitResponse(su).appendJSON(nil)}
		if err := answer.VisitGetMsnResponse(got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Errorf("body\n got %s\nwant %s", got.Body, want.Body)
		}
		if got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) {
			t.Errorf("got %d %v, want %d %v", got.Code, got.Header(), want.Code, want.Header())
		}
		if !json.Valid(got.Body.Bytes()) {
			t.Errorf("not JSON: %s", got.Body)
		}
		item := vippsmgmt.MsnInfo{MSN: su.Msn, Name: su.Name}
		wantItem, _ := json.Marshal(openapi.MsnInfo{Msn: item.MSN, Name: item.Name})
		if gotItem := appendMsnInfo([]byte("x"), item); string(gotItem) != "x"+string(wantItem) {
			t.Errorf("list item\n got %s\nwant x%s", gotItem, wantItem)
		}
	}
}
