package openapi

import (
	"mime"

	"github.com/getkin/kin-openapi/openapi3"
)

// operationRoles is what the spec says about an operation beyond its parameters and body.
type operationRoles struct {
	// partnerOnly: marked x-partner-only, so a sales unit's merchant keys get 403.
	partnerOnly bool
	// notFoundAsJSON: the 404 is a Problem declared as application/json rather than
	// application/problem+json, as the official contract has it for some operations.
	notFoundAsJSON bool
}

func rolesOf(op *openapi3.Operation) operationRoles {
	var r operationRoles
	r.partnerOnly, _ = op.Extensions["x-partner-only"].(bool)
	if nf := op.Responses.Status(404); nf != nil && nf.Value != nil {
		for mt := range nf.Value.Content {
			if base, _, err := mime.ParseMediaType(mt); err == nil && base == "application/json" {
				r.notFoundAsJSON = true
			}
		}
	}
	return r
}

// PartnerOnly reports whether the operation at a ServeMux pattern ("GET
// /management/v2/product-orders") is marked x-partner-only in the spec.
func (v *Validator) PartnerOnly(pattern string) bool {
	op := v.ops[pattern]
	return op != nil && op.roles.partnerOnly
}

// NotFoundAsJSON reports whether the operation at a ServeMux pattern declares its 404 Problem as
// application/json rather than application/problem+json.
func (v *Validator) NotFoundAsJSON(pattern string) bool {
	op := v.ops[pattern]
	return op != nil && op.roles.notFoundAsJSON
}
