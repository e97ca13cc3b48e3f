package vippsmgmt

import (
	"reflect"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"
)

// multiLineFields are the free-text fields whose values may hold line breaks and tabs. Every
// other string is one line.
var multiLineFields = map[string]bool{"intendedPurpose": true, "description": true, "reason": true, "rejectionReason": true}

// MultiLineField reports whether the field (its last name, as on the wire) is free text that may
// span lines.
func MultiLineField(name string) bool { return multiLineFields[name] }

// MaxTextBytes bounds every stored string the contract gives no shorter limit (intendedPurpose,
// a rejection reason, an address line): a client cannot make one order megabytes in every list
// that shows it. The logo, an image, has its own bound.
const MaxTextBytes = 2000

// longFields are the strings that are not text and have their own bound.
var longFields = map[string]bool{"salesUnitLogo": true}

// LengthProblem says whether the value of the field is over MaxTextBytes.
func LengthProblem(name, s string) string {
	if len(s) > MaxTextBytes && !longFields[name] {
		return "must be at most " + strconv.Itoa(MaxTextBytes) + " bytes"
	}
	return ""
}

// TextProblem says what is wrong with a string a client sent, or "" when nothing is: every string
// is valid UTF-8 without control characters (C0, DEL, C1); multi-line free text may also hold
// line feeds, carriage returns and tabs. The rule is the same for every input, so both databases
// store the same strings (PostgreSQL cannot store a NUL at all).
func TextProblem(s string, multiLine bool) string {
	// Nearly every text is printable ASCII: one pass over its bytes settles it.
	printable := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			printable = false
			break
		}
	}
	if printable {
		return ""
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, c := range s {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			if multiLine && (c == '\n' || c == '\r' || c == '\t') {
				continue
			}
			if c == '\n' || c == '\r' {
				return "must be one line"
			}
			return "must not contain control characters"
		}
	}
	return ""
}

// BlankProblem says whether a required name is only white space.
func BlankProblem(s string) string {
	for _, c := range s {
		if !unicode.IsSpace(c) {
			return ""
		}
	}
	return "must not be blank"
}

// CheckText applies TextProblem to every string in v (a struct, or a pointer, slice or map of
// them), naming each field by its JSON name (or its Go name in lower camel case) under prefix.
// Byte slices (hashes, images) are not text and are skipped.
func CheckText(prefix string, v any) []FieldError {
	c := textCheck{prefix: prefix}
	c.check(prefix, reflect.ValueOf(v))
	return c.errs
}

// textCheck walks a value for CheckText.
type textCheck struct {
	prefix string
	path   FieldPath
	errs   []FieldError
}

func (c *textCheck) fault(problem string) {
	c.errs = append(c.errs, FieldError{c.path.Join(c.prefix), problem})
}

// FieldPath is where a walk of a JSON value is, in pieces: a walk of every field of every write
// joins them only for a fault.
type FieldPath struct {
	steps []fieldStep
}

// fieldStep is a member name, or an element's index when name is "".
type fieldStep struct {
	name  string
	index int
}

// Push goes down into the member name.
func (p *FieldPath) Push(name string) { p.steps = append(p.steps, fieldStep{name: name}) }

// PushIndex goes down into the element i of an array.
func (p *FieldPath) PushIndex(i int) { p.steps = append(p.steps, fieldStep{index: i}) }

// Pop goes back up one step.
func (p *FieldPath) Pop() { p.steps = p.steps[:len(p.steps)-1] }

// Join names the place under prefix, as FieldError.Field does: "website.url", "items[2].name".
func (p *FieldPath) Join(prefix string) string {
	path := prefix
	for _, s := range p.steps {
		if s.name == "" {
			path += "[" + strconv.Itoa(s.index) + "]"
		} else {
			path = joinField(path, s.name)
		}
	}
	return path
}

func (c *textCheck) check(name string, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if p := TextProblem(v.String(), MultiLineField(name)); p != "" {
			c.fault(p)
		} else if p := LengthProblem(name, v.String()); p != "" {
			c.fault(p)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			c.check(name, v.Elem())
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			c.path.PushIndex(i)
			c.check(name, v.Index(i))
			c.path.Pop()
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if p := TextProblem(k.String(), false); p != "" {
					c.fault("has a key that " + p)
				}
				c.path.Push(k.String())
				c.check(k.String(), iter.Value())
				c.path.Pop()
			}
		}
	case reflect.Struct:
		for _, f := range textFieldsOf(v.Type()) {
			if f.embedded {
				c.check(name, v.Field(f.index))
				continue
			}
			c.path.Push(f.name)
			c.check(f.name, v.Field(f.index))
			c.path.Pop()
		}
	}
}

type textField struct {
	index    int
	name     string // as on the wire
	embedded bool
}

var textFields sync.Map // reflect.Type → []textField

// textFieldsOf lists the exported fields of struct type t that CheckText walks, with their names.
func textFieldsOf(t reflect.Type) []textField {
	if fs, ok := textFields.Load(t); ok {
		return fs.([]textField)
	}
	var fs []textField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := jsonName(f)
		if name == "-" {
			continue
		}
		fs = append(fs, textField{index: i, name: name, embedded: f.Anonymous})
	}
	textFields.Store(t, fs)
	return fs
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonName is the field's name on the wire: its json tag, or its Go name with a lower-case start
// ("ID" becomes "id").
func jsonName(f reflect.StructField) string {
	if tag := f.Tag.Get("json"); tag != "" {
		for i := 0; i < len(tag); i++ {
			if tag[i] == ',' {
				tag = tag[:i]
				break
			}
		}
		if tag != "" {
			return tag
		}
	}
	n := []rune(f.Name)
	for i := range n {
		if i > 0 && i+1 < len(n) && unicode.IsLower(n[i+1]) {
			break
		}
		n[i] = unicode.ToLower(n[i])
	}
	return string(n)
}
