// Package api holds vippsmgmt's OpenAPI document, the contract the server, the generated code and
// the request validator are built from.
package api

import (
	_ "embed"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// OpenAPI is api/openapi.yaml, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Document is OpenAPI parsed, once per process: the request validator and the fault catalog read
// it, and parsing it is the largest part of a start-up. It is shared, so callers must not modify
// it.
var Document = sync.OnceValues(func() (*openapi3.T, error) {
	return openapi3.NewLoader().LoadFromData(OpenAPI)
})
