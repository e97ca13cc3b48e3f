// Package auth implements the Access Token API (POST /accesstoken/get and POST /miami/v1/token),
// publishes the token signing key as a JWKS, and authenticates Management API and admin requests.
//
// Wiring:
//
//	hasher, err := auth.LoadHasher(ctx, store)
//	svc, err := auth.New(ctx, store, clock, hasher, auth.Config{})
//	svc.Routes(mux)                                   // token endpoints and /.well-known/jwks.json
//	mux.Handle("/management/", svc.Middleware(api))   // puts vippsmgmt.Caller in the context
//	mux.Handle("/admin/v1/", auth.RequireAdmin(adminToken)(admin))
//
// Two token flows exist, as in production. A classic token (standard flow, partner and merchant
// keys) is valid only together with the Ocp-Apim-Subscription-Key of the key set that obtained it.
// A management token (miami flow, management keys) stands alone.
package auth
