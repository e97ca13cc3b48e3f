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
	strict := openapi.NewStrictHandlerWithOptions(s, nil, openapi.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  openapi.RequestErrorHandler,
		ResponseErrorHandlerFunc: s.writeError,
	})
	openapi.HandlerWithOptions(strict, openapi.StdHTTPServerOptions{
		BaseRouter:       s.mux,
		ErrorHandlerFunc: openapi.ParamErrorHandler,
		Middlewares:      []openapi.MiddlewareFunc{v.Middleware},
	})
	s.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(api.OpenAPI)
	})
	return nil
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
