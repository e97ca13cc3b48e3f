// Package fault decides which requests an operator's fault rules answer: it knows the operations of
// the contract a rule may name, keeps the rules of the database in memory (refreshed every second
// and at once after this process changes them), and counts every firing in the store, which keeps
// count budgets exact across processes. Writing the answer is the HTTP layer's part.
package fault

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/api"
)

// Operation is one operation of the contract that faults may apply to.
type Operation struct {
	ID     string
	Method string
	Path   string
}

// Kinds of operations, which answer faults in different shapes.
const (
	AccessToken = "fetchAuthorizationTokenUsingPost" // POST /accesstoken/get
	MiamiToken  = "fetchToken"                       // POST /miami/v1/token
)

// Catalog lists the operations faults may apply to: the Management API and the two token
// endpoints. The operator API, health checks and everything else are never faulted, so a rule
// cannot lock the operator out.
type Catalog struct {
	ops       []Operation
	byID      map[string]Operation
	byPattern map[string]string // ServeMux pattern → operationId
}

// NewCatalog lists the operations of api/openapi.yaml (api.Operations). It fails when two of them
// share an operationId, which a rule could then not tell apart.
func NewCatalog() (*Catalog, error) {
	c := &Catalog{byID: map[string]Operation{}, byPattern: map[string]string{}}
	for _, op := range api.Operations {
		if !Faultable(op.Path) {
			continue
		}
		o := Operation{ID: op.ID, Method: op.Method, Path: op.Path}
		if prev, dup := c.byID[o.ID]; dup {
			return nil, fmt.Errorf("fault: operationId %s names both %s %s and %s %s", o.ID, prev.Method, prev.Path, o.Method, o.Path)
		}
		c.ops = append(c.ops, o)
		c.byID[o.ID] = o
		c.byPattern[o.Method+" "+o.Path] = o.ID
	}
	// The older spelling of the token path is served too (internal/auth).
	c.byPattern["POST /accessToken/get"] = AccessToken
	slices.SortFunc(c.ops, func(a, b Operation) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	return c, nil
}

// DefaultCatalog returns the catalog of api/openapi.yaml, made once.
var DefaultCatalog = sync.OnceValues(NewCatalog)

// Faultable reports whether requests to path may be faulted: the Management API and the token
// endpoints, never the operator API, health checks, metrics or pages.
func Faultable(path string) bool {
	return strings.HasPrefix(path, "/management/") || strings.EqualFold(path, "/accesstoken/get") || path == "/miami/v1/token"
}

// Operations lists the operations in path order.
func (c *Catalog) Operations() []Operation { return slices.Clone(c.ops) }

// OperationOf returns the operationId of a ServeMux pattern such as
// "GET /management/v1/sales-units/{msn}", or "" for a route faults never apply to.
func (c *Catalog) OperationOf(pattern string) string { return c.byPattern[pattern] }

// Check validates a rule completely: its shape (FaultRule.Validate) and that its route names
// operations faults apply to.
func (c *Catalog) Check(r *vippsmgmt.FaultRule) error {
	err := r.Validate()
	var fields []vippsmgmt.FieldError
	if e, ok := err.(*vippsmgmt.Error); ok {
		fields = e.Fields
	} else if err != nil {
		return err
	}
	if _, rerr := c.resolve(r.Match); rerr != nil && !hasField(fields, "match.operationId", "match.path", "match.method") {
		fields = append(fields, *rerr)
	}
	return vippsmgmt.InvalidFields(fields)
}

func hasField(fields []vippsmgmt.FieldError, names ...string) bool {
	for _, f := range fields {
		if slices.Contains(names, f.Field) {
			return true
		}
	}
	return false
}

// resolve returns the operationIds a match selects; nil means all.
func (c *Catalog) resolve(m vippsmgmt.FaultMatch) (map[string]bool, *vippsmgmt.FieldError) {
	switch {
	case m.OperationID == vippsmgmt.AllOperations:
		return nil, nil
	case m.OperationID != "":
		if _, ok := c.byID[m.OperationID]; !ok {
			return nil, &vippsmgmt.FieldError{Field: "match.operationId", Problem: "is not an operation of the Management API or a token endpoint: " + strings.Join(c.ids(), ", ") + `, or "*"`}
		}
		return map[string]bool{m.OperationID: true}, nil
	}
	if !Faultable(m.Path) {
		return nil, &vippsmgmt.FieldError{Field: "match.path", Problem: "faults apply only to /management/ paths and the token endpoints, never to the operator API or health checks"}
	}
	ops := map[string]bool{}
	for _, o := range c.ops {
		if o.Path == m.Path && (m.Method == "" || o.Method == m.Method) {
			ops[o.ID] = true
		}
	}
	if len(ops) == 0 {
		return nil, &vippsmgmt.FieldError{Field: "match.path", Problem: "is not a path template of the contract (with that method), such as /management/v1/sales-units/{msn}"}
	}
	return ops, nil
}

func (c *Catalog) ids() []string {
	out := make([]string, 0, len(c.ops))
	for _, o := range c.ops {
		out = append(out, o.ID)
	}
	slices.Sort(out)
	return out
}

// Lookup finds what the rules may need to know about a caller that is not authenticated yet (a
// token request): the partner of a client id, "" when it has none or is unknown.
type Lookup func(ctx context.Context, clientID string) string
