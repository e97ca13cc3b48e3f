package openapi

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// duplicateNames returns the path of every object member whose name, compared without regard to
// case, occurs twice in its object. Go's decoder keeps the last of duplicates and matches names
// case-insensitively, so {"productType":"CHECKOUT","PRODUCTTYPE":"LOGIN"} would be validated as
// one value and stored as the other. raw is known to be valid JSON.
func duplicateNames(raw []byte) []problem.ExtraDetail {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var fails []problem.ExtraDetail
	type frame struct {
		object bool
		path   string
		index  int
		names  map[string]bool
		key    string // the member whose value comes next; "" between members
	}
	var stack []*frame
	childPath := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			return joinPath(f.path, f.key)
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.object {
			f.key = ""
		} else {
			f.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			break
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', path: childPath(), names: map[string]bool{}})
			case '}', ']':
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if f := stack0(stack); f != nil && f.object && f.key == "" {
				folded := strings.ToLower(t)
				if f.names[folded] {
					fails = append(fails, problem.ExtraDetail{Key: joinPath(f.path, t), Value: "is given more than once (names are compared without regard to case)"})
				}
				f.names[folded] = true
				f.key = t
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
	return fails
}

func stack0[T any](s []*T) *T {
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1]
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// textFailures applies the domain's text rule to every string of a decoded JSON body, member
// names included.
func textFailures(path, name string, v any, fails *[]problem.ExtraDetail) {
	switch x := v.(type) {
	case string:
		if p := vippsmgmt.TextProblem(x, vippsmgmt.MultiLineField(name)); p != "" {
			*fails = append(*fails, problem.ExtraDetail{Key: fieldOrBody(path), Value: p})
		} else if p := vippsmgmt.LengthProblem(name, x); p != "" {
			*fails = append(*fails, problem.ExtraDetail{Key: fieldOrBody(path), Value: p})
		}
	case []any:
		for i, e := range x {
			textFailures(path+"["+strconv.Itoa(i)+"]", name, e, fails)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p := vippsmgmt.TextProblem(k, false); p != "" {
				*fails = append(*fails, problem.ExtraDetail{Key: fieldOrBody(path), Value: "has a member name that " + p})
				continue
			}
			textFailures(joinPath(path, k), k, x[k], fails)
		}
	}
}

func fieldOrBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// strictBody reports the failures of a decoded JSON body that the schema cannot express:
// duplicate or case-variant member names, and control characters in strings.
func strictBody(raw []byte, value any) []problem.ExtraDetail {
	fails := duplicateNames(raw)
	textFailures("", "", value, &fails)
	return fails
}
