package sqlstore_test

import (
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

func TestSQLiteReport(t *testing.T) { storetest.RunReport(t, openSQLite) }

func TestPostgresReport(t *testing.T) { storetest.RunReport(t, openPostgres) }
