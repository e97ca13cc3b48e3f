package openapi

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// The request validator judges a JSON body against its schema (api.Schema, generated from the
// contract) with the rules and the wording of the JSON Schema validation the server has always
// answered with: every fault found, in a fixed order (an object's members by name, then its
// missing required ones; an array's items in order; allOf's parts in order), each at its JSON
// path. A test holds both, fault for fault, to kin-openapi's VisitJSON on the same contract.

// schemaFault is one rule a value breaks.
type schemaFault struct {
	key    string // where the value is: "website.url", "items[2]", "body" for the body itself
	field  string // the keyword broken: type, required, properties, enum, pattern, format, ...
	reason string
	format string // the schema's format, for field format
}

// schemaWalk collects the faults of one value.
type schemaWalk struct {
	patterns map[string]*regexp.Regexp // by api.Schema.GoPattern
	path     vippsmgmt.FieldPath
	faults   []schemaFault
}

func (w *schemaWalk) fault(s *api.Schema, field, reason string) {
	key := w.path.Join("")
	if key == "" {
		key = "body"
	}
	w.faults = append(w.faults, schemaFault{key: key, field: field, reason: reason, format: s.Format})
}

// visit checks value, as encoding/json decodes into an any, against s.
func (w *schemaWalk) visit(s *api.Schema, value any) {
	if value == nil && s.PermitsNull() {
		return
	}
	if s.Empty {
		if value == nil {
			w.fault(s, "nullable", "Value is not nullable")
		}
		return
	}
	if len(s.AllOf) > 0 {
		n := len(w.faults)
		for _, part := range s.AllOf {
			w.visit(part, value)
		}
		// A fault of a part ends the check of this schema; so does a null all parts took.
		if len(w.faults) > n || value == nil {
			return
		}
	}
	if s.HasEnum && !inEnum(s, value) {
		w.fault(s, "enum", "value is not one of the allowed values "+s.EnumText)
		return
	}
	switch v := value.(type) {
	case nil:
		w.fault(s, "nullable", "Value is not nullable")
	case bool:
		if !s.Permits("boolean") {
			w.wrongType(s)
		}
	case float64:
		w.number(s, v)
	case string:
		w.string(s, v)
	case []any:
		w.array(s, v)
	case map[string]any:
		w.object(s, v)
	default:
		w.fault(s, "type", fmt.Sprintf("unhandled value of type %T", value))
	}
}

func inEnum(s *api.Schema, value any) bool {
	switch v := value.(type) {
	case string:
		return slices.Contains(s.EnumStrings, v)
	case float64:
		return slices.Contains(s.EnumNumbers, v)
	}
	return false
}

func (w *schemaWalk) wrongType(s *api.Schema) {
	var what string
	if len(s.Types) == 1 {
		switch t := s.Types[0]; t {
		case "array", "object", "integer":
			what = "an " + t
		default:
			what = "a " + t
		}
	} else {
		what = "one of " + strings.Join(s.Types, ", ")
	}
	w.fault(s, "type", "value must be "+what)
}

func (w *schemaWalk) number(s *api.Schema, v float64) {
	integer := s.Permits("integer") && !s.Permits("number")
	if integer {
		if v != math.Trunc(v) {
			w.fault(s, "type", "value must be an integer")
		}
	} else if !s.Permits("number") {
		w.wrongType(s)
		return
	}
	if integer && s.Format != "" {
		if msg := integerFormatProblem(s.Format, v); msg != "" {
			w.fault(s, "format", fmt.Sprintf("integer doesn't match the format %q (%s)", s.Format, msg))
		}
	}
	if s.HasMinimum && !(s.Minimum <= v) {
		w.fault(s, "minimum", fmt.Sprintf("number must be at least %g", s.Minimum))
	}
	if s.HasMaximum && !(s.Maximum >= v) {
		w.fault(s, "maximum", fmt.Sprintf("number must be at most %g", s.Maximum))
	}
}

// integerFormatProblem checks the integer formats the validator knows, int32 and int64; others
// are not checked.
func integerFormatProblem(format string, v float64) string {
	var lo, hi int64
	switch format {
	case "int32":
		lo, hi = math.MinInt32, math.MaxInt32
	case "int64":
		lo, hi = math.MinInt64, math.MaxInt64
	default:
		return ""
	}
	var n int64
	switch {
	case v == float64(math.MaxInt64): // MaxInt64 has no float64: it rounds up to 2^63
		n = math.MaxInt64
	case v >= float64(math.MinInt64) && v < float64(math.MaxInt64):
		n = int64(v)
	default:
		return fmt.Sprintf("value should be between %v and %v", int64(math.MinInt64), int64(math.MaxInt64))
	}
	if n < lo || n > hi {
		return fmt.Sprintf("value should be between %v and %v", lo, hi)
	}
	return ""
}

func (w *schemaWalk) string(s *api.Schema, v string) {
	if !s.Permits("string") {
		w.wrongType(s)
		return
	}
	if s.MinLength != 0 || s.HasMaxLength {
		// One per code point, as the server has always counted (not per UTF-16 unit).
		n := int64(utf8.RuneCountInString(v))
		if s.MinLength != 0 && n < s.MinLength {
			w.fault(s, "minLength", fmt.Sprintf("minimum string length is %d", s.MinLength))
		}
		if s.HasMaxLength && n > s.MaxLength {
			w.fault(s, "maxLength", fmt.Sprintf("maximum string length is %d", s.MaxLength))
		}
	}
	if s.Pattern != "" && !w.patterns[s.GoPattern].MatchString(v) {
		w.fault(s, "pattern", fmt.Sprintf(`string doesn't match the regular expression "%s"`, s.Pattern))
	}
	if s.Format != "" {
		if msg := stringFormatProblem(s.Format, v); msg != "" {
			w.fault(s, "format", fmt.Sprintf("string doesn't match the format %q (%s)", s.Format, msg))
		}
	}
}

// The string formats the validator checks; others (URL, email, ...) are documentation only.
var (
	byteRE     = regexp.MustCompile(`(^$|^[a-zA-Z0-9+/\-_]*=*$)`)
	dateRE     = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])$`)
	dateTimeRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)([0-1][0-9]|2[0-3]):[0-5][0-9])$`)
)

func stringFormatProblem(format, v string) string {
	var re *regexp.Regexp
	switch format {
	case "uuid":
		re = uuidRE
	case "byte":
		re = byteRE
	case "date":
		re = dateRE
	case "date-time":
		re = dateTimeRE
	default:
		return ""
	}
	if !re.MatchString(v) {
		return fmt.Sprintf(`string doesn't match pattern "%s"`, re)
	}
	if format == "date" || format == "date-time" {
		// The pattern lets through days a month does not have.
		if _, err := time.Parse(time.DateOnly, v[:len(time.DateOnly)]); err != nil {
			return err.Error()
		}
	}
	return ""
}

func (w *schemaWalk) array(s *api.Schema, v []any) {
	if !s.Permits("array") {
		w.wrongType(s)
		return
	}
	if n := int64(len(v)); s.MinItems != 0 && n < s.MinItems {
		w.fault(s, "minItems", fmt.Sprintf("minimum number of items is %d", s.MinItems))
	}
	if n := int64(len(v)); s.HasMaxItems && n > s.MaxItems {
		w.fault(s, "maxItems", fmt.Sprintf("maximum number of items is %d", s.MaxItems))
	}
	if s.Items == nil {
		return
	}
	for i, item := range v {
		w.path.PushIndex(i)
		w.visit(s.Items, item)
		w.path.Pop()
	}
}

func (w *schemaWalk) object(s *api.Schema, v map[string]any) {
	if !s.Permits("object") {
		w.wrongType(s)
		return
	}
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if p := s.Property(name); p != nil {
			w.path.Push(name)
			w.visit(p, v[name])
			w.path.Pop()
			continue
		}
		if s.NoAdditionalProperties {
			// A fault of the object, named by the member itself.
			w.path.Push(name)
			w.fault(s, "properties", fmt.Sprintf("property %q is unsupported", name))
			w.path.Pop()
		}
	}
	for _, name := range s.Required {
		if _, ok := v[name]; !ok {
			w.path.Push(name)
			w.fault(s, "required", fmt.Sprintf("property %q is missing", name))
			w.path.Pop()
		}
	}
}

// schemaFaults checks value against s and returns its faults as field/rule pairs, in order.
func schemaFaults(s *api.Schema, value any, patterns map[string]*regexp.Regexp) []problem.ExtraDetail {
	w := schemaWalk{patterns: patterns}
	w.visit(s, value)
	if len(w.faults) == 0 {
		return nil
	}
	out := make([]problem.ExtraDetail, len(w.faults))
	for i, f := range w.faults {
		out[i] = problem.ExtraDetail{Key: f.key, Value: f.rule()}
	}
	return out
}

// rule is the short message of a fault.
func (f schemaFault) rule() string {
	switch {
	case f.field == "required":
		return "is required"
	case f.field == "properties":
		return "is not a field of this request"
	case f.field == "nullable":
		return "must not be null"
	case f.field == "format":
		switch f.format {
		case "uuid":
			return "must be a UUID"
		case "byte":
			return "must be base64"
		}
	case f.reason == "":
		return "does not match the schema's " + f.field
	}
	return f.reason
}
