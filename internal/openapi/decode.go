package openapi

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

// DecodeJSON decodes raw, a request body, into v, a pointer to a generated request type, in one
// pass and as strictly as the contract reads:
//   - member names match exactly; a name given twice in one object, also in another case, and a
//     case variant of a member's name are faults, never read as one value and stored as another;
//   - a value of the wrong type, or null where the type allows none, is a fault at its JSON path
//     ("website.url"), and so is a missing required member (the generated type's required members
//     are its fields that are neither pointers nor omitempty);
//   - members the type does not know are accepted, as the contract allows, but their strings and
//     every member name must pass the domain's text rules, as the known values will in the domain.
//
// It returns the faults (at most maxDecodeFaults), with v set as far as the faults allow, so that
// the domain can judge the rest. The error is EINVALID for a body that is malformed JSON or not an
// object, and v is then left partly set.
func DecodeJSON(raw []byte, v any) (faults []vippsmgmt.FieldError, err error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("openapi.DecodeJSON: want a non-nil pointer, got %T", v)
	}
	dec, err := decoderFor(rv.Type().Elem())
	if err != nil {
		return nil, err
	}
	d := decoder{data: raw}
	object := true
	if bad := d.walk(func() {
		if object = rv.Elem().Kind() != reflect.Struct || d.peek() == '{'; object {
			dec(&d, "", rv.Elem())
		} else {
			d.skip("", false)
		}
		d.trailer()
	}); bad != nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "Malformed JSON: %s (at byte %d)", bad.msg, bad.offset)
	}
	if !object {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The request body must be a JSON object.")
	}
	return d.faults, nil
}

// walk runs read, which reads d, and returns what made the JSON malformed, nil when nothing did.
func (d *decoder) walk(read func()) (bad *malformed) {
	defer func() {
		if p := recover(); p != nil {
			m, ok := p.(malformed)
			if !ok {
				panic(p)
			}
			bad = &m
		}
	}()
	read()
	return nil
}

// malformed is JSON that does not parse: what is wrong and the byte offset where it was found.
// The decoder panics with it, and DecodeJSON recovers it.
type malformed struct {
	msg    string
	offset int
}

// maxDecodeFaults bounds the faults one body can produce: a 2 MiB body of repeated names would
// otherwise make an answer many times its size.
const maxDecodeFaults = 100

// maxDecodeDepth bounds the nesting of arrays and objects, which the decoder follows by recursion.
const maxDecodeDepth = 64

// decodeFunc decodes the value at d.pos, named name (the last member name on its path), into v,
// which is settable.
type decodeFunc func(d *decoder, name string, v reflect.Value)

type decoder struct {
	data   []byte
	pos    int
	depth  int
	faults []vippsmgmt.FieldError
	// path is where the value at hand is.
	path vippsmgmt.FieldPath
}

// fault records a problem of the value at hand, named by its JSON path ("website.url"), or
// "body" for the body itself.
func (d *decoder) fault(problem string) {
	if len(d.faults) >= maxDecodeFaults {
		return
	}
	path := d.path.Join("")
	if path == "" {
		path = "body"
	}
	d.faults = append(d.faults, vippsmgmt.FieldError{Field: path, Problem: problem})
}

func (d *decoder) malformed(msg string) {
	panic(malformed{msg: msg, offset: d.pos})
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the first byte of the next value, after white space.
func (d *decoder) peek() byte {
	d.space()
	if d.pos >= len(d.data) {
		d.malformed("unexpected end of JSON input")
	}
	return d.data[d.pos]
}

func (d *decoder) expect(c byte) {
	if d.peek() != c {
		d.malformed(fmt.Sprintf("invalid character %q, want %q", d.data[d.pos], c))
	}
	d.pos++
}

func (d *decoder) trailer() {
	d.space()
	if d.pos < len(d.data) {
		d.malformed(fmt.Sprintf("invalid character %q after top-level value", d.data[d.pos]))
	}
}

func (d *decoder) enter() {
	if d.depth++; d.depth > maxDecodeDepth {
		d.malformed(fmt.Sprintf("nested deeper than %d levels", maxDecodeDepth))
	}
}

func (d *decoder) literal(word string) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		d.malformed(fmt.Sprintf("invalid character %q looking for %s", d.data[d.pos], word))
	}
	d.pos += len(word)
}

// null consumes a null if one comes next.
func (d *decoder) null() bool {
	if d.peek() != 'n' {
		return false
	}
	d.literal("null")
	return true
}

// number consumes a JSON number and returns its text.
func (d *decoder) number() string {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		d.malformed("invalid number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			d.malformed("invalid number")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			d.malformed("invalid number")
		}
	}
	return string(d.data[start:d.pos])
}

// str consumes a JSON string and returns its value. Bytes that are not UTF-8 are kept as sent, for
// the text rule to refuse by name; so is an escaped lone surrogate, as the three bytes that would
// encode it, which are not UTF-8 either: encoding/json's U+FFFD would store another text than the
// client sent, without a word.
func (d *decoder) str() string {
	return string(d.strBytes())
}

// strBytes is str without the copy for a string without escapes: the bytes are the body's own, to
// be judged before anything keeps them, so an oversized value is refused without being copied.
func (d *decoder) strBytes() []byte {
	if d.peek() != '"' {
		d.malformed(fmt.Sprintf("invalid character %q, want a string", d.data[d.pos]))
	}
	d.pos++
	start := d.pos
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c == '"':
			d.pos++
			return d.data[start : d.pos-1 : d.pos-1]
		case c == '\\':
			return d.escapedStr(start)
		case c < 0x20:
			d.malformed(fmt.Sprintf("invalid character %q in string literal", c))
		default:
			d.pos++
		}
	}
	d.malformed("unexpected end of JSON input")
	return nil
}

func (d *decoder) escapedStr(start int) []byte {
	b := append(make([]byte, 0, d.pos-start+16), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return b
		case c < 0x20:
			d.malformed(fmt.Sprintf("invalid character %q in string literal", c))
		case c != '\\':
			b = append(b, c)
			d.pos++
			continue
		}
		d.pos++
		if d.pos >= len(d.data) {
			break
		}
		switch e := d.data[d.pos]; {
		case unescaped[e] != 0:
			b = append(b, unescaped[e])
		case e == 'u':
			r := d.hex4()
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.pos+2 < len(d.data) && d.data[d.pos+1] == '\\' && d.data[d.pos+2] == 'u' {
					save := d.pos
					d.pos += 2
					if r2 = d.hex4(); utf16.DecodeRune(r, r2) == utf8.RuneError {
						d.pos, r2 = save, -1
					}
				}
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					r = pair
				} else {
					// A lone surrogate: the bytes that would encode it, which are not UTF-8.
					b = append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
					break
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			d.malformed(fmt.Sprintf("invalid character %q in string escape code", e))
		}
		d.pos++
	}
	d.malformed("unexpected end of JSON input")
	return nil
}

// unescaped maps the letter after a backslash to the byte it stands for, 0 for \u and the others.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 reads the four hex digits after a \u at d.pos and leaves d.pos on the last of them.
func (d *decoder) hex4() rune {
	if d.pos+4 >= len(d.data) {
		d.malformed("unexpected end of JSON input")
	}
	n, err := strconv.ParseUint(string(d.data[d.pos+1:d.pos+5]), 16, 16)
	if err != nil {
		d.malformed("invalid \\u escape in string literal")
	}
	d.pos += 4
	return rune(n)
}

// openObject consumes the '{' of an object and reports whether a member follows. Members are
// read as: for more := d.openObject(); more; more = d.nextMember() { name := d.memberName(); ... }.
func (d *decoder) openObject() bool {
	d.enter()
	d.expect('{')
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return false
	}
	return true
}

// memberName reads a member's name and its colon, leaving d.pos on the value. The name is
// returned as sent when it has no escapes, without a copy: it is valid until the next read.
func (d *decoder) memberName() []byte {
	var name []byte
	if d.peek() == '"' {
		if end := d.plainStrEnd(); end >= 0 {
			name = d.data[d.pos+1 : end]
			d.pos = end + 1
		}
	}
	if name == nil {
		name = []byte(d.str())
	}
	d.expect(':')
	return name
}

// plainStrEnd returns the index of the closing quote of the string at d.pos when it has no escapes
// or control characters, else -1.
func (d *decoder) plainStrEnd() int {
	for i := d.pos + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			return i
		case c == '\\' || c < 0x20:
			return -1
		}
	}
	return -1
}

// nextMember consumes the ',' before another member (true) or the '}' that ends the object.
func (d *decoder) nextMember() bool {
	switch d.peek() {
	case ',':
		d.pos++
		return true
	case '}':
		d.pos++
		d.depth--
		return false
	}
	d.malformed(fmt.Sprintf("invalid character %q after object key:value pair", d.data[d.pos]))
	return false
}

// unknownName checks the name of a member nothing decodes into and returns it.
func (d *decoder) unknownName(raw []byte) string {
	name := string(raw)
	if p := vippsmgmt.TextProblem(name, false); p != "" {
		d.fault("has a member name that " + p)
	}
	return name
}

// skip consumes a value nothing decodes into. When check is set, its strings and the member names
// of its objects are held to the same rules as those of values that are decoded: the text rule,
// and no name twice.
func (d *decoder) skip(name string, check bool) {
	switch c := d.peek(); {
	case c == '"':
		s := d.strBytes()
		if check {
			d.checkText(name, unsafe.String(unsafe.SliceData(s), len(s)))
		}
	case c == '{':
		var seen []string
		for more := d.openObject(); more; more = d.nextMember() {
			raw := d.memberName()
			if !check {
				d.skip("", false)
				continue
			}
			member := d.unknownName(raw)
			d.path.Push(member)
			d.once(&seen, strings.ToLower(member))
			d.skip(member, check)
			d.path.Pop()
		}
	case c == '[':
		d.elements(func(int) { d.skip(name, check) })
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		d.number()
	default:
		d.malformed(fmt.Sprintf("invalid character %q looking for beginning of value", c))
	}
}

// elements reads an array, calling each with d.pos on element i, which it names by its index.
func (d *decoder) elements(each func(i int)) {
	d.enter()
	d.expect('[')
	if d.peek() == ']' {
		d.pos++
		d.depth--
		return
	}
	for i := 0; ; i++ {
		d.path.PushIndex(i)
		each(i)
		d.path.Pop()
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return
		default:
			d.malformed(fmt.Sprintf("invalid character %q after array element", d.data[d.pos]))
		}
	}
}

// once records lower, the lower-case name of the member at hand, among the names seen in its object,
// and faults the member when its name was seen before.
func (d *decoder) once(seen *[]string, lower string) {
	if slices.Contains(*seen, lower) {
		d.fault(givenTwice)
	}
	*seen = append(*seen, lower)
}

// checkText applies the domain's text rule to a string the domain will not see.
func (d *decoder) checkText(name, s string) {
	if p := vippsmgmt.TextProblem(s, vippsmgmt.MultiLineField(name)); p != "" {
		d.fault(p)
	} else if p := vippsmgmt.LengthProblem(name, s); p != "" {
		d.fault(p)
	}
}

const givenTwice = "is given more than once (names are compared without regard to case)"

// wrongType records that the value at hand is not of the wanted kind and skips it.
func (d *decoder) wrongType(want string) {
	if d.null() {
		d.fault("must not be null")
		return
	}
	d.fault("must be " + want)
	d.skip("", false)
}

var decoders sync.Map // reflect.Type → decodeFunc

// decoderFor returns the decoder of values of type t, built once per type.
func decoderFor(t reflect.Type) (decodeFunc, error) {
	if f, ok := decoders.Load(t); ok {
		return f.(decodeFunc), nil
	}
	f, err := buildDecoder(t, map[reflect.Type]bool{})
	if err != nil {
		return nil, err
	}
	decoders.Store(t, f)
	return f, nil
}

var (
	uuidType = reflect.TypeFor[uuid.UUID]()
	// numberStrings are the string members that also take a JSON number, by name.
	numberStrings = map[string]func(float64) (string, bool){"merchantCategoryCode": mccOfNumber}
)

func buildDecoder(t reflect.Type, building map[reflect.Type]bool) (decodeFunc, error) {
	switch {
	case t == uuidType:
		return decodeUUID, nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return decodeBytes, nil
	}
	switch t.Kind() {
	case reflect.String:
		return decodeString, nil
	case reflect.Bool:
		return decodeBool, nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return decodeInt, nil
	case reflect.Pointer:
		elem, err := buildDecoder(t.Elem(), building)
		if err != nil {
			return nil, err
		}
		return func(d *decoder, name string, v reflect.Value) {
			if d.null() {
				v.SetZero()
				return
			}
			// Set even when the value is faulted: the fields of an object that are fine are
			// still judged by the domain's rules, so that one answer names every fault.
			p := reflect.New(t.Elem())
			elem(d, name, p.Elem())
			v.Set(p)
		}, nil
	case reflect.Slice:
		elem, err := buildDecoder(t.Elem(), building)
		if err != nil {
			return nil, err
		}
		return func(d *decoder, name string, v reflect.Value) {
			if d.peek() != '[' {
				d.wrongType("an array")
				return
			}
			s := reflect.MakeSlice(t, 0, 0)
			d.elements(func(i int) {
				s = reflect.Append(s, reflect.Zero(t.Elem()))
				elem(d, name, s.Index(i))
			})
			v.Set(s)
		}, nil
	case reflect.Struct:
		if building[t] {
			return nil, fmt.Errorf("openapi.DecodeJSON: %s refers to itself", t)
		}
		building[t] = true
		defer delete(building, t)
		return buildStructDecoder(t, building)
	}
	return nil, fmt.Errorf("openapi.DecodeJSON: cannot decode into %s", t)
}

type memberPlan struct {
	name     string
	field    int
	required bool
	decode   decodeFunc
}

func buildStructDecoder(t reflect.Type, building map[reflect.Type]bool) (decodeFunc, error) {
	var plan []memberPlan
	exact := map[string]int{}
	folded := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || name == "" || f.Anonymous {
			return nil, fmt.Errorf("openapi.DecodeJSON: %s.%s has no JSON name", t, f.Name)
		}
		dec, err := buildDecoder(f.Type, building)
		if err != nil {
			return nil, err
		}
		if _, dup := folded[strings.ToLower(name)]; dup {
			return nil, fmt.Errorf("openapi.DecodeJSON: %s has two members named %s without regard to case", t, name)
		}
		exact[name] = len(plan)
		folded[strings.ToLower(name)] = len(plan)
		plan = append(plan, memberPlan{
			name: name, field: i, decode: dec,
			// oapi-codegen makes a required member neither a pointer nor omitempty.
			required: f.Type.Kind() != reflect.Pointer && !strings.Contains(","+opts+",", ",omitempty,"),
		})
	}
	if len(plan) > 64 {
		return nil, fmt.Errorf("openapi.DecodeJSON: %s has more than 64 members", t)
	}
	return func(d *decoder, _ string, v reflect.Value) {
		if d.peek() != '{' {
			d.wrongType("an object")
			return
		}
		var seen uint64
		var others []string // unknown members' names, lower case
		for more := d.openObject(); more; more = d.nextMember() {
			raw := d.memberName()
			if i, known := exact[string(raw)]; known {
				m := &plan[i]
				d.path.Push(m.name)
				if seen&(1<<i) != 0 {
					d.fault(givenTwice)
					d.skip("", false)
				} else {
					seen |= 1 << i
					m.decode(d, m.name, v.Field(m.field))
				}
				d.path.Pop()
				continue
			}
			name := d.unknownName(raw)
			d.path.Push(name)
			lower := strings.ToLower(name)
			if i, variant := folded[lower]; variant {
				if seen&(1<<i) != 0 {
					d.fault(givenTwice)
				} else {
					d.fault("is not a member: names are case-sensitive, this one is " + plan[i].name)
				}
				seen |= 1 << i
				d.skip(name, false)
			} else {
				d.once(&others, lower)
				d.skip(name, true)
			}
			d.path.Pop()
		}
		for i := range plan {
			if plan[i].required && seen&(1<<i) == 0 {
				d.path.Push(plan[i].name)
				d.fault("is required")
				d.path.Pop()
			}
		}
	}, nil
}

func decodeString(d *decoder, name string, v reflect.Value) {
	switch c := d.peek(); {
	case c == '"':
		s := d.strBytes()
		if p := vippsmgmt.LengthProblem(name, unsafe.String(unsafe.SliceData(s), len(s))); p != "" {
			d.fault(p)
			return
		}
		v.SetString(string(s))
	case numberStrings[name] != nil && (c == '-' || (c >= '0' && c <= '9')):
		n, err := strconv.ParseFloat(d.number(), 64)
		s, ok := numberStrings[name](n)
		if err != nil || !ok {
			d.fault("must be a string")
			return
		}
		v.SetString(s)
	default:
		d.wrongType("a string")
	}
}

func decodeBool(d *decoder, _ string, v reflect.Value) {
	switch d.peek() {
	case 't':
		d.literal("true")
		v.SetBool(true)
	case 'f':
		d.literal("false")
		v.SetBool(false)
	default:
		d.wrongType("true or false")
	}
}

func decodeInt(d *decoder, _ string, v reflect.Value) {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		d.wrongType("an integer")
		return
	}
	text := d.number()
	n, err := strconv.ParseInt(text, 10, v.Type().Bits())
	if err != nil && strings.ContainsAny(text, ".eE") {
		d.fault("must be an integer")
		return
	} else if err != nil {
		d.fault(fmt.Sprintf("must be an integer of at most %d bits", v.Type().Bits()))
		return
	}
	v.SetInt(n)
}

func decodeUUID(d *decoder, _ string, v reflect.Value) {
	if d.peek() != '"' {
		d.wrongType("a UUID")
		return
	}
	s := d.str()
	u, err := uuid.Parse(s)
	if err != nil || !uuidRE.MatchString(s) {
		d.fault("must be a UUID")
		return
	}
	*v.Addr().Interface().(*uuid.UUID) = u
}

func decodeBytes(d *decoder, _ string, v reflect.Value) {
	if d.peek() != '"' {
		d.wrongType("a base64 string")
		return
	}
	b, err := base64.StdEncoding.DecodeString(d.str())
	if err != nil {
		d.fault("must be base64")
		return
	}
	v.SetBytes(b)
}
