package httpapi

import (
	"net/http"

	"github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

var _ openapi.StrictServerInterface = (*Server)(nil)

// jsonNotFound lists the operations whose 404 the contract declares as
// application/json;charset=UTF-8 instead of problem+json.
var jsonNotFound = map[string]bool{
	"DELETE /management/v1/product-orders/{productOrderId}":      true,
	"GET /management/v2/product-orders/{productOrderId}/details": true,
	"GET /management/v1/product-orders/{productOrderId}/details": true,
}

// registerAPI adds the generated Management and operator routes, validated against
// api/openapi.yaml before they reach a handler, and the document itself.
func (s *Server) registerAPI() error {
	v, err := openapi.NewValidator()
	if err != nil {
		return err
	}
	v.MaxBodyBytes = MaxBodyBytes
	v.FieldRules = map[string]openapi.FieldRule{"POST /management/v1/product-orders": s.prefillFieldRule}
	strict := openapi.NewStrictHandlerWithOptions(s, nil, openapi.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  openapi.RequestErrorHandler,
		ResponseErrorHandlerFunc: s.writeError,
	})
	openapi.HandlerWithOptions(strict, openapi.StdHTTPServerOptions{
		BaseRouter:       s.mux,
		ErrorHandlerFunc: paramError,
		// The last middleware runs first: merchant keys get their 403 before any body is judged.
		Middlewares: []openapi.MiddlewareFunc{v.Middleware, requirePartnerRole},
	})
	s.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(api.OpenAPI)
	})
	return nil
}

// partnerOnly lists the Management operations for partner keys and management keys only.
var partnerOnly = map[string]bool{
	"POST /management/v1/product-orders":                         true,
	"GET /management/v2/product-orders":                          true,
	"GET /management/v2/product-orders/{productOrderId}/details": true,
	"GET /management/v1/product-orders/{productOrderId}/details": true,
	"DELETE /management/v1/product-orders/{productOrderId}":      true,
	"GET /management/v1/partners/price-packages":                 true,
}

// paramError answers a parameter the generated wrapper could not bind. The wrapper binds before
// any middleware runs, so merchant keys get their 403 here too: otherwise a prefill without an
// Idempotency-Key would tell them 400 where every other request says 403.
func paramError(w http.ResponseWriter, r *http.Request, err error) {
	if partnerOnly[r.Pattern] {
		if _, perr := partnerFrom(r.Context()); perr != nil {
			problem.Error(w, r, perr)
			return
		}
	}
	openapi.ParamErrorHandler(w, r, err)
}

func requirePartnerRole(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if partnerOnly[r.Pattern] {
			if _, err := partnerFrom(r.Context()); err != nil {
				problem.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeError answers a handler's error as a problem, in the content type the contract declares.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	d := problem.FromError(r.Context(), err)
	if d.Status == http.StatusNotFound && jsonNotFound[r.Pattern] {
		problem.WriteAs(w, problem.JSONUTF8, d)
		return
	}
	problem.Write(w, d)
}
