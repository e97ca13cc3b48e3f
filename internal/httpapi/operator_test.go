package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// console signs in to a server's operator console and posts its forms as a browser would,
// without following redirects (a 303 is the console's success).
type console struct {
	t      *testing.T
	base   string
	client *http.Client
	csrf   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *console) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	if c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	resp, err := c.client.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *console) get(path string) string {
	c.t.Helper()
	resp, err := c.client.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func signIn(t *testing.T, base string) *console {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, base: base, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	m := csrfRE.FindStringSubmatch(c.get("/console/login"))
	if m == nil {
		t.Fatal("no form token on the sign-in page")
	}
	if status, body := c.post("/console/login", url.Values{"csrf": {m[1]}, "token": {testserver.AdminToken}}); status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %.300s", status, body)
	}
	if m = csrfRE.FindStringSubmatch(c.get("/console")); m == nil {
		t.Fatal("no form token on the console")
	}
	c.csrf = m[1]
	return c
}

// outcome puts the two entry points' answers on one scale: the JSON API's 2xx and the console's
// redirect after a successful post are both "ok"; a refusal is its status.
func outcome(status int) string {
	if status/100 == 2 || status == http.StatusSeeOther {
		return "ok"
	}
	return fmt.Sprint(status)
}

// withoutTimes drops the times the two servers' clocks stamp differently.
func withoutTimes(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.HasSuffix(k, "At") {
				delete(v, k)
			} else {
				v[k] = withoutTimes(x)
			}
		}
	case []any:
		for i := range v {
			v[i] = withoutTimes(v[i])
		}
	}
	return v
}

// TestOperatorActionsAgreeAcrossEntryPoints runs one table of operator actions through the JSON
// operator API on one server and through the console on another: both must give the same answer
// to each action and leave the same data behind.
func TestOperatorActionsAgreeAcrossEntryPoints(t *testing.T) {
	jsonSrv := testserver.Start(t, "sqlite", testserver.Options{})
	consoleSrv := testserver.Start(t, "sqlite", testserver.Options{})
	a, adm := jsonSrv.Client(t), testserver.AdminHeaders(testserver.AdminToken)
	c := signIn(t, consoleSrv.URL)

	const pkg = "0b9e5a43-7c57-4c4a-9d41-3c2f7f1e8d10"
	longName := strings.Repeat("n", 51)
	type request struct {
		method, path string
		body         any
	}
	// An action is the same operator input sent as a JSON request and as a console form.
	type action struct{ json, console request }
	createPartner := func(id, name string) action {
		return action{request{"POST", "/admin/v1/partners", map[string]any{"partnerId": id, "name": name}},
			request{"POST", "/console/partners", url.Values{"partnerId": {id}, "name": {name}}}}
	}
	createMerchant := func(orgNo, name string) action {
		return action{
			request{"POST", "/admin/v1/merchants", map[string]any{"businessIdentifier": map[string]any{"scheme": "business:NO:ORG", "id": orgNo}, "name": name, "countryCode": "NO"}},
			request{"POST", "/console/merchants", url.Values{"scheme": {"business:NO:ORG"}, "id": {orgNo}, "name": {name}, "countryCode": {"NO"}}}}
	}
	// createPricePackage leaves the id to the server when id is "".
	createPricePackage := func(partnerID, id, name, description string) action {
		body := map[string]any{"name": name, "description": description}
		form := url.Values{"partnerId": {partnerID}, "name": {name}, "description": {description}}
		if id != "" {
			body["pricePackageId"], form["pricePackageId"] = id, []string{id}
		}
		return action{request{"POST", "/admin/v1/partners/" + partnerID + "/price-packages", body}, request{"POST", "/console/price-packages", form}}
	}
	updateSalesUnit := func(msn, name, partnerID string) action {
		return action{
			request{"PATCH", "/admin/v1/sales-units/" + msn, map[string]any{"name": name, "status": "ACTIVE", "partnerId": partnerID, "configuration": map[string]any{}}},
			request{"POST", "/console/sales-units/" + msn, url.Values{"name": {name}, "status": {"ACTIVE"}, "partnerId": {partnerID}}}}
	}
	actions := []struct {
		name string
		action
		want string
	}{
		{"create partner", createPartner("newco", "NewCo AS"), "ok"},
		{"create an existing partner", createPartner("newco", "Renamed AS"), "409"},
		{"create a partner with a bad id", createPartner("bad id!", "Bad AS"), "400"},
		{"create merchant", createMerchant("923609016", "Ny Kiosk AS"), "ok"},
		{"create an existing merchant", createMerchant("923609016", "Renamed AS"), "409"},
		{"create a merchant with a malformed organisation number", createMerchant("12", "Feil AS"), "400"},
		{"create price package", createPricePackage("newco", pkg, "Gold", "1,29%"), "ok"},
		{"create an existing price package", createPricePackage("newco", pkg, "Silver", "1,49%"), "409"},
		{"create a price package of an unknown partner", createPricePackage("nobody", "", "Gold", "1,29%"), "404"},
		{"rename sales unit", updateSalesUnit("123456", "Kiosk Renamed", "newco"), "ok"},
		{"rename a sales unit to nothing", updateSalesUnit("123456", " ", "newco"), "400"},
		{"rename a sales unit too long", updateSalesUnit("123456", longName, "newco"), "400"},
		{"connect a sales unit to an unknown partner", updateSalesUnit("123456", "Kiosk", "nobody"), "404"},
		{"update an unknown sales unit", updateSalesUnit("999999", "Kiosk", "newco"), "404"},
	}
	for _, act := range actions {
		r := a.Do(act.json.method, act.json.path, act.json.body, adm...)
		status, body := c.post(act.console.path, act.console.body.(url.Values))
		if got := outcome(r.Status); got != act.want {
			t.Errorf("%s: JSON API answered %d, want %s: %.300s", act.name, r.Status, act.want, r.Body)
		}
		if got := outcome(status); got != act.want {
			t.Errorf("%s: console answered %d, want %s: %.300s", act.name, status, act.want, body)
		}
	}

	for _, path := range []string{"/admin/v1/partners", "/admin/v1/merchants", "/admin/v1/partners/newco/price-packages", "/admin/v1/sales-units/123456"} {
		var viaJSON, viaConsole any
		a.Do("GET", path, nil, adm...).JSON(t, &viaJSON)
		consoleSrv.Client(t).Do("GET", path, nil, adm...).JSON(t, &viaConsole)
		if diff := cmp.Diff(withoutTimes(viaJSON), withoutTimes(viaConsole)); diff != "" {
			t.Errorf("GET %s after the actions (-JSON API +console):\n%s", path, diff)
		}
	}
}
