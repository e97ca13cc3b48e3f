package openapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStrictBody(t *testing.T) {
	for _, c := range []struct {
		body string
		want []string
	}{
		{`{"productType":"CHECKOUT","PRODUCTTYPE":"LOGIN"}`, []string{"PRODUCTTYPE"}},
		{`{"a":1,"a":2}`, []string{"a"}},
		{`{"a":{"b":1,"B":2},"c":[{"d":1},{"d":1,"D":{"x":[1,2]}}]}`, []string{"a.B", "c[1].D"}},
		{`{"a":[{"b":1},{"b":2}],"b":{"a":1},"list":["x","x"]}`, nil},
		{`{"name":"a\u0000b","items":["ok","\u001b"],"intendedPurpose":"x\ny"}`, []string{"name", "items[1]"}},
		{`{"name":"one\ntwo"}`, []string{"name"}},
		{`{"bad\u0000key":1}`, []string{"body"}},
		{`"\u0007"`, []string{"body"}},
		{`{"name":"a\ud800","pair":"\ud83d\ude00","list":["\udc00x"]}`, []string{"name", "list[0]"}},
	} {
		if !json.Valid([]byte(c.body)) {
			t.Fatalf("%s is not JSON", c.body)
		}
		var got []string
		for _, f := range strictBody([]byte(c.body)) {
			got = append(got, f.Key)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", c.body, diff)
		}
	}
}
