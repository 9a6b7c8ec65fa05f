package gateway_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testenv"
)

// TestTenantRateLimit: a tenant over its bucket gets 429 with Retry-After;
// other tenants and anonymous requests are not held back by it. The
// regions point at a closed port, so admitted starts fail fast with 503.
func TestTenantRateLimit(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(configs.DefaultYAML()), "tenantRatePerSecond: 100", "tenantRatePerSecond: 0.001")
	text = strings.ReplaceAll(text, "tenantBurst: 200", "tenantBurst: 2")
	for _, p := range []string{"7233", "7234", "7235", "7236"} {
		text = strings.ReplaceAll(text, "127.0.0.1:"+p, "127.0.0.1:"+strconv.Itoa(port))
	}
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(offlineServer(t, cfg).ClientHandler())
	t.Cleanup(ts.Close)
	start := func(tenant string) response {
		return do(t, "POST", ts.URL+"/v1/workflows", map[string]any{"workflowType": "DataProcessing",
			"tenant": tenant, "userLocation": "US", "dataClassification": "public"})
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
