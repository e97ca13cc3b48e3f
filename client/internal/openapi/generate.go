// Package openapi is the generated models and client of api/openapi.yaml for the public SDK.
package openapi

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config cfg.yaml ../../../api/openapi.yaml
