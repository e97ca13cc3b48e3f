package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// MaxBodyBytes bounds every request body the server reads: a prefill with a base64 PNG logo of
// the largest recommended size (1000x1000) fits with room to spare.
const MaxBodyBytes = 2 << 20

// Validator checks requests against api/openapi.yaml before the generated handlers see them.
//
// Everything that can be decided without kin-openapi is compiled at construction: the operation is
// found from r.Pattern (the ServeMux has already matched), and parameters are checked with
// precompiled rules. Only JSON bodies go through kin-openapi's schema validation, so reads such as
// GET /management/v1/sales-units/{msn} cost a map lookup and a few string checks.
// Security requirements are not checked here: authentication runs before.
type Validator struct {
	// MaxBodyBytes is the largest body accepted; larger ones get 413.
	MaxBodyBytes int64

	// Decoded lists the operations, by ServeMux pattern ("POST /management/v1/product-orders"),
	// whose handlers read their bodies with ReadBody and decode them with DecodeJSON: once, into
	// the generated type, with the domain's rules as the one judge of the values. Middleware checks
	// only their parameters.
	Decoded map[string]bool

	ops map[string]*operation // by ServeMux pattern, "GET /management/v1/sales-units/{msn}"
}

type operation struct {
	id     string
	roles  operationRoles
	params []param
	query  bool // whether any parameter is in the query, so the query is parsed only then
	body   *body
}

type param struct {
	name     string // as declared, for messages
	key      string // canonical header key, for headers
	in       string
	required bool
	check    func(string) string // "" when the value is fine, else the rule it breaks
}

type body struct {
	required   bool
	mediaTypes []string // accepted base media types
	schema     *openapi3.Schema
	jsonBody   bool
	mcc        bool // a top-level merchantCategoryCode property, which also accepts a number
}

// NewValidator compiles the checks of every operation of the embedded spec.
func NewValidator() (*Validator, error) {
	doc, err := api.Document()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	v := &Validator{MaxBodyBytes: MaxBodyBytes, ops: map[string]*operation{}}
	c := &compiler{checks: map[*openapi3.Schema]func(string) string{}, patterns: map[string]*regexp.Regexp{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o, err := c.compileOperation(item, op)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			v.ops[method+" "+path] = o
		}
	}
	return v, nil
}

// compiler compiles each parameter schema and pattern once: most parameters are shared
// components that many operations refer to, and a compiled pattern is kilobytes the server keeps.
type compiler struct {
	checks   map[*openapi3.Schema]func(string) string
	patterns map[string]*regexp.Regexp
}

func (c *compiler) compileOperation(item *openapi3.PathItem, op *openapi3.Operation) (*operation, error) {
	o := &operation{id: op.OperationID, roles: rolesOf(op)}
	// Operation parameters override path-item ones of the same name and location.
	seen := map[string]bool{}
	for _, list := range []openapi3.Parameters{op.Parameters, item.Parameters} {
		for _, ref := range list {
			p := ref.Value
			if seen[p.In+":"+p.Name] {
				continue
			}
			seen[p.In+":"+p.Name] = true
			if p.Schema == nil || p.Schema.Value == nil {
				return nil, fmt.Errorf("parameter %s has no schema", p.Name)
			}
			check, err := c.compileParam(p.Schema.Value)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
			}
			o.params = append(o.params, param{
				name: p.Name, key: textproto.CanonicalMIMEHeaderKey(p.Name), in: p.In,
				required: p.Required, check: check,
			})
			o.query = o.query || p.In == openapi3.ParameterInQuery
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		b := &body{required: rb.Value.Required}
		for mt, content := range rb.Value.Content {
			base, _, err := mime.ParseMediaType(mt)
			if err != nil {
				return nil, fmt.Errorf("media type %q: %w", mt, err)
			}
			b.mediaTypes = append(b.mediaTypes, base)
			if base == "application/json" && content.Schema != nil {
				b.jsonBody = true
				b.schema = content.Schema.Value
				_, b.mcc = b.schema.Properties["merchantCategoryCode"]
			}
		}
		slices.Sort(b.mediaTypes)
		o.body = b
	}
	return o, nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// compileParam turns a parameter schema into a check of the raw string. The schemas of our
// parameters are simple; anything else falls back to kin-openapi.
func (c *compiler) compileParam(s *openapi3.Schema) (func(string) string, error) {
	if check, ok := c.checks[s]; ok {
		return check, nil
	}
	check, err := c.compileSchema(s)
	if err == nil {
		c.checks[s] = check
	}
	return check, err
}

func (c *compiler) compileSchema(s *openapi3.Schema) (func(string) string, error) {
	switch {
	case s.Type.Is(openapi3.TypeString):
		var re *regexp.Regexp
		var matches func(string) bool
		if s.Pattern != "" {
			if re = c.patterns[s.Pattern]; re == nil {
				var err error
				if re, err = regexp.Compile(s.Pattern); err != nil {
					return nil, err
				}
				c.patterns[s.Pattern] = re
			}
			matches = patternMatcher(s.Pattern, re)
		}
		minLen, maxLen := int(s.MinLength), -1
		if s.MaxLength != nil {
			maxLen = int(*s.MaxLength)
		}
		var enum []string
		for _, e := range s.Enum {
			enum = append(enum, fmt.Sprint(e))
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
			if re != nil && !matches(v) {
				return "must match " + re.String()
			}
			if enum != nil && !slices.Contains(enum, v) {
				return "must be one of " + strings.Join(enum, ", ")
			}
			if isUUID && !uuidRE.MatchString(v) {
				return "must be a UUID"
			}
			return ""
		}, nil
	case s.Type.Is(openapi3.TypeBoolean):
		return func(v string) string {
			if v == "true" || v == "false" {
				return ""
			}
			return "must be true or false"
		}, nil
	case s.Type.Is(openapi3.TypeInteger):
		return func(v string) string {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "must be an integer"
			}
			if err := s.VisitJSON(float64(n)); err != nil {
				return reason(err)
			}
			return ""
		}, nil
	}
	return func(v string) string {
		if err := s.VisitJSON(v); err != nil {
			return reason(err)
		}
		return ""
	}, nil
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
		case openapi3.ParameterInPath:
			value = r.PathValue(p.name)
			found = value != ""
		case openapi3.ParameterInHeader:
			if vs := r.Header[p.key]; len(vs) > 0 {
				value, found = vs[0], true
			}
		case openapi3.ParameterInQuery:
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
		if b.required {
			return nil, "", []problem.ExtraDetail{{Key: "body", Value: "is required"}}, true
		}
		r.Body = http.NoBody
		return nil, "", nil, true
	}
	ct := r.Header.Get("Content-Type")
	base, ctParams, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(b.mediaTypes, base) {
		detail := "The request body must be sent with Content-Type " + strings.Join(b.mediaTypes, " or ") + "."
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
	if !b.jsonBody || base != "application/json" {
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
	if b.mcc && fixMCC(value) {
		// The contract's own example sends the MCC as a number; hand the handler a string.
		var err error
		if raw, err = json.Marshal(value); err != nil {
			writeMalformed(w, r, err)
			return nil, false
		}
	}
	if err := b.schema.VisitJSON(value, schemaOptions...); err != nil {
		return schemaFailures(err), true
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	return nil, true
}

var schemaOptions = []openapi3.SchemaValidationOption{
	openapi3.MultiErrors(),
	openapi3.VisitAsRequest(),
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidRE.String())),
}

// fixMCC rewrites a four-digit numeric merchantCategoryCode as its string, and reports whether it did.
func fixMCC(value any) bool {
	obj, ok := value.(map[string]any)
	if !ok {
		return false
	}
	n, ok := obj["merchantCategoryCode"].(float64)
	if !ok {
		return false
	}
	mcc, ok := mccOfNumber(n)
	if ok {
		obj["merchantCategoryCode"] = mcc
	}
	return ok
}

// mccOfNumber is the merchant category code a JSON number stands for: the contract's own example
// sends it as a number, which is read as its four digits.
func mccOfNumber(n float64) (string, bool) {
	if n < 0 || n > 9999 || n != math.Trunc(n) {
		return "", false
	}
	return fmt.Sprintf("%04d", int(n)), true
}

// schemaFailures flattens kin-openapi's errors into field/rule pairs with short messages.
func schemaFailures(err error) []problem.ExtraDetail {
	var out []problem.ExtraDetail
	var walk func(error)
	walk = func(err error) {
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			path := se.JSONPointer()
			// An unknown field is reported at its object; name the field itself.
			if m := unsupportedRE.FindStringSubmatch(se.Reason); m != nil {
				path = append(slices.Clip(path), m[1])
			}
			out = append(out, problem.ExtraDetail{Key: fieldPath(path), Value: reason(se)})
			return
		}
		out = append(out, problem.ExtraDetail{Key: "body", Value: err.Error()})
	}
	walk(err)
	return out
}

func fieldPath(ptr []string) string {
	if len(ptr) == 0 {
		return "body"
	}
	var b strings.Builder
	for i, p := range ptr {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

var (
	missingRE     = regexp.MustCompile(`^property "[^"]*" is missing$`)
	unsupportedRE = regexp.MustCompile(`^property "([^"]*)" is unsupported$`)
)

// reason is the rule a value broke, without kin-openapi's path, schema and value dump.
func reason(err error) string {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return err.Error()
	}
	switch {
	case missingRE.MatchString(se.Reason):
		return "is required"
	case unsupportedRE.MatchString(se.Reason):
		return "is not a field of this request"
	case se.SchemaField == "nullable":
		return "must not be null"
	case se.SchemaField == "format" && se.Schema != nil:
		switch se.Schema.Format {
		case "uuid":
			return "must be a UUID"
		case "byte":
			return "must be base64"
		}
	case se.Reason == "":
		return "does not match the schema's " + se.SchemaField
	}
	return se.Reason
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
