package openapi

import (
	"testing"

	"github.com/vippsmgmt/vippsmgmt/api"
)

// TestParamRuleReadsTheOperation: a binding error is described by the parameter of the operation
// that failed to bind it, also where operations declare a parameter of the same name differently.
func TestParamRuleReadsTheOperation(t *testing.T) {
	rules := map[string]map[string]bool{} // parameter name → the rules operations give it
	for _, op := range api.Operations {
		for _, p := range op.Params {
			want := describe(p.Schema)
			if got := paramRule(op.Method+" "+op.Path, p.Name); got != want {
				t.Errorf("%s %s %s: %q, want %q", op.Method, op.Path, p.Name, got, want)
			}
			if rules[p.Name] == nil {
				rules[p.Name] = map[string]bool{}
			}
			rules[p.Name][want] = true
		}
	}
	if len(rules["partnerId"]) < 2 {
		t.Errorf("partnerId has the rules %v in the contract; the test wants a name with two", rules["partnerId"])
	}
	if got := paramRule("GET /no/such/route", "msn"); got != "must match ^\\d{4,10}$" {
		t.Errorf("msn without its operation: %q", got)
	}
	if got := paramRule("GET /no/such/route", "noSuchParameter"); got != "has an invalid value" {
		t.Errorf("an unknown parameter: %q", got)
	}
}
