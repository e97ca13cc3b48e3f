package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// ErrorHandlers returns problem+json handlers for the generated code, which otherwise answers in
// text/plain: request for StrictHTTPServerOptions.RequestErrorHandlerFunc (a body the strict
// wrapper could not decode: 400) and response for StrictHTTPServerOptions.ResponseErrorHandlerFunc
// (an error returned by a handler: the domain error's status, 500 for anything else). The std
// server's StdHTTPServerOptions.ErrorHandlerFunc takes ParamErrorHandler.
func ErrorHandlers() (request, response func(w http.ResponseWriter, r *http.Request, err error)) {
	return RequestErrorHandler, ResponseErrorHandler
}

// RequestErrorHandler answers 400 for a request body the strict wrapper could not decode.
func RequestErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		writeInvalid(w, r, []problem.ExtraDetail{{Key: field, Value: "must be " + jsonKind(typ.Type.Kind().String())}})
	case errors.As(err, &syn):
		writeMalformed(w, r, err)
	default:
		msg := strings.TrimPrefix(err.Error(), "can't decode JSON body: ")
		writeMalformed(w, r, errors.New(msg))
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int32", "int64", "uint", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "of another type"
}

// ResponseErrorHandler writes the problem for an error a strict handler returned.
func ResponseErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	problem.Error(w, r, err)
}

// ParamErrorHandler answers 400 naming the parameter the std server wrapper could not bind.
func ParamErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var (
		format   *InvalidParamFormatError
		required *RequiredParamError
		header   *RequiredHeaderError
		many     *TooManyValuesForParamError
		unmarsh  *UnmarshalingParamError
		cookie   *UnescapedCookieParamError
	)
	var name, rule string
	switch {
	case errors.As(err, &format):
		name, rule = format.ParamName, paramRule(r.Pattern, format.ParamName)
	case errors.As(err, &required):
		name, rule = required.ParamName, "is required"
	case errors.As(err, &header):
		name, rule = header.ParamName, "header is required"
	case errors.As(err, &many):
		name, rule = many.ParamName, fmt.Sprintf("must be given once, not %d times", many.Count)
	case errors.As(err, &unmarsh):
		name, rule = unmarsh.ParamName, paramRule(r.Pattern, unmarsh.ParamName)
	case errors.As(err, &cookie):
		name, rule = cookie.ParamName, "is not a valid cookie value"
	default:
		name, rule = "request", err.Error()
	}
	writeInvalid(w, r, []problem.ExtraDetail{{Key: name, Value: rule}})
}

// paramRule describes the value a parameter of the operation at a ServeMux pattern takes, for
// binding errors, which carry no rule. Without the operation, the first parameter of that name in
// the contract is described.
func paramRule(pattern, name string) string {
	var first *api.Schema
	for i := range api.Operations {
		op := &api.Operations[i]
		for _, p := range op.Params {
			if p.Name != name {
				continue
			}
			if op.Method+" "+op.Path == pattern {
				return describe(p.Schema)
			}
			if first == nil {
				first = p.Schema
			}
		}
	}
	if first != nil {
		return describe(first)
	}
	return "has an invalid value"
}

func describe(s *api.Schema) string {
	switch {
	case s.Format == "uuid":
		return "must be a UUID"
	case s.Is("boolean"):
		return "must be true or false"
	case s.Is("integer"):
		return "must be an integer"
	case s.Is("number"):
		return "must be a number"
	case s.Pattern != "":
		return "must match " + s.Pattern
	}
	return "has an invalid value"
}
