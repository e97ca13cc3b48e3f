package sqlstore_test

import (
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

func TestScenariosSQLite(t *testing.T) { storetest.RunScenarios(t, openSQLite) }

func TestScenariosPostgres(t *testing.T) { storetest.RunScenarios(t, openPostgres) }
