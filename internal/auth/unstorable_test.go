package auth_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestUnstorableClientID: a client id PostgreSQL cannot hold in text (invalid UTF-8, NUL) is an
// unknown client on both token endpoints and both databases, not a server error.
func TestUnstorableClientID(t *testing.T) {
	testserver.OnEachBackend(t, func(t *testing.T, backend string, srv *testserver.Server) {
		c, k := srv.Client(t), fixtures.DemoPartnerKeys
		for _, tt := range []struct {
			name, path string
			body       any
			headers    []string
			want       int
		}{
			{"accesstoken", "/accesstoken/get", nil,
				[]string{"client_id", "\xff\xfe", "client_secret", k.ClientSecret, "Ocp-Apim-Subscription-Key", k.SubscriptionKey}, http.StatusBadRequest},
			{"miami", "/miami/v1/token", "grant_type=client_credentials",
				[]string{"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("\xff\xfe:secret"))}, http.StatusUnauthorized},
			// Form-decoded on the second reading of the Basic credentials.
			{"miami form-encoded", "/miami/v1/token", "grant_type=client_credentials",
				[]string{"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("%00%FF:secret"))}, http.StatusUnauthorized},
		} {
			if r := c.Do(http.MethodPost, tt.path, tt.body, tt.headers...); r.Status != tt.want {
				t.Errorf("%s: got %d %s, want %d", tt.name, r.Status, r.Body, tt.want)
			}
		}
	})
}
