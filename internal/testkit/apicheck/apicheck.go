// Package apicheck holds HTTP responses to an API's OpenAPI 3.1 document, for tests (kin-openapi).
package apicheck

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Checker validates responses against one document.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
}

// New loads and validates a document (JSON or YAML). Its servers are
// dropped: the listeners under test run on free ports.
func New(document []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("loading the OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	doc.Servers = nil
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing the OpenAPI document: %w", err)
	}
	return &Checker{doc: doc, router: r}, nil
}

// Doc is the loaded document.
func (c *Checker) Doc() *openapi3.T { return c.doc }

// unroutedTypes are the problems a request no operation matches may get:
// there is no such endpoint or method, or a browser's request (a CORS
// preflight, say) came from an origin not allowed.
var unroutedTypes = []string{
	ProblemTypeBase + "no-such-endpoint",
	ProblemTypeBase + "method-not-allowed",
	ProblemTypeBase + "origin-refused",
}

// Check validates one answer to req: its status must be one the
// operation documents, and its headers and body must match that
// response; a problem's type must be one the response names in
// x-problem-types. A request no operation matches must have been answered with
// a problem saying so, or be a CORS preflight allowed (204, no body). A 431 is the HTTP server's own plain-text answer
// (headers over the cap, before any handler) and is not in the document.
func (c *Checker) Check(req *http.Request, status int, header http.Header, body []byte) error {
	if status == http.StatusRequestHeaderFieldsTooLarge {
		return nil
	}
	route, _, err := c.router.FindRoute(req)
	if err != nil {
		return c.unrouted(req, status, header, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	err = openapi3filter.ValidateResponse(context.Background(), in)
	if err == nil {
		err = problemTypeListed(route.Operation.Responses.Status(status), header, body)
	}
	if err != nil {
		op := route.Operation.OperationID
		if op == "" {
			op = route.Method + " " + route.Path
		}
		return fmt.Errorf("%s %s answered %d, not as %s documents it: %w\nbody: %s",
			req.Method, req.URL.Path, status, op, err, clip(body))
	}
	return nil
}

// ProblemTypeBase prefixes every problem type URI; x-problem-types names
// the part after it.
const ProblemTypeBase = "https://regiongate.dev/problems/"

// ProblemTypes is a response's x-problem-types: the problem types (after
// ProblemTypeBase) it may carry, nil when it names none.
func ProblemTypes(r *openapi3.Response) []string {
	if r == nil {
		return nil
	}
	list, _ := r.Extensions["x-problem-types"].([]any)
	var out []string
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// problemTypeListed checks that a problem answer's type is one its
// response names in x-problem-types: the schema allows every type, the
// response says which this operation sends with this status.
func problemTypeListed(resp *openapi3.ResponseRef, header http.Header, body []byte) error {
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/problem+json" || resp == nil {
		return nil
	}
	types := ProblemTypes(resp.Value)
	if len(types) == 0 {
		return fmt.Errorf("a problem, but the response names no x-problem-types")
	}
	var p struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return err
	}
	if !slices.Contains(types, strings.TrimPrefix(p.Type, ProblemTypeBase)) {
		return fmt.Errorf("problem type %s is not one of the response's x-problem-types %v", p.Type, types)
	}
	return nil
}

func (c *Checker) unrouted(req *http.Request, status int, header http.Header, body []byte) error {
	if req.Method == http.MethodOptions && status == http.StatusNoContent && len(body) == 0 &&
		header.Get("Access-Control-Allow-Origin") != "" {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	var p struct {
		Type string `json:"type"`
	}
	if mt != "application/problem+json" || json.Unmarshal(body, &p) != nil || !slices.Contains(unroutedTypes, p.Type) {
		return fmt.Errorf("%s %s is in no operation of the document, and its answer (%d, %s) is not a no-such-endpoint, method-not-allowed or origin-refused problem: %s",
			req.Method, req.URL.Path, status, header.Get("Content-Type"), clip(body))
	}
	schema := c.doc.Components.Schemas["Problem"]
	if schema == nil {
		return fmt.Errorf("the document has no Problem schema")
	}
	var v any
	_ = json.Unmarshal(body, &v)
	if err := schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("%s %s answered %d with a problem that does not match the document's Problem: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}

func clip(b []byte) string {
	s := string(b)
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return strings.TrimSpace(s)
}

// Gateway checks the answers of a gateway's two listeners, each against
// its own document, telling them apart by path: /admin/, /codec/ and
// /console are the admin listener's; what both serve (/healthz, /readyz,
// /metrics, /openapi.json) is the same in both documents.
type Gateway struct{ Client, Admin *Checker }

// NewGateway loads the client and admin documents.
func NewGateway(client, admin []byte) (*Gateway, error) {
	c, err := New(client)
	if err != nil {
		return nil, fmt.Errorf("client API: %w", err)
	}
	a, err := New(admin)
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	return &Gateway{Client: c, Admin: a}, nil
}

// Check validates one answer (Checker.Check) against its listener's document.
func (g *Gateway) Check(req *http.Request, status int, header http.Header, body []byte) error {
	p := req.URL.Path
	if strings.HasPrefix(p, "/admin/") || strings.HasPrefix(p, "/codec/") || p == "/console" || strings.HasPrefix(p, "/console/") {
		return g.Admin.Check(req, status, header, body)
	}
	return g.Client.Check(req, status, header, body)
}
