package vippsmgmt

import (
	"reflect"
	"strconv"
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
	var errs []FieldError
	checkText(prefix, prefix, reflect.ValueOf(v), &errs)
	return errs
}

func checkText(path, name string, v reflect.Value, errs *[]FieldError) {
	switch v.Kind() {
	case reflect.String:
		if p := TextProblem(v.String(), MultiLineField(name)); p != "" {
			*errs = append(*errs, FieldError{path, p})
		} else if p := LengthProblem(name, v.String()); p != "" {
			*errs = append(*errs, FieldError{path, p})
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkText(path, name, v.Elem(), errs)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			checkText(path+"["+strconv.Itoa(i)+"]", name, v.Index(i), errs)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if p := TextProblem(k.String(), false); p != "" {
					*errs = append(*errs, FieldError{path, "has a key that " + p})
				}
				checkText(joinField(path, k.String()), k.String(), iter.Value(), errs)
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fname := jsonName(f)
			if fname == "-" {
				continue
			}
			if f.Anonymous {
				checkText(path, name, v.Field(i), errs)
				continue
			}
			checkText(joinField(path, fname), fname, v.Field(i), errs)
		}
	}
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
