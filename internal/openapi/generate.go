// Package openapi is the server side of api/openapi.yaml: the generated strict server, its models
// and embedded spec, and a request validator built from that spec.
package openapi

//go:generate go tool oapi-codegen -config cfg.yaml ../../api/openapi.yaml
