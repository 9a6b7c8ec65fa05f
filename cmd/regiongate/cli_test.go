package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func devYAML(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../configs/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfigValidate(t *testing.T) {
	out, err := run(t, "config", "validate", "../../configs/dev.yaml")
	if err != nil || !strings.Contains(out, "valid") {
		t.Fatalf("dev config: %v %s", err, out)
	}
	bad := strings.Replace(devYAML(t), "failover: [eu-central]", "failover: [eu-centre]", 1)
	bad = strings.Replace(bad, "residency: [US, CA]", "residency: [US, XX]", 1)
	_, err = run(t, "config", "validate", writeFile(t, bad))
	if err == nil {
		t.Fatal("a bad config must fail")
	}
	for _, want := range []string{`regions[2].failover[0]: unknown region "eu-centre"`, `regions[0].residency[1]`, "line "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	_, err = run(t, "config", "validate", writeFile(t, devYAML(t)+"\ncolour: red\n"))
	if err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown field: %v", err)
	}
	if strings.Contains(out, "warning:") {
		t.Errorf("the dev config has warnings:\n%s", out)
	}
}

// A Temporal Cloud endpoint without credentials is a warning, not a
// failure: the config is valid, the output says what is missing and where.
func TestConfigValidateWarnsAboutCloudWithoutCredentials(t *testing.T) {
	cloud := strings.Replace(devYAML(t), "    endpoint: 127.0.0.1:7235\n    namespace: dev-eu-west\n",
		"    endpoint: payments.a2dd6.tmprl.cloud:7233\n    namespace: payments.a2dd6\n", 1)
	if cloud == devYAML(t) {
		t.Fatal("the dev config's eu-west lines moved")
	}
	out, err := run(t, "config", "validate", writeFile(t, cloud))
	if err != nil {
		t.Fatalf("a warning must not fail validation: %v", err)
	}
	for _, want := range []string{"warning: line ", "regions[2].endpoint: a Temporal Cloud endpoint without credentials", "warnings: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}

func TestRouteTableAndExplain(t *testing.T) {
	out, err := run(t, "route", "table", "../../configs/dev.yaml")
	if err != nil || !strings.Contains(out, "| DE | EEA, EU | eu-west → eu-central → us-east → us-west |") {
		t.Fatalf("route table: %v\n%.400s", err, out)
	}
	out, err = run(t, "route", "explain", "--config", "../../configs/dev.yaml", "--location", "DE", "--class", "pii", "--down", "eu-west")
	if err != nil || !strings.Contains(out, "decision: eu-central") || !strings.Contains(out, "skip us-east") {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	if _, err = run(t, "route", "explain", "--location", "JP", "--class", "pii"); err == nil {
		t.Fatal("a refused request must exit non-zero")
	}
	if _, err = run(t, "route", "explain", "--location", "DE", "--class", "pii", "--down", "mars"); err == nil {
		t.Fatal("an unknown --down region must be an error")
	}
}

func TestConfigDiff(t *testing.T) {
	next := strings.ReplaceAll(devYAML(t), "residency: [EU, GB, CH]", "residency: [EU, GB]")
	out, err := run(t, "config", "diff", "../../configs/dev.yaml", writeFile(t, next))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| CH | pii | eu-west → eu-central | refused |", "2 newly refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff does not show %q:\n%s", want, out)
		}
	}
	out, err = run(t, "config", "diff", "../../configs/dev.yaml", "../../configs/dev.yaml")
	if err != nil || !strings.Contains(out, "No routing changes") {
		t.Fatalf("same file: %v %s", err, out)
	}
}

// serve refuses plain text on an address other than loopback before it
// binds or dials anything, saying which flags would make it right.
func TestServeRefusesPlainTextBeyondLoopback(t *testing.T) {
	_, err := run(t, "serve", "--client-addr", "0.0.0.0:8080", "--state-dir", t.TempDir())
	for _, want := range []string{"the client API on 0.0.0.0:8080", "--tls-cert-file and --tls-key-file", "--insecure-listen"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

// The listeners' flags read their variables, and the limits default to
// the assembly's.
func TestServeListenerFlags(t *testing.T) {
	env := map[string]string{
		"REGIONGATE_TLS_CERT_FILE": "/tls/c.pem", "REGIONGATE_TLS_KEY_FILE": "/tls/k.pem",
		"REGIONGATE_ADMIN_CLIENT_CA_FILE": "/tls/admins.pem", "REGIONGATE_INSECURE_LISTEN": "true",
		"REGIONGATE_WRITE_TIMEOUT": "90s", "REGIONGATE_MAX_HEADER_BYTES": "32768",
	}
	c := serveCmd()
	if err := applyEnv(c, serveEnv, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"tls-cert-file": "/tls/c.pem", "tls-key-file": "/tls/k.pem", "admin-client-ca-file": "/tls/admins.pem",
		"insecure-listen": "true", "write-timeout": "1m30s", "max-header-bytes": "32768",
		"read-header-timeout": "10s", "read-timeout": "30s", "idle-timeout": "2m0s",
	} {
		if got := c.Flags().Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
}
