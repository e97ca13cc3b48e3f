// Package openapi is the generated models and client of api/openapi.yaml for the public SDK.
package openapi

//go:generate go tool oapi-codegen -config cfg.yaml ../../../api/openapi.yaml
