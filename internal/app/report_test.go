package app_test

import (
	"net/http"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestNoReport: without the integration report the server works as before and its report
// endpoints say there is none.
func TestNoReport(t *testing.T) {
	srv := testserver.Start(t, "sqlite", testserver.Options{NoReport: true})
	if srv.App.Report != nil {
		t.Fatal("the report was assembled")
	}
	for _, method := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(method, srv.URL+"/admin/v1/report", nil)
		req.Header.Set("Authorization", "Bearer "+testserver.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s /admin/v1/report: %d, want 404", method, resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}
