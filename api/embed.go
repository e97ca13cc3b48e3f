// Package api holds vippsmgmt's OpenAPI document, the contract the server, the generated code and
// the request validator are built from.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
