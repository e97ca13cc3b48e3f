// Package vippsmgmt holds the domain of the Vipps MobilePay Management API twin: partners, API keys,
// merchants, sales units, price packages and product orders, the rules that govern them, and the
// store contract both databases implement.
package vippsmgmt

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Each maps to one HTTP status in internal/problem, the one table for the API and the
// pages alike.
const (
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EGONE         = "gone"
	EINTERNAL     = "internal"
)

// FieldError names one field that breaks the contract and says why.
type FieldError struct {
	Field   string `json:"key"`
	Problem string `json:"value"`
}

// Error is the domain error: a code for the transport, a message safe to show the caller, and the
// offending fields when there are several.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	return fmt.Sprintf("vippsmgmt: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns a domain error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not domain errors and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return "" // before e is declared: errors.As makes it escape, which costs an allocation
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err; internal errors get a generic text.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// InvalidFields returns an EINVALID error listing every field problem; nil when there is none.
// The message names the first few fields; Fields holds them all, one entry per field (the problems
// of a field named twice joined with "and"), which the HTTP layer sends as extraDetails.
func InvalidFields(fields []FieldError) error {
	fields = oneEntryPerField(fields)
	const named = 3
	parts := make([]string, 0, named+1)
	for i, f := range fields {
		if i == named {
			parts = append(parts, fmt.Sprintf("and %d more", len(fields)-named))
			break
		}
		parts = append(parts, f.Field+": "+f.Problem)
	}
	switch len(fields) {
	case 0:
		return nil
	case 1:
		return &Error{Code: EINVALID, Message: parts[0] + ".", Fields: fields}
	}
	return &Error{Code: EINVALID, Message: fmt.Sprintf("%d fields are invalid: %s.", len(fields), strings.Join(parts, "; ")), Fields: fields}
}

// oneEntryPerField joins the problems of a field that occurs more than once into its first entry.
func oneEntryPerField(fields []FieldError) []FieldError {
	twice := false
	for i := 1; i < len(fields) && !twice; i++ {
		for j := range i {
			if fields[j].Field == fields[i].Field {
				twice = true
				break
			}
		}
	}
	if !twice {
		return fields
	}
	out := make([]FieldError, 0, len(fields))
	at := map[string]int{}
	for _, f := range fields {
		i, seen := at[f.Field]
		if !seen {
			at[f.Field] = len(out)
			out = append(out, f)
		} else if !strings.Contains(out[i].Problem, f.Problem) {
			out[i].Problem += " and " + f.Problem
		}
	}
	return out
}
