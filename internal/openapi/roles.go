package openapi

// PartnerOnly reports whether the operation at a ServeMux pattern ("GET
// /management/v2/product-orders") is marked x-partner-only in the contract, so a sales unit's
// merchant keys get 403.
func (v *Validator) PartnerOnly(pattern string) bool {
	op := v.ops[pattern]
	return op != nil && op.contract.PartnerOnly
}

// NotFoundAsJSON reports whether the operation at a ServeMux pattern declares its 404 Problem as
// application/json rather than application/problem+json, as the official contract has it for
// some operations.
func (v *Validator) NotFoundAsJSON(pattern string) bool {
	op := v.ops[pattern]
	return op != nil && op.contract.NotFoundAsJSON
}
