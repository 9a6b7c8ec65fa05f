package apiclient

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestGeneratedClientsAreCurrent runs each go:generate line of this
// package with its output sent to a temporary file, and fails when that
// differs from the committed code: the documents changed, or the code was
// edited by hand. Run go generate ./internal/tool/apiclient to refresh.
func TestGeneratedClientsAreCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pinned oapi-codegen through the module proxy (skipped under -short)")
	}
	src, err := os.ReadFile("apiclient.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`(?m)^//go:generate (.+)$`).FindAllStringSubmatch(string(src), -1)
	if len(lines) != 2 {
		t.Fatalf("want 2 go:generate lines in apiclient.go, got %d", len(lines))
	}
	for _, line := range lines {
		args := strings.Fields(line[1])
		cfgAt := slices.Index(args, "-config") + 1
		cfg, err := os.ReadFile(args[cfgAt])
		if err != nil {
			t.Fatal(err)
		}
		out := regexp.MustCompile(`(?m)^output: (.+)$`).FindSubmatch(cfg)
		if out == nil {
			t.Fatalf("%s has no output line", args[cfgAt])
		}
		committed := string(out[1])
		fresh := filepath.Join(t.TempDir(), filepath.Base(committed))
		tmpCfg := filepath.Join(t.TempDir(), "oapi-codegen.yaml")
		if err := os.WriteFile(tmpCfg, bytes.Replace(cfg, out[0], []byte("output: "+fresh), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		args[cfgAt] = tmpCfg
		cmd := exec.Command(args[0], args[1:]...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", line[1], err, stderr.String())
		}
		want, err := os.ReadFile(fresh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(committed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what %s generates now: run go generate ./internal/tool/apiclient and commit the result", committed, args[len(args)-1])
		}
	}
}
