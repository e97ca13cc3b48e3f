package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestFastGetMsnAnswersAsTheGeneratedHandler sends the same requests to a server whose
// GET /management/v1/sales-units/{msn} is the generated handler and to one with its fast path, on
// one database: every answer, refusals included, must be the same.
func TestFastGetMsnAnswersAsTheGeneratedHandler(t *testing.T) {
	httpapi.SetFastRoutes(false)
	generated := testserver.Start(t, "sqlite", testserver.Options{})
	httpapi.SetFastRoutes(true)
	fast := testserver.Start(t, "sqlite", testserver.Options{DSN: generated.DSN})

	partner := classicHeaders(t, generated.URL, fixtures.DemoPartnerKeys)
	merchant := classicHeaders(t, generated.URL, fixtures.DemoMerchantKeys)
	long := strings.Repeat("x", 300)
	cases := []struct {
		name, msn string
		auth      map[string][]string
		extra     map[string][]string
	}{
		{"own unit", fixtures.DemoMSN, partner, nil},
		{"with system headers", fixtures.DemoMSN, partner, map[string][]string{"Vipps-System-Name": {"shop"}, "Vipps-System-Version": {"1.2"},
			"Vipps-System-Plugin-Name": {"plugin"}, "Vipps-System-Plugin-Version": {"3"}}},
		{"system name twice", fixtures.DemoMSN, partner, map[string][]string{"Vipps-System-Name": {"a", "b"}}},
		{"system name too long", fixtures.DemoMSN, partner, map[string][]string{"Vipps-System-Name": {long}}},
		{"no configuration", fixtures.DemoDanishMSN, partner, nil},
		{"another partner's unit", fixtures.DemoOtherPartnerMSN, partner, nil},
		{"inactive unit", fixtures.DemoInactiveMSN, partner, nil},
		{"unknown unit", "999999", partner, nil},
		{"not digits", "12ab56", partner, nil},
		{"too short", "123", partner, nil},
		{"too long", "12345678901", partner, nil},
		{"merchant keys, own unit", fixtures.DemoMerchantKeysMSN, merchant, nil},
		{"merchant keys, other unit", fixtures.DemoMSN, merchant, nil},
		{"no token", fixtures.DemoMSN, nil, nil},
		// Paths the fast route leaves to the ServeMux, which must answer as the generated handler.
		{"escaped digits", "%3" + fixtures.DemoMSN[:1] + fixtures.DemoMSN[1:], partner, nil},
		{"escaped slash", fixtures.DemoMSN + "%2Fx", partner, nil},
		{"space", "12 34", partner, nil},
		{"trailing slash", fixtures.DemoMSN + "/", partner, nil},
		{"empty", "", partner, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := getMsn(t, generated.URL, c.msn, c.auth, c.extra)
			got := getMsn(t, fast.URL, c.msn, c.auth, c.extra)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fast path differs (-generated +fast):\n%s", diff)
			}
			// The request log and the metrics name the same route.
			wantRoute := generated.App.Server.Requests().Last(1)[0].Route
			if gotRoute := fast.App.Server.Requests().Last(1)[0].Route; gotRoute != wantRoute {
				t.Errorf("fast path logs route %q, generated %q", gotRoute, wantRoute)
			}
		})
	}
}

type answer struct {
	Status  int
	Headers map[string][]string
	Body    string
}

func getMsn(t *testing.T, base, msn string, headers ...map[string][]string) answer {
	t.Helper()
	return getPath(t, base, "/management/v1/sales-units/"+msn, headers...)
}

func getPath(t *testing.T, base, path string, headers ...map[string][]string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("X-Request-Id", "fixed-id")
	for _, h := range headers {
		for k, vs := range h {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	resp.Header.Del("Date")
	return answer{Status: resp.StatusCode, Headers: resp.Header, Body: string(body)}
}

// classicHeaders fetches a classic token for k and returns the headers of a Management API call.
func classicHeaders(t *testing.T, base string, k fixtures.Keys) map[string][]string {
	t.Helper()
	tok := testserver.ClassicToken(t, base, k)
	return map[string][]string{"Authorization": {"Bearer " + tok}, "Ocp-Apim-Subscription-Key": {k.SubscriptionKey}}
}
