package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedIsCurrent: api/contract.gen.go is what the generator makes of api/openapi.yaml
// now; after a change to the contract, `make generate` (or go generate ./api) rewrites it.
func TestGeneratedIsCurrent(t *testing.T) {
	spec, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../contract.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("api/contract.gen.go is out of date with api/openapi.yaml: run make generate")
	}
}

// TestGenerateRefusesUnknownKeywords: a request body schema with a keyword the server's validator
// does not implement stops the generation instead of being checked less than the contract says.
func TestGenerateRefusesUnknownKeywords(t *testing.T) {
	_, err := generate(bodySpec(`{type: object, properties: {n: {type: integer, multipleOf: 2}}}`))
	if err == nil || !strings.Contains(err.Error(), "multipleOf") {
		t.Fatalf("generate: %v, want a refusal naming multipleOf", err)
	}
	if _, err := generate(bodySpec(`{type: object, properties: {n: {type: integer, minimum: 2}}}`)); err != nil {
		t.Fatalf("generate with a keyword the validator implements: %v", err)
	}
}

// bodySpec is a contract of one operation whose JSON request body has the schema given in YAML's
// flow style.
func bodySpec(schema string) []byte {
	return []byte(`openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /x:
    post:
      operationId: postX
      requestBody:
        content:
          application/json:
            schema: ` + schema + `
      responses:
        '204': {description: ok}
`)
}

// TestGenerateRefusesWhatTheValidatorCannotCheck: a parameter the validator's string checks
// cannot judge, a schema that contains itself, and an operation without an operationId each stop
// the generation; the same contract without them generates.
func TestGenerateRefusesWhatTheValidatorCannotCheck(t *testing.T) {
	const good = `openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /x/{id}:
    post:
      operationId: postX
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Node'}
      responses:
        '204': {description: ok}
components:
  schemas:
    Node:
      type: object
      properties:
        name: {type: string}
`
	if _, err := generate([]byte(good)); err != nil {
		t.Fatalf("generate: %v", err)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"array parameter", "schema: {type: string}}", "schema: {type: array, items: {type: string}}}", "only plain string"},
		{"number parameter", "schema: {type: string}}", "schema: {type: number}}", "only string, boolean and integer"},
		{"self-containing schema", "name: {type: string}", "next: {$ref: '#/components/schemas/Node'}", "contains itself"},
		{"no operationId", "operationId: postX", "summary: x", "no operationId"},
	} {
		spec := strings.Replace(good, c.old, c.new, 1)
		if spec == good {
			t.Fatalf("%s: the replacement changed nothing", c.name)
		}
		if _, err := generate([]byte(spec)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: generate: %v, want a refusal containing %q", c.name, err, c.want)
		}
	}
}

// TestGenerateSpellsCodepointsForGo: a pattern's \uXXXX escape, which Go's regexp does not read,
// is given to the server as \x{XXXX}, and the pattern as written is kept for messages.
func TestGenerateSpellsCodepointsForGo(t *testing.T) {
	src, err := generate(bodySpec(`{type: string, pattern: '^\u00C5[a-z]+\u00D8$'}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `Pattern: "^\\u00C5[a-z]+\\u00D8$", GoPattern: "^\\x{00C5}[a-z]+\\x{00D8}$"`
	if !bytes.Contains(src, []byte(want)) {
		t.Errorf("generated source lacks %s:\n%s", want, src)
	}
}
