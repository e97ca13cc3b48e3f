// Package portal serves the two human faces of vippsmgmt as server-rendered HTML: the merchant's
// review of a prefilled product order at its prefillUrl (/register/prefilled/{productOrderId}) and
// the operator console (/console) that approves or rejects orders and edits partners, keys,
// merchants, sales units and price packages.
//
// Pages are html/template files embedded in the binary with one small stylesheet; there is no
// JavaScript. Every state-changing form is a POST guarded twice against cross-site request
// forgery: net/http.CrossOriginProtection rejects cross-origin browser requests, and each form
// carries a hidden token (an HMAC over the order id, or over the console session) that is checked.
//
// Typical wiring, after the API server is built:
//
//	p, err := portal.New(portal.Deps{Store: store, Clock: clk, Hasher: hasher, AdminToken: token,
//		PublicURL: url, Requests: srv.Requests().Page, ForgetKey: auth.Forget, Logger: logger})
//	if err != nil {
//		return err
//	}
//	p.Register(srv.Mux())
package portal
