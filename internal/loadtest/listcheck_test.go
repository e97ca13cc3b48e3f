package loadtest

import (
	"net/http"
	"testing"
)

// TestListChecks: the checks of the list downloads refuse every kind of wrong answer.
func TestListChecks(t *testing.T) {
	answer := func(status int, contentType string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}}
	}
	const jsonType = "application/json;charset=UTF-8"
	units := `[{"msn":"` + unitMSN(0) + `","name":"Shop 0"},{"msn":"` + unitMSN(1) + `","name":"Shop 1"}]`
	for _, c := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"units", checkList(answer(200, jsonType), []byte(units), 2), true},
		{"units, one missing", checkList(answer(200, jsonType), []byte(units), 3), false},
		{"units out of order", checkList(answer(200, jsonType), []byte(`[{"msn":"`+unitMSN(1)+`","name":"Shop 1"},{"msn":"`+unitMSN(0)+`","name":"Shop 0"}]`), 2), false},
		{"units cut short", checkList(answer(200, jsonType), []byte(units[:40]), 2), false},
		{"units as text", checkList(answer(200, "text/plain"), []byte(units), 2), false},
		{"units refused", checkList(answer(500, jsonType), []byte(`{}`), 2), false},
		{"orders", checkOrderList(answer(200, jsonType), []byte(`[{"productOrderId":"a","status":"RECEIVED"},{"productOrderId":"b","status":"RECEIVED"}]`), 2), true},
		{"orders, one twice", checkOrderList(answer(200, jsonType), []byte(`[{"productOrderId":"a","status":"RECEIVED"},{"productOrderId":"a","status":"RECEIVED"}]`), 2), false},
		{"orders, one without id", checkOrderList(answer(200, jsonType), []byte(`[{"status":"RECEIVED"}]`), 1), false},
		{"orders, one approved", checkOrderList(answer(200, jsonType), []byte(`[{"productOrderId":"a","status":"APPROVED"}]`), 1), false},
	} {
		if (c.err == nil) != c.ok {
			t.Errorf("%s: got %v, want ok %v", c.name, c.err, c.ok)
		}
	}
}
