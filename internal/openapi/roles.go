package openapi

// operationRoles is what the contract says about an operation beyond its parameters and body.
type operationRoles struct {
	// partnerOnly: marked x-partner-only, so a sales unit's merchant keys get 403.
	partnerOnly bool
	// notFoundAsJSON: the 404 is a Problem declared as application/json rather than
	// application/problem+json, as the official contract has it for some operations.
	notFoundAsJSON bool
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
