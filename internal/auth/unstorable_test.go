package auth_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestUnstorableClientID: a client id PostgreSQL cannot hold in text (invalid UTF-8, NUL) is an
// unknown client on both token endpoints and both databases, not a server error.
func TestUnstorableClientID(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, backend string, srv *testserver.Server) {
		k := fixtures.DemoPartnerKeys
		send := func(r *http.Request, want int) {
			t.Helper()
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want {
				t.Errorf("%s %s: got %d %s, want %d", r.URL.Path, r.Header.Get("Authorization"), resp.StatusCode, body, want)
			}
		}
		miami := func(basicUser string) *http.Request {
			r, err := http.NewRequest(http.MethodPost, srv.URL+"/miami/v1/token", strings.NewReader("grant_type=client_credentials"))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(basicUser+":secret")))
			return r
		}

		r, err := http.NewRequest(http.MethodPost, srv.URL+"/accesstoken/get", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header["Client_id"] = []string{"\xff\xfe"}
		r.Header["Client_secret"] = []string{k.ClientSecret}
		r.Header.Set("Ocp-Apim-Subscription-Key", k.SubscriptionKey)
		send(r, http.StatusBadRequest)

		send(miami("\xff\xfe"), http.StatusUnauthorized)
		send(miami("%00%FF"), http.StatusUnauthorized) // form-decoded on the second reading
	})
}
