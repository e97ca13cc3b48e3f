package openapi

import (
	"net/http"
	"regexp"
	"strconv"
)

// ParamsValid reports whether the parameters of r, a request for pattern whose path parameters
// pathValue gives (r.PathValue once the ServeMux matched it), pass every check of the operation
// with each header given at most once: then the generated wrapper binds them without error and
// Middleware lets the request through. It writes nothing; a hand-written route serves such
// requests itself and hands the others to the generated handler, which answers them as it always
// does. Operations with a body or query parameters are never valid here.
func (v *Validator) ParamsValid(pattern string, r *http.Request, pathValue func(name string) string) bool {
	op := v.ops[pattern]
	if op == nil || op.body != nil || op.query {
		return false
	}
	for i := range op.params {
		p := &op.params[i]
		var value string
		switch p.in {
		case "path":
			value = pathValue(p.name)
			if value == "" {
				return false
			}
		case "header":
			vs := r.Header[p.key]
			if len(vs) > 1 || (len(vs) == 0 && p.required) {
				return false
			}
			if len(vs) == 0 {
				continue
			}
			value = vs[0]
		default:
			return false
		}
		if p.check(value) != "" {
			return false
		}
	}
	return true
}

// digitsPattern recognises patterns of the form ^\d{m,n}$ or ^[0-9]{m,n}$ (MSNs, organisation
// numbers), which a loop checks far faster than a regular expression.
var digitsPattern = regexp.MustCompile(`^\^(?:\\d|\[0-9\])\{(\d+),(\d+)\}\$$`)

// patternMatcher returns a function reporting whether a value matches pattern, re compiled.
func patternMatcher(pattern string, re *regexp.Regexp) func(string) bool {
	if m := digitsPattern.FindStringSubmatch(pattern); m != nil {
		lo, err1 := strconv.Atoi(m[1])
		hi, err2 := strconv.Atoi(m[2])
		if err1 == nil && err2 == nil && lo <= hi {
			return func(v string) bool {
				if len(v) < lo || len(v) > hi {
					return false
				}
				for i := 0; i < len(v); i++ {
					if v[i] < '0' || v[i] > '9' {
						return false
					}
				}
				return true
			}
		}
	}
	return re.MatchString
}
