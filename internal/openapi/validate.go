package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// MaxBodyBytes bounds every request body the server reads: a prefill with a base64 PNG logo of
// the largest recommended size (1000x1000) fits with room to spare.
const MaxBodyBytes = 2 << 20

// Validator checks requests against api/openapi.yaml before the generated handlers see them.
//
// It reads the contract as data generated at build time (api.Operations) and compiles its checks
// at construction: the operation is found from r.Pattern (the ServeMux has already matched),
// parameters are checked with precompiled rules, and JSON bodies are checked against their
// schemas (schemaFaults). Reads such as GET /management/v1/sales-units/{msn} cost a map lookup and
// a few string checks. Security requirements are not checked here: authentication runs before.
type Validator struct {
	// MaxBodyBytes is the largest body accepted; larger ones get 413.
	MaxBodyBytes int64

	// Decoded lists the operations, by ServeMux pattern ("POST /management/v1/product-orders"),
	// whose handlers read their bodies with ReadBody and decode them with DecodeJSON: once, into
	// the generated type, with the domain's rules as the one judge of the values. Middleware checks
	// only their parameters.
	Decoded map[string]bool

	ops      map[string]*operation     // by ServeMux pattern, "GET /management/v1/sales-units/{msn}"
	patterns map[string]*regexp.Regexp // the contract's patterns, by api.Schema.GoPattern
}

type operation struct {
	contract *api.Operation // what the contract says of it, such as its roles (roles.go)
	params   []param
	query    bool // whether any parameter is in the query, so the query is parsed only then
	body     *body
}

type param struct {
	name     string // as declared, for messages
	key      string // canonical header key, for headers
	in       string
	required bool
	schema   *api.Schema
	check    func(string) string // "" when the value is fine, else the rule it breaks
}

type body struct {
	*api.RequestBody
	// numberMembers are its top-level string properties that also take a JSON number
	// (numberStrings), read as their string before the schema check.
	numberMembers []string
}

// NewValidator compiles the checks of every operation of the contract.
func NewValidator() (*Validator, error) {
	v := &Validator{MaxBodyBytes: MaxBodyBytes, ops: make(map[string]*operation, len(api.Operations))}
	c := &compiler{
		checks: map[*api.Schema]func(string) string{}, patterns: map[string]*regexp.Regexp{},
		seen: map[*api.Schema]bool{},
	}
	for i := range api.Operations {
		op := &api.Operations[i]
		o, err := c.compileOperation(op)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", op.Method, op.Path, err)
		}
		v.ops[op.Method+" "+op.Path] = o
	}
	v.patterns = c.patterns
	return v, nil
}

// compiler compiles each parameter schema and pattern once: most parameters are shared
// components that many operations refer to, and a compiled pattern is kilobytes the server keeps.
type compiler struct {
	checks   map[*api.Schema]func(string) string
	patterns map[string]*regexp.Regexp // by api.Schema.GoPattern
	seen     map[*api.Schema]bool      // body schemas whose patterns are compiled
}

func (c *compiler) compileOperation(op *api.Operation) (*operation, error) {
	o := &operation{contract: op}
	for _, p := range op.Params {
		check, err := c.compileParam(p.Schema)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		o.params = append(o.params, param{
			name: p.Name, key: textproto.CanonicalMIMEHeaderKey(p.Name), in: p.In,
			required: p.Required, schema: p.Schema, check: check,
		})
		o.query = o.query || p.In == "query"
	}
	if rb := op.Body; rb != nil {
		b := &body{RequestBody: rb}
		if b.JSON != nil {
			for _, name := range slices.Sorted(maps.Keys(numberStrings)) {
				if b.JSON.Property(name) != nil {
					b.numberMembers = append(b.numberMembers, name)
				}
			}
			if err := c.compileBodyPatterns(b.JSON); err != nil {
				return nil, fmt.Errorf("request body: %w", err)
			}
		}
		o.body = b
	}
	return o, nil
}

// compileBodyPatterns compiles the patterns of s and the schemas inside it.
func (c *compiler) compileBodyPatterns(s *api.Schema) error {
	if s == nil || c.seen[s] {
		return nil
	}
	c.seen[s] = true
	if _, err := c.pattern(s); err != nil {
		return err
	}
	for _, p := range s.Properties {
		if err := c.compileBodyPatterns(p.Schema); err != nil {
			return err
		}
	}
	for _, part := range s.AllOf {
		if err := c.compileBodyPatterns(part); err != nil {
			return err
		}
	}
	return c.compileBodyPatterns(s.Items)
}

// pattern compiles the pattern of s once for the whole contract; nil when s has none.
func (c *compiler) pattern(s *api.Schema) (*regexp.Regexp, error) {
	if s.Pattern == "" {
		return nil, nil
	}
	if re := c.patterns[s.GoPattern]; re != nil {
		return re, nil
	}
	re, err := regexp.Compile(s.GoPattern)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", s.Pattern, err)
	}
	c.patterns[s.GoPattern] = re
	return re, nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// compileParam turns a parameter schema into a check of the raw string: the contract's
// parameters are strings, booleans and integers (the generator refuses others).
func (c *compiler) compileParam(s *api.Schema) (func(string) string, error) {
	if check, ok := c.checks[s]; ok {
		return check, nil
	}
	check, err := c.compileSchema(s)
	if err == nil {
		c.checks[s] = check
	}
	return check, err
}

func (c *compiler) compileSchema(s *api.Schema) (func(string) string, error) {
	switch {
	case s.Is("string"):
		var matches func(string) bool // nil: no pattern
		if s.Pattern != "" {
			re, err := c.pattern(s)
			if err != nil {
				return nil, err
			}
			matches = patternMatcher(s.Pattern, re)
		}
		minLen, maxLen := int(s.MinLength), -1
		if s.HasMaxLength {
			maxLen = int(s.MaxLength)
		}
		var enum []string
		if s.HasEnum {
			enum = slices.Clone(s.EnumStrings)
			for _, n := range s.EnumNumbers {
				enum = append(enum, fmt.Sprint(n))
			}
		}
		isUUID := s.Format == "uuid"
		return func(v string) string {
			// Rune counts only matter near the limits; byte length bounds them cheaply.
			if n := len(v); (maxLen >= 0 && n > maxLen) || n < minLen {
				n = utf8.RuneCountInString(v)
				if maxLen >= 0 && n > maxLen {
					return fmt.Sprintf("must be at most %d characters", maxLen)
				}
				if n < minLen {
					return fmt.Sprintf("must be at least %d characters", minLen)
				}
			}
			if matches != nil && !matches(v) {
				return "must match " + s.Pattern
			}
			if enum != nil && !slices.Contains(enum, v) {
				return "must be one of " + strings.Join(enum, ", ")
			}
			if isUUID && !uuidRE.MatchString(v) {
				return "must be a UUID"
			}
			return ""
		}, nil
	case s.Is("boolean"):
		return func(v string) string {
			if v == "true" || v == "false" {
				return ""
			}
			return "must be true or false"
		}, nil
	case s.Is("integer"):
		return func(v string) string {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "must be an integer"
			}
			// The first rule broken, as the schema check of a body would name it.
			if faults := schemaFaults(s, float64(n), nil); len(faults) > 0 {
				return faults[0].Value
			}
			return ""
		}, nil
	}
	return nil, fmt.Errorf("a parameter of type %v cannot be checked", s.Types)
}

// Middleware validates requests of the operations in the spec and passes everything else through.
// It fits StdHTTPServerOptions.Middlewares, which run after the ServeMux matched and the generated
// wrapper bound the parameters, so r.Pattern and r.PathValue are set.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := v.ops[r.Pattern]
		if op == nil || v.validate(w, r, op) {
			next.ServeHTTP(w, r)
		}
	})
}

// validate reports whether the request may go on; when not, it has written the problem.
func (v *Validator) validate(w http.ResponseWriter, r *http.Request, op *operation) bool {
	var fails []problem.ExtraDetail
	var query map[string][]string
	if op.query && r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	for i := range op.params {
		p := &op.params[i]
		var value string
		var found bool
		switch p.in {
		case "path":
			value = r.PathValue(p.name)
			found = value != ""
		case "header":
			if vs := r.Header[p.key]; len(vs) > 0 {
				value, found = vs[0], true
			}
		case "query":
			if vs := query[p.name]; len(vs) > 0 {
				value, found = vs[0], true
			}
		default:
			continue
		}
		if !found {
			if p.required {
				fails = append(fails, problem.ExtraDetail{Key: p.name, Value: "is required"})
			}
			continue
		}
		if msg := vippsmgmt.TextProblem(value, false); msg != "" {
			fails = append(fails, problem.ExtraDetail{Key: p.name, Value: msg})
		} else if msg := p.check(value); msg != "" {
			fails = append(fails, problem.ExtraDetail{Key: p.name, Value: msg})
		}
	}
	if op.body != nil && !v.Decoded[r.Pattern] {
		bodyFails, ok := v.validateBody(w, r, op.body)
		if !ok {
			return false
		}
		fails = append(fails, bodyFails...)
	}
	if len(fails) == 0 {
		return true
	}
	writeInvalid(w, r, fails)
	return false
}

// ReadBody reads the body of r, a request to an operation listed in Decoded, as Middleware reads
// the others: it answers 413 for a body over MaxBodyBytes, 415 for a media type the operation
// does not take, and 400 for a missing required body or a charset other than UTF-8. ok is false
// when it has answered; otherwise raw is the body, nil when there is none.
func (v *Validator) ReadBody(w http.ResponseWriter, r *http.Request) (raw []byte, ok bool) {
	op := v.ops[r.Pattern]
	if op == nil || op.body == nil {
		return nil, true
	}
	raw, _, fails, ok := v.readBody(w, r, op.body)
	if len(fails) > 0 {
		writeInvalid(w, r, fails)
		return nil, false
	}
	return raw, ok
}

// readBody reads the body and checks its size and media type. ok is false when it has answered
// (413, 415); fails are the body's faults otherwise. raw is nil for an empty optional body.
func (v *Validator) readBody(w http.ResponseWriter, r *http.Request, b *body) (raw []byte, base string, fails []problem.ExtraDetail, ok bool) {
	raw, err := readAll(http.MaxBytesReader(w, r.Body, v.MaxBodyBytes), r.ContentLength)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			problem.Write(w, problem.New(r.Context(), http.StatusRequestEntityTooLarge, "request-too-large",
				"Request body too large", fmt.Sprintf("The request body must be at most %d bytes.", tooLarge.Limit)))
			return nil, "", nil, false
		}
		return nil, "", []problem.ExtraDetail{{Key: "body", Value: "could not be read"}}, true
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if b.Required {
			return nil, "", []problem.ExtraDetail{{Key: "body", Value: "is required"}}, true
		}
		r.Body = http.NoBody
		return nil, "", nil, true
	}
	ct := r.Header.Get("Content-Type")
	base, ctParams, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(b.MediaTypes, base) {
		detail := "The request body must be sent with Content-Type " + strings.Join(b.MediaTypes, " or ") + "."
		if ct != "" {
			detail = fmt.Sprintf("Content-Type %q is not supported. %s", ct, detail)
		}
		problem.Write(w, problem.New(r.Context(), http.StatusUnsupportedMediaType, "unsupported-media-type",
			"Unsupported media type", detail))
		return nil, "", nil, false
	}
	if cs, ok := ctParams["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		// Bodies are read as UTF-8; another charset would be stored as something else than sent.
		return nil, "", []problem.ExtraDetail{{Key: "Content-Type", Value: "charset must be UTF-8, not " + strconv.Quote(cs)}}, true
	}
	return raw, base, nil, true
}

// readAll reads a body whose announced length, when known, sizes the buffer at once.
// preallocBytes is the most readAll sets aside before the bytes arrive: a prefill with a logo fits.
const preallocBytes = 256 << 10

func readAll(body io.Reader, length int64) ([]byte, error) {
	if length <= 0 || length > MaxBodyBytes {
		return io.ReadAll(body)
	}
	// +1: the read that finds EOF needs no growth. Only up to preallocBytes is taken on the
	// announced length's word, so a client that announces megabytes and trickles them holds
	// no more than what it has sent.
	buf := make([]byte, 0, min(length+1, preallocBytes))
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		} else if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) { // longer than announced: the limit reader still bounds it
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// validateBody checks the body against the schema and returns the fields it faults; ok is false
// when it has already answered (413, 415, malformed JSON).
func (v *Validator) validateBody(w http.ResponseWriter, r *http.Request, b *body) (fails []problem.ExtraDetail, ok bool) {
	raw, base, fails, ok := v.readBody(w, r, b)
	if !ok || len(fails) > 0 || raw == nil {
		return fails, ok
	}
	if b.JSON == nil || base != "application/json" {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		return nil, true
	}
	var value any
	if err := json.Unmarshal(raw, &value); err != nil {
		writeMalformed(w, r, err)
		return nil, false
	}
	if fails := strictBody(raw); len(fails) > 0 {
		return fails, true // an ambiguous body: no rule judges its values
	}
	if numbersAsStrings(value, b.numberMembers) {
		// The contract's own example sends the MCC as a number; hand the handler a string.
		var err error
		if raw, err = json.Marshal(value); err != nil {
			writeMalformed(w, r, err)
			return nil, false
		}
	}
	if fails := schemaFaults(b.JSON, value, v.patterns); len(fails) > 0 {
		return fails, true
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	return nil, true
}

// numbersAsStrings rewrites each member of names the object value holds as a number its
// numberStrings rule reads as a string, and reports whether it rewrote any.
func numbersAsStrings(value any, names []string) bool {
	obj, ok := value.(map[string]any)
	if !ok {
		return false
	}
	rewrote := false
	for _, name := range names {
		n, ok := obj[name].(float64)
		if !ok {
			continue
		}
		if s, ok := numberStrings[name](n); ok {
			obj[name] = s
			rewrote = true
		}
	}
	return rewrote
}

// mccOfNumber is the merchant category code a JSON number stands for: the contract's own example
// sends it as a number, which is read as its four digits.
func mccOfNumber(n float64) (string, bool) {
	if n < 0 || n > 9999 || n != math.Trunc(n) {
		return "", false
	}
	return fmt.Sprintf("%04d", int(n)), true
}

// writeInvalid answers 400 with one extraDetails entry per field and the domain's wording of the
// detail, the same as a handler's invalid-field error.
func writeInvalid(w http.ResponseWriter, r *http.Request, fails []problem.ExtraDetail) {
	fields := make([]vippsmgmt.FieldError, len(fails))
	for i, f := range fails {
		fields[i] = vippsmgmt.FieldError{Field: f.Key, Problem: f.Value}
	}
	problem.Write(w, problem.FromError(r.Context(), vippsmgmt.InvalidFields(fields)))
}

func writeMalformed(w http.ResponseWriter, r *http.Request, err error) {
	msg := err.Error()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg = fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	problem.Write(w, problem.New(r.Context(), http.StatusBadRequest, "invalid-request", "Invalid request", "Malformed JSON: "+msg))
}
