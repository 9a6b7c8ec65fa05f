package kubernetes_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// These tests run the regiongate binary the manifests deploy: $REGIONGATE_BIN
// (make test passes bin/regiongate), else one built from this checkout.

var (
	binOnce  sync.Once
	binPath  string
	binErr   error
	builtDir string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

func regiongate(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the regiongate binary; skipped under -short")
	}
	binOnce.Do(func() {
		if binPath = os.Getenv("REGIONGATE_BIN"); binPath != "" {
			return
		}
		builtDir, binErr = os.MkdirTemp("", "regiongate-bin")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(builtDir, "regiongate")
		build := exec.Command("go", "build", "-o", binPath, "./cmd/regiongate")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			binErr = &buildError{string(out), err}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "building regiongate: " + e.err.Error() + "\n" + e.out }

func runBinary(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(regiongate(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("regiongate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestRegionConfigValidates: the config the manifests ship passes
// `regiongate config validate`, as the gateway would check it.
func TestRegionConfigValidates(t *testing.T) {
	for _, dir := range deployable {
		t.Run(dir, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(regionConfig(t, renderOf(t, dir))), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Log(strings.TrimSpace(runBinary(t, "config", "validate", path)))
		})
	}
}

// Variables the manifests may set that regiongate's own help does not
// list: the Consul API client's and OpenTelemetry's.
var libraryEnv = regexp.MustCompile(`^(CONSUL_HTTP_[A-Z_]+|OTEL_[A-Z_]+)$`)

// TestFlagsAndVariablesExist: every flag a container passes and every
// variable it sets is one its subcommand's --help documents, so the
// manifests cannot drift from the binary or name a flag that does not exist.
func TestFlagsAndVariablesExist(t *testing.T) {
	for _, dir := range deployable {
		for _, d := range all[*appsv1.Deployment](renderOf(t, dir)) {
			c := d.Spec.Template.Spec.Containers[0]
			if len(c.Args) == 0 {
				t.Errorf("%s %s: no subcommand in args", dir, d.Name)
				continue
			}
			help := runBinary(t, c.Args[0], "--help")
			for _, arg := range c.Args[1:] {
				flag, _, _ := strings.Cut(arg, "=")
				if !strings.HasPrefix(flag, "--") || !regexp.MustCompile(`(?m)^\s+(-\w, )?`+regexp.QuoteMeta(flag)+`\b`).MatchString(help) {
					t.Errorf("%s %s: regiongate %s has no flag %s", dir, d.Name, c.Args[0], flag)
				}
			}
			for _, e := range c.Env {
				if libraryEnv.MatchString(e.Name) || documented(help, e.Name) {
					continue
				}
				t.Errorf("%s %s: regiongate %s --help does not document $%s", dir, d.Name, c.Args[0], e.Name)
			}
		}
	}
}

// documented reports whether help names the variable, a region's codec
// keys variable counting as the REGIONGATE_CODEC_KEYS_<region> it lists.
func documented(help, name string) bool {
	if strings.Contains(help, "[$"+name+"]") {
		return true
	}
	rest, ok := strings.CutPrefix(name, "REGIONGATE_CODEC_KEYS_")
	return ok && rest != "" && strings.Contains(help, "REGIONGATE_CODEC_KEYS_<REGION>") &&
		!slices.ContainsFunc([]rune(rest), func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') })
}
