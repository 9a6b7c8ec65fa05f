package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
)

func TestProblemKindsAreDistinct(t *testing.T) {
	if len(problemKinds) == 0 {
		t.Fatal("no problem kinds registered")
	}
	seen := map[string]bool{}
	for _, k := range problemKinds {
		p := newProblem(k, "detail")
		if k.slug == "" || strings.ContainsAny(k.slug, " /") || p.Title == "" || p.Status < 400 || p.Status > 599 {
			t.Errorf("kind %+v: want a slug, a title and an error status", k)
		}
		if seen[p.Type] {
			t.Errorf("type %s used by two kinds", p.Type)
		}
		seen[p.Type] = true
	}
}

// TestProblemCausesOfA503AreApart: the 503s ask for different reactions,
// so each carries its own type, through the code that sends it.
func TestProblemCausesOfA503AreApart(t *testing.T) {
	// A manager whose regions are never dialled: none is reachable.
	mgr, err := regions.NewManager(configs.Default(), regions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), regions: mgr}
	tests := []struct {
		name string
		send func(c *gin.Context)
		want problemKind
	}{
		{"unknown outcome", func(c *gin.Context) { s.regionError(c, "wf-1", regions.ErrUnknownOutcome) }, kindUnknownOutcome},
		{"region unreachable", func(c *gin.Context) { s.regionError(c, "wf-1", regions.ErrUnavailable) }, kindRegionUnreachable},
		{"no region available", func(c *gin.Context) { s.routingError(c, router.Decision{}, router.ErrNoRegionAvailable) }, kindNoRegionAvailable},
		{"not ready", s.readyz, kindNotReady},
		{"not found", func(c *gin.Context) { s.regionError(c, "wf-1", regions.ErrNotFound) }, kindWorkflowNotFound},
		{"no lawful region", func(c *gin.Context) { s.routingError(c, router.Decision{}, router.ErrNoLawfulRegion) }, kindNoLawfulRegion},
		{"upstream error", func(c *gin.Context) { s.regionError(c, "wf-1", errors.New("boom")) }, kindUpstreamError},
		{"update rejected", func(c *gin.Context) {
			s.regionError(c, "wf-1", fmt.Errorf("updating: %w", &regions.UpdateError{Rejected: true, Message: "no"}))
		}, kindUpdateRejected},
		{"update failed", func(c *gin.Context) { s.regionError(c, "wf-1", &regions.UpdateError{Message: "boom"}) }, kindUpdateFailed},
		{"update timeout", func(c *gin.Context) { s.regionError(c, "wf-1", fmt.Errorf("x: %w", regions.ErrUpdateTimeout)) }, kindUpdateTimeout},
		{"closed", func(c *gin.Context) { s.regionError(c, "wf-1", fmt.Errorf("x: %w", regions.ErrClosed)) }, kindWorkflowClosed},
	}
	types := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			tt.send(c)
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.want.status || p.Status != tt.want.status || p.Type != problemTypeBase+tt.want.slug || p.Title != tt.want.title {
				t.Fatalf("sent %d %+v; want %d %s", rec.Code, p, tt.want.status, tt.want.slug)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			if retry := rec.Header().Get("Retry-After") != ""; retry != (p.Status == 503) {
				t.Fatalf("status %d with Retry-After %v", p.Status, retry)
			}
			if p.Status == 503 {
				if other, ok := types[p.Type]; ok {
					t.Fatalf("%s and %s share the type %s", tt.name, other, p.Type)
				}
				types[p.Type] = tt.name
			}
		})
	}
}

// TestProblemKindsAreDocumented: the one table in docs/api.md lists every
// kind with its status and title, and nothing else.
func TestProblemKindsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "| type | status | title |")
	if !ok {
		t.Fatal("docs/api.md has no problem type table")
	}
	rows := map[string][2]string{} // type -> status, title
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "| `") {
			break
		}
		cells := strings.Split(line, " | ")
		rows[strings.Trim(cells[0], "| `")] = [2]string{cells[1], cells[2]}
	}
	for _, k := range problemKinds {
		if got, want := rows[k.slug], [2]string{strconv.Itoa(k.status), k.title}; got != want {
			t.Errorf("docs/api.md row for %s: %q, want %q", k.slug, got, want)
		}
		delete(rows, k.slug)
	}
	for slug := range rows {
		t.Errorf("docs/api.md lists %s, which no code sends", slug)
	}
}

// TestProblemDetailIsBounded: a detail quoting what the client sent is cut
// to maxDetailBytes, at a rune boundary and marked, so an answer stays
// small whatever the request held (FuzzClientAPI's problem-echoes-* seeds).
func TestProblemDetailIsBounded(t *testing.T) {
	for _, detail := range []string{strings.Repeat("é", 2000), strings.Repeat("x", maxDetailBytes), "short"} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		fail(c, kindBadRequest, detail)
		var p Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		cut := len(detail) > maxDetailBytes
		if len(p.Detail) > maxDetailBytes || !utf8.ValidString(p.Detail) || cut != strings.HasSuffix(p.Detail, " [cut]") ||
			!strings.HasPrefix(detail, strings.TrimSuffix(p.Detail, " [cut]")) {
			t.Fatalf("a %d-byte detail sent as %d bytes: %.60q...", len(detail), len(p.Detail), p.Detail)
		}
	}
}
