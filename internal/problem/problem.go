// Package problem writes RFC 9457 problem details with the Management API contract's fields
// (type, title, status, detail, instance, extraDetails), and carries the request id they cite.
package problem

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/vippsmgmt/vippsmgmt"
)

// Content types of error bodies. The contract declares two 404s with JSONUTF8; everything else is
// ProblemJSON.
const (
	ProblemJSON = "application/problem+json"
	JSONUTF8    = "application/json;charset=UTF-8"
)

// TypeBase prefixes every problem type URI.
const TypeBase = "https://vippsmgmt.dev/problems/"

// Detail is the wire form of a problem.
type Detail struct {
	Type         string        `json:"type"`
	Title        string        `json:"title"`
	Status       int           `json:"status"`
	Detail       string        `json:"detail"`
	Instance     string        `json:"instance"`
	ExtraDetails []ExtraDetail `json:"extraDetails,omitempty"`
}

// ExtraDetail is one key/value pair of extraDetails.
type ExtraDetail struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// kinds maps each domain error code to its status, type slug and title. Titles never change
// between occurrences, so "not yours" and "does not exist" read the same.
var kinds = map[string]struct {
	status int
	slug   string
	title  string
}{
	vippsmgmt.EINVALID:      {http.StatusBadRequest, "invalid-request", "Invalid request"},
	vippsmgmt.EUNAUTHORIZED: {http.StatusUnauthorized, "unauthorized", "Not authorized"},
	vippsmgmt.EFORBIDDEN:    {http.StatusForbidden, "forbidden", "Forbidden"},
	vippsmgmt.ENOTFOUND:     {http.StatusNotFound, "not-found", "Not found"},
	vippsmgmt.ECONFLICT:     {http.StatusConflict, "conflict", "Conflict"},
	vippsmgmt.EGONE:         {http.StatusGone, "gone", "Gone"},
	vippsmgmt.EINTERNAL:     {http.StatusInternalServerError, "internal", "Internal server error"},
}

// Status returns the HTTP status of a domain error code.
func Status(code string) int {
	if k, ok := kinds[code]; ok {
		return k.status
	}
	return http.StatusInternalServerError
}

// StatusClientClosedRequest is the status logged for a request whose client went away before the
// answer was ready (nginx's 499): no one reads it, and it is not the server's failure.
const StatusClientClosedRequest = 499

// ClientGone reports whether err only says that the request's client disconnected: ctx, the
// request's context, is cancelled and err is that cancellation.
func ClientGone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// FromError builds the problem for err. Internal errors get a generic detail; their cause goes to
// the log with the request id. An error that only reflects the client's disconnect is a 499 and
// is not logged as an error.
func FromError(ctx context.Context, err error) Detail {
	if ClientGone(ctx, err) {
		return New(ctx, StatusClientClosedRequest, "client-closed-request", "Client closed request",
			"The client disconnected before the answer was ready.")
	}
	code := vippsmgmt.ErrorCode(err)
	k, ok := kinds[code]
	if !ok {
		k = kinds[vippsmgmt.EINTERNAL]
	}
	d := Detail{Type: TypeBase + k.slug, Title: k.title, Status: k.status, Detail: vippsmgmt.ErrorMessage(err), Instance: Instance(ctx)}
	if e, ok := err.(*vippsmgmt.Error); ok {
		for _, f := range e.Fields {
			d.ExtraDetails = append(d.ExtraDetails, ExtraDetail{Key: f.Field, Value: f.Problem})
		}
	}
	if code == vippsmgmt.EINTERNAL {
		slog.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "error", err)
	}
	return d
}

// New builds a problem of a status that has no domain code (413, 415, 405, 429, ...).
func New(ctx context.Context, status int, slug, title, detail string) Detail {
	return Detail{Type: TypeBase + slug, Title: title, Status: status, Detail: detail, Instance: Instance(ctx)}
}

// Write sends d as application/problem+json.
func Write(w http.ResponseWriter, d Detail) { WriteAs(w, ProblemJSON, d) }

// WriteAs sends d with the given content type.
func WriteAs(w http.ResponseWriter, contentType string, d Detail) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

// Error writes the problem for err.
func Error(w http.ResponseWriter, r *http.Request, err error) { Write(w, FromError(r.Context(), err)) }

type requestIDKey struct{}

// RequestIDKey is the context key of the request id, for a context type that carries the id
// itself rather than through WithRequestID.
var RequestIDKey any = requestIDKey{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDContext is a context that holds its request id itself; RequestID asks it directly,
// which saves boxing the id into an interface on every call of Value.
type RequestIDContext interface {
	context.Context
	RequestID() string
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	if c, ok := ctx.(RequestIDContext); ok {
		return c.RequestID()
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Instance is the problem instance URI of the request: its id as a URN.
func Instance(ctx context.Context) string {
	if id := RequestID(ctx); id != "" {
		return "urn:uuid:" + id
	}
	return "urn:uuid:00000000-0000-0000-0000-000000000000"
}
