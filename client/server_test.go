package client_test

import (
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

const testAdminToken = testserver.AdminToken

// startServer runs a complete vippsmgmt server with the demo data on loopback, the same assembly
// as `vippsmgmt serve`, and returns its base URL. It stops when the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	return testserver.Start(t, "sqlite", testserver.Options{}).URL
}
