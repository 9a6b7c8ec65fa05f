package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows"
)

// adminServer is a gateway's admin API on a real listener; these commands
// never reach a region, so none needs to run.
func adminServer(t *testing.T) string {
	t.Helper()
	cfg := configs.Default()
	mgr, err := regions.NewManager(cfg, regions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	srv, err := gateway.New(gateway.Options{Regions: mgr, Config: cfg, WorkflowTypes: workflows.Names,
		Tokens: gateway.DevTokens(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	go srv.RunDrills(t.Context(), 50*time.Millisecond) // ends and restores drills, as serve does
	ts := httptest.NewServer(srv.AdminHandler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// drill run --wait returns once the gateway has ended the drill, with the
// final report.
func TestDrillRunWaitsForTheRestore(t *testing.T) {
	url := adminServer(t)
	out, err := run(t, "drill", "run", "--admin-url", url, "--token", "dev-operator", "--region", "eu-west",
		"--duration", "1s", "--wait", "--json")
	var rep map[string]any
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep["status"] != "completed" {
		t.Fatalf("drill run --wait: %v\n%s", err, out)
	}
}

func TestRegionsAndDrillCommands(t *testing.T) {
	url := adminServer(t)
	out, err := run(t, "regions", "--admin-url", url, "--token", "dev-viewer")
	if err != nil || !regexp.MustCompile(`(?m)^eu-west\s+active\s+closed\s+true\s+127\.0\.0\.1:7235\s+dev-eu-west`).MatchString(out) {
		t.Fatalf("regions table: %v\n%s", err, out)
	}
	out, err = run(t, "regions", "--admin-url", url, "--token", "dev-viewer", "--json")
	var list []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 4 {
		t.Fatalf("regions --json: %v\n%s", err, out)
	}
	if _, err := run(t, "regions", "--admin-url", url, "--token", "wrong"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := run(t, "drill", "run", "--admin-url", url, "--token", "dev-viewer", "--region", "eu-west", "--duration", "2s"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("viewer drill: %v", err)
	}
	out, err = run(t, "drill", "run", "--admin-url", url, "--token", "dev-operator", "--region", "eu-west", "--duration", "30s", "--json")
	var d map[string]any
	if err != nil || json.Unmarshal([]byte(out), &d) != nil || d["region"] != "eu-west" {
		t.Fatalf("drill run: %v\n%s", err, out)
	}
	out, err = run(t, "drill", "report", d["id"].(string), "--admin-url", url, "--token", "dev-viewer")
	if err != nil || !strings.Contains(out, "(running)") || !strings.Contains(out, "rerouted") {
		t.Fatalf("drill report: %v\n%s", err, out)
	}
	out, _ = run(t, "regions", "--admin-url", url, "--token", "dev-viewer")
	if !strings.Contains(out, d["id"].(string)) || !regexp.MustCompile(`(?m)^eu-west\s+drained`).MatchString(out) {
		t.Fatalf("regions during the drill:\n%s", out)
	}
}

// The compliance flow from a shell: get, preview (problems at their line,
// then the routing change), a stale put refused, a current one applied.
func TestConfigGetPreviewPut(t *testing.T) {
	url := adminServer(t)
	dir := t.TempDir()
	current := filepath.Join(dir, "current.yaml")
	out, err := run(t, "config", "get", "--admin-url", url, "--token", "dev-viewer", "--out", current)
	m := regexp.MustCompile(`version (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("config get: %v\n%s", err, out)
	}
	version := m[1]
	data, err := os.ReadFile(current)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	writeTo(t, bad, strings.Replace(string(data), "failover: [us-west]", "failover: [nowhere]", 1))
	out, err = run(t, "config", "preview", bad, "--admin-url", url, "--token", "dev-compliance")
	if err == nil || !regexp.MustCompile(`bad\.yaml:\d+: regions\[0\]\.failover\[0\]: unknown region "nowhere"`).MatchString(out) {
		t.Fatalf("preview of a bad config: %v\n%s", err, out)
	}
	edited := filepath.Join(dir, "new.yaml")
	writeTo(t, edited, strings.Replace(string(data), "residency: [EU, GB, CH]", "residency: [EU, GB]", 1))
	out, err = run(t, "config", "preview", edited, "--admin-url", url, "--token", "dev-compliance")
	if err != nil || !strings.Contains(out, "| CH | pii | eu-west → eu-central | eu-central |") {
		t.Fatalf("preview: %v\n%s", err, out)
	}
	if _, err := run(t, "config", "put", edited, "--if-match", "stale", "--admin-url", url, "--token", "dev-compliance"); err == nil ||
		!strings.Contains(err.Error(), "412") || !strings.Contains(err.Error(), "redo your edit") {
		t.Fatalf("stale put: %v", err)
	}
	out, err = run(t, "config", "put", edited, "--if-match", version, "--admin-url", url, "--token", "dev-compliance")
	if err != nil || !strings.Contains(out, "(was "+version+")") {
		t.Fatalf("put: %v\n%s", err, out)
	}
}

func writeTo(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
