package gateway_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// TestTenantRateLimit: a tenant over its bucket gets 429 with Retry-After;
// other tenants and anonymous requests are not held back by it. The
// tenant is the credential's (the dev keys). The regions point at a closed
// port, so admitted starts fail fast with 503.
func TestTenantRateLimit(t *testing.T) {
	text := strings.ReplaceAll(string(configs.DefaultYAML()), "tenantRatePerSecond: 100", "tenantRatePerSecond: 0.001")
	text = strings.ReplaceAll(text, "tenantBurst: 200", "tenantBurst: 2")
	ts := httptest.NewServer(offlineServer(t, closedRegions(t, text)).ClientHandler())
	t.Cleanup(ts.Close)
	start := func(tenant string) response {
		key := "" // anonymous
		if tenant != "" {
			key = "Bearer dev-client-" + tenant
		}
		return do(t, "POST", ts.URL+"/v1/workflows", map[string]any{"workflowType": "DataProcessing",
			"userLocation": "US", "dataClassification": "public"}, "Authorization", key)
	}
	for i := range 2 {
		if r := start("acme"); r.Status == 429 {
			t.Fatalf("request %d within the burst was limited", i)
		}
	}
	limited := start("acme")
	checkProblem(t, limited, 429)
	if limited.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if r := start("globex"); r.Status == 429 {
		t.Fatal("another tenant was limited by acme's bucket")
	}
	if r := start(""); r.Status == 429 {
		t.Fatal("a request without a tenant was limited")
	}
}

// closedRegions parses config text with every region's endpoint moved to
// a closed port, so a call that reaches a region fails fast.
func closedRegions(t *testing.T, text string) *configs.Config {
	t.Helper()
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"7233", "7234", "7235", "7236"} {
		text = strings.ReplaceAll(text, "127.0.0.1:"+p, "127.0.0.1:"+strconv.Itoa(port))
	}
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestConfigPutIgnoresTheClientBodyLimit: the config's maxBodyBytes caps
// client requests, not config edits, so a small one cannot lock out the
// PUT that raises it again.
func TestConfigPutIgnoresTheClientBodyLimit(t *testing.T) {
	text := strings.Replace(string(configs.DefaultYAML()), "maxBodyBytes: 1048576", "maxBodyBytes: 256", 1)
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(offlineServer(t, cfg).AdminHandler())
	t.Cleanup(ts.Close)
	url := ts.URL + "/admin/v1/config"
	got := do(t, "GET", url, nil, "Authorization", "Bearer dev-compliance")
	if got.Status != 200 || len(got.Body) <= 256 {
		t.Fatalf("GET config: %d, %d bytes", got.Status, len(got.Body))
	}
	raised := strings.Replace(string(got.Body), "maxBodyBytes: 256", "maxBodyBytes: 1048576", 1)
	r := do(t, "PUT", url, raised, "Authorization", "Bearer dev-compliance", "If-Match", got.Header.Get("ETag"))
	if r.Status != 200 {
		t.Fatalf("PUT of a %d-byte config under a 256-byte client limit: %d %s", len(raised), r.Status, r.Body)
	}
}
