// Package openapi is the server side of api/openapi.yaml: the generated strict server, its models
// and embedded spec, and a request validator built from that spec.
package openapi

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config cfg.yaml ../../api/openapi.yaml
