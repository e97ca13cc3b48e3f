package openapi

import (
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// strictBody reports the faults of raw, a valid JSON body, that a schema cannot express and
// DecodeJSON refuses in the bodies it decodes: a member name given twice in one object, also in
// another case (Go's decoder keeps the last of duplicates and matches names case-insensitively, so
// {"productType":"CHECKOUT","PRODUCTTYPE":"LOGIN"} would be validated as one value and stored as
// the other), and strings or member names that break the domain's text rules.
func strictBody(raw []byte) []problem.ExtraDetail {
	d := decoder{data: raw}
	if bad := d.walk(func() { d.skip("", true) }); bad != nil {
		// raw is valid JSON: only its depth can stop the walk.
		return []problem.ExtraDetail{{Key: "body", Value: "is " + bad.msg}}
	}
	var fails []problem.ExtraDetail
	for _, f := range d.faults {
		fails = append(fails, problem.ExtraDetail{Key: f.Field, Value: f.Problem})
	}
	return fails
}
