package apicheck

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const doc = `
openapi: 3.1.0
info: {title: t, version: v1}
paths:
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: a thing
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [id, tags]
                properties:
                  id: {type: string}
                  tags: {type: [array, "null"], items: {type: string}}
        "404":
          description: workflow-not-found
          x-problem-types: [workflow-not-found]
          content:
            application/problem+json:
              schema: {$ref: "#/components/schemas/Problem"}
components:
  schemas:
    Problem:
      type: object
      required: [type, title, status, detail]
      properties:
        type:
          type: string
          enum:
            - https://regiongate.dev/problems/no-such-endpoint
            - https://regiongate.dev/problems/method-not-allowed
            - https://regiongate.dev/problems/workflow-not-found
        title: {type: string}
        status: {type: integer}
        detail: {type: string}
`

// The checker catches what the end-to-end tests rely on it to catch.
func TestCheckerHoldsAnswersToTheDocument(t *testing.T) {
	c, err := New([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	problem := `{"type":"https://regiongate.dev/problems/no-such-endpoint","title":"No such endpoint","status":404,"detail":"x"}`
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		wantErr                         string // "" means valid
	}{
		{"as documented", "GET", "/things/a%2Fb", "application/json", `{"id":"a/b","tags":["x"]}`, 200, ""},
		{"null where 3.1 allows it", "GET", "/things/a", "application/json", `{"id":"a","tags":null}`, 200, ""},
		{"a field the document lacks", "GET", "/things/a", "application/json", `{"id":"a","tags":[],"extra":1}`, 200, "doesn't match"},
		{"a missing field", "GET", "/things/a", "application/json", `{"tags":[]}`, 200, "doesn't match"},
		{"a status the operation does not list", "GET", "/things/a", "application/json", `{}`, 500, "status is not supported"},
		{"another media type", "GET", "/things/a", "text/plain", `hi`, 200, "unexpected value"},
		{"a problem type not in the enum", "GET", "/things/a", "application/problem+json",
			`{"type":"https://regiongate.dev/problems/other","title":"t","status":404,"detail":"d"}`, 404, "doesn't match"},
		{"a problem type of the response", "GET", "/things/a", "application/problem+json",
			`{"type":"https://regiongate.dev/problems/workflow-not-found","title":"t","status":404,"detail":"d"}`, 404, ""},
		{"a problem type the response does not name", "GET", "/things/a", "application/problem+json", problem, 404, "not one of the response's x-problem-types"},
		{"no such path, a problem saying so", "GET", "/nothing", "application/problem+json", problem, 404, ""},
		{"no such path, anything else", "GET", "/nothing", "application/json", `{}`, 200, "in no operation"},
		{"no such method, a problem saying so", "DELETE", "/things/a", "application/problem+json",
			strings.Replace(problem, "no-such-endpoint", "method-not-allowed", 1), 405, ""},
		{"the server's own 431", "GET", "/things/a", "text/plain", "431 Request Header Fields Too Large", 431, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://127.0.0.1:1234"+tt.path, nil)
			err := c.Check(req, tt.status, http.Header{"Content-Type": {tt.ctype}}, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("valid answer refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
