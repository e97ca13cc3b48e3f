package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/api"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// The server checks requests against api.Operations, generated from api/openapi.yaml. These tests
// hold that data and the schema check to the contract as kin-openapi reads and judges it: the
// same operations, and for every JSON body the same faults, field for field and word for word,
// as VisitJSON gave when the server ran it.

var loadContract = sync.OnceValues(func() (*openapi3.T, error) {
	return openapi3.NewLoader().LoadFromData(api.OpenAPI)
})

func contractDocument(tb testing.TB) *openapi3.T {
	tb.Helper()
	doc, err := loadContract()
	if err != nil {
		tb.Fatalf("load api/openapi.yaml: %v", err)
	}
	return doc
}

// kinFaults is the schema check as the server made it with kin-openapi.
func kinFaults(s *openapi3.Schema, value any) []problem.ExtraDetail {
	err := s.VisitJSON(value,
		openapi3.MultiErrors(),
		openapi3.VisitAsRequest(),
		openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidRE.String())))
	if err == nil {
		return nil
	}
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
			// An unknown member is a fault of its object; name the member itself.
			if m := unsupportedRE.FindStringSubmatch(se.Reason); m != nil {
				name, err := strconv.Unquote(m[1])
				if err != nil {
					panic(fmt.Sprintf("kin-openapi reason %q: %v", se.Reason, err))
				}
				path = append(slices.Clip(path), name)
			}
			out = append(out, problem.ExtraDetail{Key: pointerKey(value, path), Value: kinReason(se)})
			return
		}
		out = append(out, problem.ExtraDetail{Key: "body", Value: err.Error()})
	}
	walk(err)
	return out
}

// unsupportedRE reads the member's name, quoted as by %q, from kin-openapi's reason.
var unsupportedRE = regexp.MustCompile(`^property (".*") is unsupported$`)

// pointerKey names the place of a JSON pointer into value as a fault's key: a step into an array
// is an index ("items[2]"), any other a member, also one whose name is digits.
func pointerKey(value any, ptr []string) string {
	var path vippsmgmt.FieldPath
	for _, step := range ptr {
		if arr, ok := value.([]any); ok {
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(arr) {
				panic(fmt.Sprintf("pointer step %q into an array of %d", step, len(arr)))
			}
			path.PushIndex(i)
			value = arr[i]
			continue
		}
		path.Push(step)
		if obj, ok := value.(map[string]any); ok {
			value = obj[step]
		}
	}
	if key := path.Join(""); key != "" {
		return key
	}
	return "body"
}

// kinReason is the rule of a kin-openapi fault, worded by the server's one wording of faults.
func kinReason(se *openapi3.SchemaError) string {
	f := schemaFault{field: se.SchemaField, reason: se.Reason}
	if se.Schema != nil {
		f.format = se.Schema.Format
	}
	return f.rule()
}

// jsonBodyOp is an operation with a JSON body: its schema as generated and as kin-openapi reads it.
type jsonBodyOp struct {
	pattern string
	ours    *api.Schema
	kin     *openapi3.Schema
	example []any // the contract's examples of the body, decoded as a request's would be
}

func jsonBodyOps(tb testing.TB) []jsonBodyOp {
	doc := contractDocument(tb)
	var ops []jsonBodyOp
	for i := range api.Operations {
		op := &api.Operations[i]
		if op.Body == nil || op.Body.JSON == nil {
			continue
		}
		kop := doc.Paths.Value(op.Path).GetOperation(op.Method)
		var o jsonBodyOp
		o.pattern, o.ours = op.Method+" "+op.Path, op.Body.JSON
		for mt, content := range kop.RequestBody.Value.Content {
			if base, _, _ := mime.ParseMediaType(mt); base != "application/json" {
				continue
			}
			o.kin = content.Schema.Value
			if content.Example != nil {
				o.example = append(o.example, asJSON(tb, content.Example))
			}
			for _, ex := range content.Examples {
				if ex.Value != nil && ex.Value.Value != nil {
					o.example = append(o.example, asJSON(tb, ex.Value.Value))
				}
			}
			if o.kin.Example != nil {
				o.example = append(o.example, asJSON(tb, o.kin.Example))
			}
		}
		if o.kin == nil {
			tb.Fatalf("%s: no application/json schema in the contract", o.pattern)
		}
		ops = append(ops, o)
	}
	slices.SortFunc(ops, func(a, b jsonBodyOp) int { return strings.Compare(a.pattern, b.pattern) })
	return ops
}

// asJSON turns a value read from YAML into what encoding/json decodes from its JSON.
func asJSON(tb testing.TB, v any) any {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func mustPatterns(tb testing.TB) map[string]*regexp.Regexp {
	tb.Helper()
	return mustValidator(tb).patterns
}

// compareFaults reports a body on which the two checks disagree.
func compareFaults(t *testing.T, o jsonBodyOp, patterns map[string]*regexp.Regexp, value any) bool {
	t.Helper()
	want := kinFaults(o.kin, value)
	got := schemaFaults(o.ours, value, patterns)
	if diff := cmp.Diff(want, got); diff != "" {
		raw, _ := json.Marshal(value)
		t.Errorf("%s: body %s: faults (-kin-openapi +ours)\n%s", o.pattern, raw, diff)
		return false
	}
	return true
}

// TestSchemaFaultsAgreeWithKin runs, for every operation with a JSON body, the contract's examples,
// a value built from the schema and many variations of it (each member missing, null, of every
// other type, too short, too long, breaking its pattern, enum or format, unknown members, arrays
// of every length and of nested arrays) through both checks and requires the same faults.
func TestSchemaFaultsAgreeWithKin(t *testing.T) {
	ops := jsonBodyOps(t)
	if len(ops) < 10 {
		t.Fatalf("only %d operations with a JSON body; the contract has more", len(ops))
	}
	patterns := mustPatterns(t)
	total, faulted, disagreed := 0, 0, 0
	for _, o := range ops {
		bodies := slices.Clone(o.example)
		sample := sampleOf(o.kin, 0)
		bodies = append(bodies, sample)
		bodies = append(bodies, variations(o.kin, sample)...)
		for _, ex := range o.example {
			bodies = append(bodies, variations(o.kin, ex)...)
		}
		for _, body := range bodies {
			total++
			if len(kinFaults(o.kin, body)) > 0 {
				faulted++
			}
			if !compareFaults(t, o, patterns, body) {
				if disagreed++; disagreed == 20 {
					t.Fatal("stopping after 20 disagreements")
				}
			}
		}
		if len(kinFaults(o.kin, sample)) > 0 {
			raw, _ := json.Marshal(sample)
			t.Errorf("%s: the value built from the schema is faulted, so valid paths go untested: %s %v", o.pattern, raw, kinFaults(o.kin, sample))
		}
	}
	if faulted == 0 || faulted == total {
		t.Errorf("%d of %d bodies faulted: the variations test nothing", faulted, total)
	}
	t.Logf("%d bodies over %d operations, %d faulted", total, len(ops), faulted)
}

// TestIntegerParamsAgreeWithKin: an integer parameter's rule is the first fault the schema check
// gives, as kin-openapi named it.
func TestIntegerParamsAgreeWithKin(t *testing.T) {
	doc := contractDocument(t)
	v := mustValidator(t)
	checked := 0
	for i := range api.Operations {
		op := &api.Operations[i]
		kop := doc.Paths.Value(op.Path).GetOperation(op.Method)
		for _, p := range v.ops[op.Method+" "+op.Path].params {
			if !p.schema.Is("integer") {
				continue
			}
			kp := kop.Parameters.GetByInAndName(p.in, p.name)
			if kp == nil {
				kp = doc.Paths.Value(op.Path).Parameters.GetByInAndName(p.in, p.name)
			}
			for _, n := range []int64{math.MinInt64, -1, 0, 1, 2, 99, 100, 101, 1000, 1001, math.MaxInt32 + 1, math.MaxInt64} {
				want := ""
				if err := kp.Schema.Value.VisitJSON(float64(n)); err != nil {
					var se *openapi3.SchemaError
					if !errors.As(err, &se) {
						t.Fatal(err)
					}
					want = kinReason(se)
				}
				if got := p.check(strconv.FormatInt(n, 10)); got != want {
					t.Errorf("%s %s %s=%d: %q, want %q", op.Method, op.Path, p.name, n, got, want)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no integer parameter checked")
	}
}

// TestOperationsAgreeWithContract: the generated operations are the contract's, with their
// operationIds, x-partner-only marks, 404 media types, parameters and body media types.
func TestOperationsAgreeWithContract(t *testing.T) {
	doc := contractDocument(t)
	type opFacts struct {
		ID                          string
		PartnerOnly, NotFoundAsJSON bool
		Params                      []string
		Body                        string
	}
	want := map[string]opFacts{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			f := opFacts{ID: op.OperationID}
			f.PartnerOnly, _ = op.Extensions["x-partner-only"].(bool)
			if nf := op.Responses.Status(404); nf != nil && nf.Value != nil {
				for mt := range nf.Value.Content {
					if base, _, _ := mime.ParseMediaType(mt); base == "application/json" {
						f.NotFoundAsJSON = true
					}
				}
			}
			seen := map[string]bool{}
			for _, list := range []openapi3.Parameters{op.Parameters, item.Parameters} {
				for _, ref := range list {
					p := ref.Value
					if !seen[p.In+":"+p.Name] {
						seen[p.In+":"+p.Name] = true
						f.Params = append(f.Params, fmt.Sprintf("%s %s required=%v", p.In, p.Name, p.Required))
					}
				}
			}
			if rb := op.RequestBody; rb != nil {
				var media []string
				for mt := range rb.Value.Content {
					base, _, _ := mime.ParseMediaType(mt)
					media = append(media, base)
				}
				slices.Sort(media)
				f.Body = fmt.Sprintf("required=%v %v", rb.Value.Required, media)
			}
			want[method+" "+path] = f
		}
	}
	got := map[string]opFacts{}
	for _, op := range api.Operations {
		f := opFacts{ID: op.ID, PartnerOnly: op.PartnerOnly, NotFoundAsJSON: op.NotFoundAsJSON}
		for _, p := range op.Params {
			f.Params = append(f.Params, fmt.Sprintf("%s %s required=%v", p.In, p.Name, p.Required))
		}
		if op.Body != nil {
			f.Body = fmt.Sprintf("required=%v %v", op.Body.Required, op.Body.MediaTypes)
		}
		got[op.Method+" "+op.Path] = f
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operations (-contract +api.Operations)\n%s", diff)
	}
	if doc.Info.Version != api.Version {
		t.Errorf("api.Version %q, contract %q", api.Version, doc.Info.Version)
	}
}

// FuzzSchemaFaults holds the schema check to kin-openapi's on any JSON value sent to any
// operation with a JSON body.
func FuzzSchemaFaults(f *testing.F) {
	ops := jsonBodyOps(f)
	for i, o := range ops {
		for _, ex := range append(slices.Clone(o.example), sampleOf(o.kin, 0)) {
			raw, _ := json.Marshal(ex)
			f.Add(uint8(i), raw)
		}
	}
	f.Add(uint8(0), []byte(`{"a\"b":1,"\u00e9":[[null]],"0":{}}`))
	f.Add(uint8(1), []byte(`[{"x":1e400}]`))
	patterns := mustPatterns(f)
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		var value any
		if err := json.Unmarshal(body, &value); err != nil {
			return
		}
		compareFaults(t, ops[int(op)%len(ops)], patterns, value)
	})
}

// sampleOf builds a value the schema should accept: every property set, strings matching their
// patterns and bounds, numbers within range.
func sampleOf(s *openapi3.Schema, depth int) any {
	if depth > 8 {
		return nil
	}
	if len(s.AllOf) > 0 {
		var merged any
		for _, part := range s.AllOf {
			v := sampleOf(part.Value, depth+1)
			if m, ok := v.(map[string]any); ok {
				if mm, ok := merged.(map[string]any); ok {
					for k, x := range m {
						mm[k] = x
					}
					continue
				}
			}
			merged = v
		}
		return merged
	}
	if len(s.Enum) > 0 {
		return asJSONValue(s.Enum[0])
	}
	switch {
	case s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0:
		m := map[string]any{}
		for name, p := range s.Properties {
			m[name] = sampleOf(p.Value, depth+1)
		}
		return m
	case s.Type.Is(openapi3.TypeArray):
		n := max(int(s.MinItems), 1)
		a := make([]any, n)
		for i := range a {
			a[i] = sampleOf(s.Items.Value, depth+1)
		}
		return a
	case s.Type.Is(openapi3.TypeString):
		return sampleString(s)
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		if s.Min != nil {
			return *s.Min
		}
		if s.Max != nil {
			return math.Min(*s.Max, 1)
		}
		return 1.0
	case s.Type.Is(openapi3.TypeBoolean):
		return true
	}
	return "any"
}

func asJSONValue(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func sampleString(s *openapi3.Schema) string {
	switch s.Format {
	case "uuid":
		return "123e4567-e89b-12d3-a456-426614174000"
	case "byte":
		return "aGVsbG8="
	case "date-time":
		return "2026-01-02T03:04:05Z"
	case "date":
		return "2026-01-02"
	}
	v := "sample"
	if s.Pattern != "" {
		v = matching(s.Pattern)
	}
	for int64(len([]rune(v))) < int64(s.MinLength) {
		v += "a"
	}
	if s.MaxLength != nil && int64(len([]rune(v))) > int64(*s.MaxLength) {
		v = string([]rune(v)[:*s.MaxLength])
	}
	return v
}

// matching returns a short string the regular expression matches: each repetition its least
// (at least once), each alternation its first branch, each class its first character.
func matching(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "x"
	}
	var b strings.Builder
	var gen func(re *syntax.Regexp)
	gen = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			b.WriteString(string(re.Rune))
		case syntax.OpCharClass:
			if len(re.Rune) > 0 {
				b.WriteRune(re.Rune[0])
			}
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			b.WriteByte('a')
		case syntax.OpCapture, syntax.OpPlus:
			gen(re.Sub[0])
		case syntax.OpRepeat:
			for range max(re.Min, 1) {
				gen(re.Sub[0])
			}
		case syntax.OpConcat:
			for _, s := range re.Sub {
				gen(s)
			}
		case syntax.OpAlternate:
			gen(re.Sub[0])
		}
	}
	gen(re)
	return b.String()
}

// variations returns copies of v with one change each, at every place in it.
func variations(s *openapi3.Schema, v any) []any {
	var out []any
	var walk func(s *openapi3.Schema, v any, set func(any) any, del func() any)
	walk = func(s *openapi3.Schema, v any, set func(any) any, del func() any) {
		schemas := flatten(s)
		for _, r := range replacements(schemas, v) {
			out = append(out, set(r))
		}
		if del != nil {
			out = append(out, del())
		}
		switch v := v.(type) {
		case map[string]any:
			for _, extra := range []string{"unknownField", `a"b`, `a\b`, "0", "é", "line\nbreak", ""} {
				out = append(out, set(with(v, extra, "x")))
			}
			for _, name := range sortedNames(v) {
				ps := propertySchema(schemas, name)
				walk(ps, v[name], func(x any) any { return set(with(v, name, x)) }, func() any { return set(without(v, name)) })
			}
		case []any:
			for i := range v {
				walk(itemSchema(schemas), v[i], func(x any) any {
					c := slices.Clone(v)
					c[i] = x
					return set(c)
				}, nil)
			}
		}
	}
	walk(s, v, func(x any) any { return x }, nil)
	return out
}

// flatten returns s and the schemas it applies with allOf.
func flatten(s *openapi3.Schema) []*openapi3.Schema {
	if s == nil {
		return nil
	}
	out := []*openapi3.Schema{s}
	for _, part := range s.AllOf {
		out = append(out, flatten(part.Value)...)
	}
	return out
}

func propertySchema(schemas []*openapi3.Schema, name string) *openapi3.Schema {
	for _, s := range schemas {
		if p := s.Properties[name]; p != nil {
			return p.Value
		}
	}
	return &openapi3.Schema{}
}

func itemSchema(schemas []*openapi3.Schema) *openapi3.Schema {
	for _, s := range schemas {
		if s.Items != nil {
			return s.Items.Value
		}
	}
	return &openapi3.Schema{}
}

func sortedNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func with(m map[string]any, k string, v any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		c[kk] = vv
	}
	c[k] = v
	return c
}

func without(m map[string]any, k string) map[string]any {
	c := make(map[string]any, len(m))
	for kk, vv := range m {
		if kk != k {
			c[kk] = vv
		}
	}
	return c
}

// replacements are values to put in place of v where the schemas apply: every type, and values
// at and past each bound of the schemas.
func replacements(schemas []*openapi3.Schema, v any) []any {
	out := []any{nil, true, false, 0.0, 1.0, -1.0, 1.5, 1e20, "", "x", "é😀", []any{}, []any{nil}, []any{[]any{"x"}}, map[string]any{}, map[string]any{"k": 1.0}}
	if v != nil {
		out = append(out, []any{v}, []any{v, v}, map[string]any{"v": v})
	}
	for _, s := range schemas {
		for _, e := range s.Enum {
			if str, ok := e.(string); ok {
				out = append(out, strings.ToLower(str), str+"X")
			} else {
				out = append(out, asJSONValue(e))
			}
		}
		lengths := []int64{int64(s.MinLength) - 1, int64(s.MinLength)}
		if s.MaxLength != nil {
			lengths = append(lengths, int64(*s.MaxLength), int64(*s.MaxLength)+1)
		}
		for _, n := range lengths {
			if n < 0 {
				continue
			}
			out = append(out, strings.Repeat("a", int(n)), strings.Repeat("é", int(n)), strings.Repeat("😀", int(n)))
		}
		if s.Pattern != "" {
			m := matching(s.Pattern)
			out = append(out, m, m+"!", "!"+m, strings.ToUpper(m)+"-")
		}
		if str, ok := v.(string); ok {
			out = append(out, str+" ", str+"\u0000", str+str)
		}
		switch s.Format {
		case "uuid", "byte", "date-time", "date":
			out = append(out, "not a "+s.Format, "123e4567-e89b-12d3-a456-42661417400Z", "aGVsbG8", "aGVs bG8=",
				"2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-02", "2026-01-02T03:04:05.123+01:00")
		}
		for _, b := range []*float64{s.Min, s.Max} {
			if b != nil {
				out = append(out, *b-1, *b, *b+1, *b+0.5)
			}
		}
		if s.Type.Is(openapi3.TypeInteger) || s.Type.Is(openapi3.TypeNumber) {
			out = append(out, 2147483648.0, -2147483649.0, 9223372036854775807.0, -9223372036854775808.0, 1e300, -1e300, 4.0, 0.1)
		}
		if s.Type.Is(openapi3.TypeArray) {
			item := sampleOf(s.Items.Value, 0)
			for _, n := range []int64{0, int64(s.MinItems) - 1, int64(s.MinItems) + 1, 2, 50} {
				if n >= 0 {
					out = append(out, slices.Repeat([]any{item}, int(n)))
				}
			}
			if s.MaxItems != nil {
				out = append(out, slices.Repeat([]any{item}, int(*s.MaxItems)), slices.Repeat([]any{item}, int(*s.MaxItems)+1))
			}
			out = append(out, []any{item, nil, 1.0, "x", []any{item}})
		}
	}
	return out
}
