// Package api holds vippsmgmt's OpenAPI document, the contract the server, the generated code and
// the request validator are built from, and what the server reads of it as plain Go data
// (Operations, Version), generated from it at build time.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
