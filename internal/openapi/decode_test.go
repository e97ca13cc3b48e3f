package openapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt"
)

// fullOrder sets every member of ProductOrderRequest.
const fullOrder = `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT",` +
	`"salesUnitName":"ACME Fitness","salesUnitLogo":"iVBORw0KGgo=","settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"},` +
	`"pricePackageId":"0190B1F4-6A3E-7C1D-9C2A-5D1E8F7A6B43","productUseCase":"WebsiteWithTest","annualTurnover":2500000,` +
	`"annualTurnoverPercentage":"40","intendedPurpose":"Gym\nmemberships","app":{"appName":"ACME"},` +
	`"website":{"url":"https://a.example","termsUrl":"https://a.example/t","testWebsiteUrl":"https://t.a.example",` +
	`"testWebsiteUsername":"u","testWebsitePassword":"p"},"hasRecurring":true,"merchantCategoryCode":"5942"}`

// TestDecodeJSONReadsWhatEncodingJSONReads: a body the decoder accepts decodes to the value
// encoding/json gives, escapes included, with every member of the type set.
func TestDecodeJSONReadsWhatEncodingJSONReads(t *testing.T) {
	for _, body := range []string{
		fullOrder,
		` { "productType" : "LOGIN" , "businessIdentifier" : { "id" : "1234" , "scheme" : "business:DK:CVR" } } `,
		`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT",` +
			`"salesUnitName":"Caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","unknown":{"nested":[1,-2.5e3,true,false,null,"x"]},"website":null}`,
	} {
		var got, want ProductOrderRequest
		faults, err := DecodeJSON([]byte(body), &got)
		if err != nil || len(faults) > 0 {
			t.Fatalf("%s: faults %v, error %v", body, faults, err)
		}
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: (-encoding/json +DecodeJSON)\n%s", body, diff)
		}
	}
	var full ProductOrderRequest
	if _, err := DecodeJSON([]byte(fullOrder), &full); err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fullOrder leaves %s unset", v.Type().Field(i).Name)
		}
	}
}

func TestDecodeJSONFaults(t *testing.T) {
	const base = `"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT"`
	for _, tc := range []struct {
		name, body string
		want       map[string]string // path → a word of the problem
	}{
		{"missing required", `{}`, map[string]string{"businessIdentifier": "required", "productType": "required"}},
		{"missing nested", `{"businessIdentifier":{"scheme":"business:NO:ORG"},"productType":"LOGIN"}`, map[string]string{"businessIdentifier.id": "required"}},
		{"missing in optional object", `{` + base + `,"website":{"url":"https://a.example"}}`, map[string]string{"website.termsUrl": "required"}},
		{"null for required", `{"businessIdentifier":null,"productType":null}`, map[string]string{"businessIdentifier": "null", "productType": "null"}},
		{"null nested", `{"businessIdentifier":{"scheme":null,"id":"1234"},"productType":"LOGIN"}`, map[string]string{"businessIdentifier.scheme": "null"}},
		{"wrong types", `{` + base + `,"annualTurnover":"lots","hasRecurring":"yes","website":{"url":5,"termsUrl":"x"},"app":[]}`,
			map[string]string{"annualTurnover": "integer", "hasRecurring": "true or false", "website.url": "string", "app": "object"}},
		{"object for string", `{"businessIdentifier":{"scheme":{"a":1},"id":"1234"},"productType":"LOGIN"}`, map[string]string{"businessIdentifier.scheme": "string"}},
		{"fraction for integer", `{` + base + `,"annualTurnover":1.5}`, map[string]string{"annualTurnover": "integer"}},
		{"integer overflow", `{` + base + `,"annualTurnover":99999999999999999999}`, map[string]string{"annualTurnover": "integer"}},
		{"not a uuid", `{` + base + `,"pricePackageId":"nope"}`, map[string]string{"pricePackageId": "UUID"}},
		{"uuid in braces", `{` + base + `,"pricePackageId":"{0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43}"}`, map[string]string{"pricePackageId": "UUID"}},
		{"not base64", `{` + base + `,"salesUnitLogo":"***"}`, map[string]string{"salesUnitLogo": "base64"}},
		{"mcc fraction", `{` + base + `,"merchantCategoryCode":59.5}`, map[string]string{"merchantCategoryCode": "string"}},
		{"exact duplicate", `{` + base + `,"productType":"LOGIN"}`, map[string]string{"productType": "more than once"}},
		{"case variant after", `{` + base + `,"PRODUCTTYPE":"LOGIN"}`, map[string]string{"PRODUCTTYPE": "more than once"}},
		{"case variant before", `{"PRODUCTTYPE":"LOGIN",` + base + `}`, map[string]string{"PRODUCTTYPE": "case-sensitive", "productType": "more than once"}},
		{"lone case variant", `{` + base + `,"SalesUnitName":"Shop"}`, map[string]string{"SalesUnitName": "case-sensitive"}},
		{"nested variant", `{"businessIdentifier":{"scheme":"business:NO:ORG","Scheme":"business:DK:CVR","id":"1234"},"productType":"LOGIN"}`,
			map[string]string{"businessIdentifier.Scheme": "more than once"}},
		{"unknown duplicate", `{` + base + `,"extra":1,"EXTRA":2}`, map[string]string{"EXTRA": "more than once"}},
		{"duplicate inside unknown", `{` + base + `,"extra":[{"a":1,"A":2}]}`, map[string]string{"extra[0].A": "more than once"}},
		{"control character in unknown", `{` + base + `,"extra":{"note":"a\u0000b"}}`, map[string]string{"extra.note": "control"}},
		{"line break in unknown one-line", `{` + base + `,"extra":"a\nb"}`, map[string]string{"extra": "one line"}},
		{"long unknown", `{` + base + `,"extra":"` + strings.Repeat("x", vippsmgmt.MaxTextBytes+1) + `"}`, map[string]string{"extra": "at most"}},
		// Refused before it is copied, so a flood of them costs only their bodies.
		{"long known", `{` + base + `,"intendedPurpose":"` + strings.Repeat("x", vippsmgmt.MaxTextBytes+1) + `"}`, map[string]string{"intendedPurpose": "at most"}},
		{"control character in a name", `{` + base + `,"website":{"url":"https://a.example","termsUrl":"https://a.example/t","x\u0007":1}}`,
			map[string]string{"website": "member name"}},
		{"invalid UTF-8 in a name", "{" + base + ",\"\xff\":1}", map[string]string{"body": "member name"}},
		{"lone surrogate in unknown", `{` + base + `,"extra":["a\ud800b","\udc00"]}`, map[string]string{"extra[0]": "UTF-8", "extra[1]": "UTF-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in ProductOrderRequest
			faults, err := DecodeJSON([]byte(tc.body), &in)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range faults {
				got[f.Field] += f.Problem
			}
			if len(got) != len(tc.want) {
				t.Errorf("faults %v, want fields %v", faults, tc.want)
			}
			for field, word := range tc.want {
				if !strings.Contains(got[field], word) {
					t.Errorf("%s: %q, want it to contain %q (all: %v)", field, got[field], word, faults)
				}
			}
		})
	}
}

// TestDecodeJSONKeepsLoneSurrogates: an escaped lone surrogate in a decoded string is kept as
// bytes that are not UTF-8, for the domain's text rule to refuse, where encoding/json's U+FFFD
// would be stored in its place; a pair stays the character it encodes.
func TestDecodeJSONKeepsLoneSurrogates(t *testing.T) {
	for escaped, valid := range map[string]bool{`\ud800`: false, `x\udfff`: false, `\ud800\ud800`: false, `\udc00\ud800`: false, `\ud83d\ude00`: true} {
		var in ProductOrderRequest
		body := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"LOGIN","intendedPurpose":"` + escaped + `"}`
		if faults, err := DecodeJSON([]byte(body), &in); err != nil || len(faults) > 0 {
			t.Fatalf("%s: faults %v, error %v", escaped, faults, err)
		}
		if got := utf8.ValidString(*in.IntendedPurpose); got != valid || vippsmgmt.TextProblem(*in.IntendedPurpose, false) == "" != valid {
			t.Errorf("%s: decoded to %q, valid UTF-8 %v, want %v", escaped, *in.IntendedPurpose, got, valid)
		}
	}
}

// TestDecodeJSONKeepsFaultedObjects: an optional object with a faulted member is still set, so the
// domain judges its other members in the same answer.
func TestDecodeJSONKeepsFaultedObjects(t *testing.T) {
	var in ProductOrderRequest
	body := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","website":{"url":"http://a.example"},"merchantCategoryCode":742}`
	faults, err := DecodeJSON([]byte(body), &in)
	if err != nil || len(faults) != 1 {
		t.Fatalf("faults %v, error %v", faults, err)
	}
	if in.Website == nil || in.Website.Url != "http://a.example" {
		t.Errorf("website %+v, want its url kept", in.Website)
	}
	if in.MerchantCategoryCode == nil || *in.MerchantCategoryCode != "0742" {
		t.Errorf("a numeric merchantCategoryCode reads %v, want 0742", in.MerchantCategoryCode)
	}
}

func TestDecodeJSONRefusesMalformedBodies(t *testing.T) {
	deep := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT","x":` +
		strings.Repeat("[", maxDecodeDepth+1) + strings.Repeat("]", maxDecodeDepth+1) + `}`
	for _, body := range []string{
		`{"businessIdentifier":`, `{"a":1,}`, `{"a" 1}`, `{"a":1}}`, `{"a":1}x`, `nul`, `{"a":01}`, `{"a":-}`, `{"a":1.}`,
		`{"a":1e}`, "{\"a\":\"x\x01\"}", `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"x`, `{"a":tru}`, `{'a':1}`, deep,
		`[]`, `"x"`, `42`, `true`, `null`,
	} {
		var in ProductOrderRequest
		faults, err := DecodeJSON([]byte(body), &in)
		if vippsmgmt.ErrorCode(err) != vippsmgmt.EINVALID {
			t.Errorf("%.60q: faults %v, error %v, want EINVALID", body, faults, err)
		}
	}
}

// TestDecodeJSONBoundsFaults: a body of many bad names makes a bounded answer.
func TestDecodeJSONBoundsFaults(t *testing.T) {
	body := `{"businessIdentifier":{"scheme":"business:NO:ORG","id":"987654325"},"productType":"CHECKOUT"` +
		strings.Repeat(`,"productType":"LOGIN"`, 10000) + `}`
	var in ProductOrderRequest
	faults, err := DecodeJSON([]byte(body), &in)
	if err != nil || len(faults) != maxDecodeFaults {
		t.Fatalf("%d faults, error %v, want %d", len(faults), err, maxDecodeFaults)
	}
}

// FuzzDecodeJSON holds the decoder to encoding/json: it refuses as malformed exactly what
// json.Valid refuses (nesting past its depth aside), and what it accepts without a fault decodes
// to the value encoding/json gives.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(fullOrder))
	f.Add([]byte(`{"businessIdentifier":{"scheme":"business:NO:ORG","id":"1234"},"productType":"LOGIN","x":[{"y":"\u00e9\ud800"}]}`))
	f.Add([]byte(`{"productType":"LOGIN","PRODUCTTYPE":"X"}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got ProductOrderRequest
		faults, err := DecodeJSON(body, &got)
		if err != nil {
			if json.Valid(body) && !strings.Contains(err.Error(), "deeper") && !strings.Contains(err.Error(), "JSON object") {
				t.Fatalf("refused valid JSON %q: %v", body, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted malformed JSON %q", body)
		}
		if len(faults) > 0 || !utf8.Valid(body) {
			return // encoding/json replaces bytes that are not UTF-8; the domain refuses them
		}
		if bytes.Contains(bytes.ToLower(body), []byte(`\ud`)) {
			return // a lone surrogate too, which DecodeJSON keeps for the domain to refuse
		}
		var want ProductOrderRequest
		if err := json.Unmarshal(body, &want); err != nil {
			if strings.Contains(string(body), "merchantCategoryCode") {
				return // a numeric MCC, which encoding/json does not read as a string
			}
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q: (-encoding/json +DecodeJSON)\n%s", body, diff)
		}
	})
}

// TestDecodeJSONAgreesWithContract: what DecodeJSON reads from the generated type (members,
// required ones, which take null, unknown members accepted) is what api/openapi.yaml says of every
// body an operation's handler decodes with it.
func TestDecodeJSONAgreesWithContract(t *testing.T) {
	doc := contractDocument(t)
	bodies := map[string]any{"ProductOrderRequest": ProductOrderRequest{}}
	for name, v := range bodies {
		if _, err := decoderFor(reflect.TypeOf(v)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		agree(t, name, reflect.TypeOf(v), doc.Components.Schemas[name].Value)
	}
}

func agree(t *testing.T, path string, typ reflect.Type, s *openapi3.Schema) {
	t.Helper()
	if typ.Kind() != reflect.Struct || !s.Type.Is(openapi3.TypeObject) {
		return
	}
	if ap := s.AdditionalProperties.Has; ap != nil && !*ap {
		t.Errorf("%s: the contract refuses unknown members, which DecodeJSON accepts", path)
	}
	members := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		members[name] = true
		p := path + "." + name
		prop := s.Properties[name]
		if prop == nil || prop.Value == nil {
			t.Errorf("%s: not in the contract", p)
			continue
		}
		required := f.Type.Kind() != reflect.Pointer && !strings.Contains(opts, "omitempty")
		if required != slices.Contains(s.Required, name) {
			t.Errorf("%s: required %v in the type, %v in the contract", p, required, !required)
		}
		if nullable := f.Type.Kind() == reflect.Pointer; nullable != prop.Value.Nullable {
			t.Errorf("%s: takes null %v in the type, %v in the contract", p, nullable, prop.Value.Nullable)
		}
		elem := f.Type
		if elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		agree(t, p, elem, prop.Value)
	}
	for name := range s.Properties {
		if !members[name] {
			t.Errorf("%s.%s: in the contract, not in the type", path, name)
		}
	}
}
