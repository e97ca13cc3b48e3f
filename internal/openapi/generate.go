// Package openapi is the server side of api/openapi.yaml: the generated strict server and its
// models, and a request validator built from the contract (api.Operations).
package openapi

//go:generate go tool oapi-codegen -config cfg.yaml ../../api/openapi.yaml
