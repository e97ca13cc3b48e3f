package api

import "slices"

//go:generate go run ./internal/contractgen

// The server reads the contract as plain data generated from openapi.yaml at build time
// (contract.gen.go), so no YAML or OpenAPI parser runs, or is linked, in the server.

// Operation is one operation of the contract.
type Operation struct {
	Method string // upper case, such as GET
	Path   string // the path template, such as /management/v1/sales-units/{msn}
	ID     string // operationId

	// PartnerOnly: marked x-partner-only, so a sales unit's merchant keys get 403.
	PartnerOnly bool
	// NotFoundAsJSON: the 404 is a Problem declared as application/json rather than
	// application/problem+json, as the official contract has it for some operations.
	NotFoundAsJSON bool

	// Params are the operation's parameters and its path item's, the operation's first.
	Params []Parameter
	// Body is the request body, nil when the operation takes none.
	Body *RequestBody
}

// Parameter is a parameter of an operation.
type Parameter struct {
	Name     string // as declared
	In       string // path, query, header or cookie
	Required bool
	Schema   *Schema
}

// RequestBody is what an operation takes as its body.
type RequestBody struct {
	Required   bool
	MediaTypes []string // the base media types accepted, sorted
	JSON       *Schema  // the schema of the application/json content; nil when there is none
}

// Schema is a JSON Schema of the contract, with the keywords the contract uses in parameters and
// request bodies (the generator refuses a contract that uses others).
type Schema struct {
	Types    []string // the types a value may have; nil: any
	Nullable bool
	// Empty: the schema constrains nothing (it may still carry descriptions), so any value but
	// null passes.
	Empty bool

	Format string

	// HasEnum: the value must be one of EnumStrings or EnumNumbers.
	HasEnum     bool
	EnumStrings []string
	EnumNumbers []float64
	EnumText    string // the enum as JSON, as messages quote it

	Pattern      string // as written in the contract
	GoPattern    string // Pattern as Go's regexp reads it (\uXXXX written \x{XXXX})
	MinLength    int64
	MaxLength    int64
	HasMaxLength bool

	Minimum, Maximum       float64
	HasMinimum, HasMaximum bool

	MinItems    int64
	MaxItems    int64
	HasMaxItems bool
	Items       *Schema

	Properties             []Property // sorted by name
	Required               []string   // in the contract's order
	NoAdditionalProperties bool       // additionalProperties: false

	AllOf []*Schema
}

// Property is a named member of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Property returns the schema of the property name, nil when s declares none.
func (s *Schema) Property(name string) *Schema {
	lo, hi := 0, len(s.Properties)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch p := &s.Properties[m]; {
		case p.Name == name:
			return p.Schema
		case p.Name < name:
			lo = m + 1
		default:
			hi = m
		}
	}
	return nil
}

// Is reports whether s has exactly the one type typ.
func (s *Schema) Is(typ string) bool { return len(s.Types) == 1 && s.Types[0] == typ }

// Permits reports whether a value of type typ may pass s: the schema has no type or lists typ.
func (s *Schema) Permits(typ string) bool { return s.Types == nil || slices.Contains(s.Types, typ) }

// PermitsNull reports whether null passes s: it is nullable or lists the type null.
func (s *Schema) PermitsNull() bool { return s.Nullable || slices.Contains(s.Types, "null") }
