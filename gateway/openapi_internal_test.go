package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/openapi"
	"github.com/regiongate/regiongate/internal/testkit/apicheck"
	"github.com/regiongate/regiongate/regions"
)

func testServer(t *testing.T) *Server {
	t.Helper()
	cfg := configs.Default()
	mgr, err := regions.NewManager(cfg, regions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	s, err := New(Options{Regions: mgr, Config: cfg, Tokens: DevTokens(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Codec: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func checker(t *testing.T, doc []byte) *apicheck.Checker {
	t.Helper()
	c, err := apicheck.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var pathParam = regexp.MustCompile(`\{[^}]*\}|:[^/]+`)

// TestOpenAPIDocumentsEveryRoute walks gin's routes and each document's
// operations both ways: a route the document lacks, or an operation no
// route serves, fails naming it.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	s := testServer(t)
	for _, l := range []struct {
		name string
		h    http.Handler
		doc  []byte
	}{{"client", s.ClientHandler(), openapi.Client()}, {"admin", s.AdminHandler(), openapi.Admin()}} {
		t.Run(l.name, func(t *testing.T) {
			documented := map[string]bool{}
			for path, item := range checker(t, l.doc).Doc().Paths.Map() {
				for method := range item.Operations() {
					documented[method+" "+pathParam.ReplaceAllString(path, "{}")] = true
				}
			}
			served := map[string]bool{}
			var wildcards []string
			for _, r := range l.h.(*gin.Engine).Routes() {
				if prefix, ok := strings.CutSuffix(r.Path, "/*path"); ok {
					// A handler mounted under a prefix (the codec): the
					// document names its operations one by one.
					wildcards = append(wildcards, r.Method+" "+prefix+"/")
					continue
				}
				served[r.Method+" "+pathParam.ReplaceAllString(strings.Replace(r.Path, "/*asset", "/{}", 1), "{}")] = true
			}
			for op := range served {
				if !documented[op] {
					t.Errorf("%s API: gin serves %s but gateway/openapi/%s.yaml has no such operation", l.name, op, l.name)
				}
			}
			for op := range documented {
				if served[op] || slices.ContainsFunc(wildcards, func(w string) bool { return strings.HasPrefix(op, w) }) {
					continue
				}
				t.Errorf("%s API: gateway/openapi/%s.yaml documents %s but gin serves no such route", l.name, l.name, op)
			}
		})
	}
}

// TestOpenAPIProblemTypesAreTheKinds holds each document's ProblemType
// enum to the kinds problem.go declares, both ways.
func TestOpenAPIProblemTypesAreTheKinds(t *testing.T) {
	var kinds []string
	for _, k := range problemKinds {
		kinds = append(kinds, problemTypeBase+k.slug)
	}
	for name, doc := range map[string][]byte{"client": openapi.Client(), "admin": openapi.Admin()} {
		schema := checker(t, doc).Doc().Components.Schemas["ProblemType"]
		if schema == nil {
			t.Fatalf("%s.yaml has no ProblemType schema", name)
		}
		var enum []string
		for _, v := range schema.Value.Enum {
			enum = append(enum, v.(string))
		}
		for _, k := range kinds {
			if !slices.Contains(enum, k) {
				t.Errorf("gateway/problem.go declares %s; add it to ProblemType in gateway/openapi/%s.yaml (and to docs/api.md)", k, name)
			}
		}
		for _, e := range enum {
			if !slices.Contains(kinds, e) {
				t.Errorf("gateway/openapi/%s.yaml's ProblemType lists %s, which gateway/problem.go does not declare", name, e)
			}
		}
	}
}

// TestOpenAPIProblemResponsesNameTheirKinds: every problem response of
// either document names the kinds it may carry in x-problem-types (which
// the end-to-end tests hold every answer to), each one problem.go declares
// with the response's status and named in its description too; every
// kind is named somewhere. What middleware answers on every route is on
// every operation: origin-refused (403) and internal (500) everywhere, the
// credential's 401 (and the admin role's 403) on the APIs' own routes.
func TestOpenAPIProblemResponsesNameTheirKinds(t *testing.T) {
	statusOf := map[string]string{}
	for _, k := range problemKinds {
		statusOf[k.slug] = strconv.Itoa(k.status)
	}
	// Only for a request no operation matches (apicheck allows it there).
	named := map[string]bool{"method-not-allowed": true}
	for _, l := range []struct {
		name string
		doc  []byte
	}{{"client", openapi.Client()}, {"admin", openapi.Admin()}} {
		d := checker(t, l.doc).Doc()
		for path, item := range d.Paths.Map() {
			for method, op := range item.Operations() {
				where := fmt.Sprintf("%s.yaml %s %s", l.name, method, path)
				kindsAt := map[string][]string{}
				for code, ref := range op.Responses.Map() {
					r := ref.Value
					types := apicheck.ProblemTypes(r)
					if r.Content.Get("application/problem+json") == nil {
						if len(types) > 0 {
							t.Errorf("%s %s: x-problem-types without an application/problem+json content", where, code)
						}
						continue
					}
					if len(types) == 0 {
						t.Errorf("%s %s: a problem response without x-problem-types", where, code)
					}
					for _, kind := range types {
						switch status, ok := statusOf[kind]; {
						case !ok:
							t.Errorf("%s %s: x-problem-types names %s, which gateway/problem.go does not declare", where, code, kind)
						case status != code:
							t.Errorf("%s %s: x-problem-types names %s, whose status is %s", where, code, kind, status)
						case r.Description == nil || !strings.Contains(*r.Description, kind):
							t.Errorf("%s %s: the description does not name %s", where, code, kind)
						}
						named[kind] = true
					}
					kindsAt[code] = types
				}
				need := map[string]string{"origin-refused": "403", "internal": "500"}
				switch {
				case l.name == "client" && strings.HasPrefix(path, "/v1/"):
					need["client-unauthorized"] = "401"
				case l.name == "admin" && strings.HasPrefix(path, "/admin/v1/"):
					need["unauthorized"], need["forbidden"] = "401", "403"
				}
				for kind, code := range need {
					if !slices.Contains(kindsAt[code], kind) {
						t.Errorf("%s: every request may get %s, but its %s response does not name it", where, kind, code)
					}
				}
			}
		}
	}
	for _, k := range problemKinds {
		if !named[k.slug] {
			t.Errorf("no response of either document names %s in its x-problem-types", k.slug)
		}
	}
}

// TestOpenAPISharedSchemasAgree: a schema both documents have (Problem,
// Decision, StartBody, ...) is the same in both.
func TestOpenAPISharedSchemasAgree(t *testing.T) {
	schemas := func(doc []byte) map[string]any {
		var d struct {
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		return d.Components.Schemas
	}
	client, admin := schemas(openapi.Client()), schemas(openapi.Admin())
	shared := 0
	for name, c := range client {
		if a, ok := admin[name]; ok {
			shared++
			if !reflect.DeepEqual(a, c) {
				t.Errorf("schema %s differs between client.yaml and admin.yaml: keep them the same", name)
			}
		}
	}
	if shared < 5 {
		t.Fatalf("only %d shared schemas: is Problem still in both?", shared)
	}
}

// Both listeners serve their own document as JSON.
func TestOpenAPIServedOnBothListeners(t *testing.T) {
	s := testServer(t)
	for name, l := range map[string]struct {
		h   http.Handler
		doc []byte
	}{"client": {s.ClientHandler(), openapi.Client()}, "admin": {s.AdminHandler(), openapi.Admin()}} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/openapi.json", nil)
		l.h.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || !slices.Equal(rec.Body.Bytes(), l.doc) {
			t.Errorf("%s: GET /openapi.json: %d %s", name, rec.Code, rec.Header().Get("Content-Type"))
		}
		var d struct {
			OpenAPI string `json:"openapi"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &d) != nil || d.OpenAPI != "3.1.0" {
			t.Errorf("%s: not an OpenAPI 3.1 document", name)
		}
		if err := checker(t, l.doc).Check(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Error(err)
		}
	}
}
