package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/regiongate/regiongate"

// floor is a set of packages and what their non-test code may import from
// the module. A pattern ending in "/..." matches that package and every
// package below it.
type floor struct {
	name     string
	patterns []string
	may      []string // floors
}

// floors are the import rules, bottom to top, as docs/architecture.md
// states them. Test files may import anything (tests of a low floor start
// the whole stack); internal/testkit is on no floor's list, so only test
// files import it.
var floors = []floor{
	{"base", []string{"internal/base/..."}, nil}, // std and third-party only
	{"configs", []string{"configs/..."}, []string{"base"}},
	{"router", []string{"router/..."}, []string{"base", "configs"}},
	// Workflow code knows nothing of the gateway: the worker's assembly
	// tells it its region, namespaces and queues.
	{"workflows", []string{"workflows/..."}, []string{"base", "workflows"}},
	{"regions", []string{"regions/..."}, []string{"base", "configs", "router"}},
	// The gateway's handlers use its own subpackages (gateway/clientauth).
	{"gateway", []string{"gateway/..."}, []string{"base", "configs", "router", "regions", "gateway"}},
	// Each assembly is one process; neither builds on the other.
	{"assembly", []string{"internal/assembly/..."}, []string{"base", "configs", "router", "workflows", "regions", "gateway"}},
	{"tool", []string{"internal/tool/..."}, []string{"base", "configs", "router", "workflows", "regions", "gateway", "assembly", "tool"}},
	{"cmd", []string{"cmd/..."}, []string{"base", "configs", "router", "workflows", "regions", "gateway", "assembly", "tool"}},
	// Test-only code, and these checks.
	{"testkit", []string{"internal/testkit/..."}, []string{"base"}},
	{"archtest", []string{"internal/archtest"}, nil},
	// The dev stack's scripts: their only Go is the test that runs them.
	{"deploy", []string{"deploy/..."}, nil},
}

// floorOf returns the floor of a module package path ("gateway",
// "internal/base/audit"), or false when no floor holds it.
func floorOf(rel string) (floor, bool) {
	for _, f := range floors {
		for _, p := range f.patterns {
			tree, isTree := strings.CutSuffix(p, "/...")
			if rel == p || (isTree && (rel == tree || strings.HasPrefix(rel, tree+"/"))) {
				return f, true
			}
		}
	}
	return floor{}, false
}

// pkg is what go list says of one package.
type pkg struct {
	ImportPath string
	Imports    []string
}

// violations checks each package's non-test imports against floors.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		from, ok := floorOf(rel)
		if !ok {
			out = append(out, fmt.Sprintf("%s is on no floor: add it to the table in imports_test.go and docs/architecture.md", rel))
			continue
		}
		for _, imp := range p.Imports {
			dep, inModule := strings.CutPrefix(imp, module+"/")
			if !inModule {
				continue // std and third-party: the binary test guards those
			}
			to, ok := floorOf(dep)
			if ok && slices.Contains(from.may, to.name) {
				continue
			}
			rule := "may import nothing from the module"
			if len(from.may) > 0 {
				rule = "may import only " + strings.Join(from.may, ", ")
			}
			out = append(out, fmt.Sprintf("%s imports %s (floor %s): floor %s %s", rel, dep, to.name, from.name, rule))
		}
	}
	return out
}

func TestImportsFollowTheFloors(t *testing.T) {
	pkgs := listPackages(t, "./...")
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// The checker itself: an upward import and a non-test import of testkit
// are reported, naming the import and the rule.
func TestViolationsNameTheImportAndTheRule(t *testing.T) {
	got := violations([]pkg{
		{ImportPath: module + "/gateway", Imports: []string{module + "/regions", module + "/internal/assembly/gatewayd", "net/http"}},
		{ImportPath: module + "/internal/tool/bench", Imports: []string{module + "/internal/testkit/faults"}},
		{ImportPath: module + "/internal/base/audit", Imports: []string{module + "/internal/base/iso3166"}},
		{ImportPath: module + "/newthing"},
	})
	want := []string{
		"gateway imports internal/assembly/gatewayd (floor assembly): floor gateway may import only base, configs, router, regions, gateway",
		"internal/tool/bench imports internal/testkit/faults (floor testkit): floor tool may import only base, configs, router, workflows, regions, gateway, assembly, tool",
		"internal/base/audit imports internal/base/iso3166 (floor base): floor base may import nothing from the module",
		"newthing is on no floor: add it to the table in imports_test.go and docs/architecture.md",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The binary links no test-only code: not internal/testkit, nor the
// toxiproxy and zerolog it brings, nor the OpenAPI validator and the
// browser driver the tests use.
func TestBinaryLinksNoTestCode(t *testing.T) {
	forbidden := []string{module + "/internal/testkit/", "github.com/Shopify/toxiproxy", "github.com/rs/zerolog",
		"github.com/getkin/kin-openapi", "github.com/chromedp/"}
	deps := listPackages(t, "-deps", "./cmd/regiongate")
	if len(deps) < 10 {
		t.Fatalf("go list -deps found only %d packages", len(deps))
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d.ImportPath, f) {
				t.Errorf("bin/regiongate links %s (imported by %s): test-only code must stay out of the binary",
					d.ImportPath, strings.Join(importers(deps, d.ImportPath), ", "))
			}
		}
	}
}

func importers(pkgs []pkg, path string) []string {
	var out []string
	for _, p := range pkgs {
		if slices.Contains(p.Imports, path) {
			out = append(out, p.ImportPath)
		}
	}
	return out
}

// listPackages runs go list -json in the module root.
func listPackages(t *testing.T, args ...string) []pkg {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.Command("go", append([]string{"list", "-json=ImportPath,Imports"}, args...)...)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
}
