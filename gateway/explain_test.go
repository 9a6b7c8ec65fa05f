package gateway_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows"
)

// offlineServer is a gateway on cfg whose regions are never dialled by the
// calls under test (explain, or starts refused before reaching a region).
func offlineServer(t *testing.T, cfg *configs.Config) *gateway.Server {
	t.Helper()
	mgr, err := regions.NewManager(cfg, regions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	keys := clientauth.NewKeys(clientauth.DevKeys()...)
	srv, err := gateway.New(gateway.Options{Regions: mgr, Config: cfg, WorkflowTypes: workflows.Names, Tokens: gateway.DevTokens(),
		ClientKeys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// explainServer serves the admin API for a config that trusts loopback as
// a CDN proxy. Explain never calls a region, so none needs to run.
func explainServer(t *testing.T) string {
	t.Helper()
	text := string(configs.DefaultYAML()) + `
location:
  precedence: [header, request]
  headers: [CF-IPCountry]
  trustedProxies:
    - {cidr: 127.0.0.0/8, headers: [CF-IPCountry]}
    - {cidr: "::1/128", headers: [CF-IPCountry]}
`
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(offlineServer(t, cfg).AdminHandler())
	t.Cleanup(ts.Close)
	return ts.URL + "/admin/v1/route/explain"
}

func TestExplainUsesTheTrustedCDNHeaderFirst(t *testing.T) {
	url := explainServer(t)
	auth := []string{"Authorization", "Bearer dev-viewer"}
	body := `{"workflowType":"PropertyBooking","userLocation":"US","dataClassification":"pii"}`
	tests := []struct {
		name, header, wantLoc, wantSource, wantRegion string
	}{
		{"header beats the body", "DE", "DE", "header", "eu-west"},
		{"cdn placeholder falls back to the body", "XX", "US", "request", "us-east"},
		{"no header uses the body", "", "US", "request", "us-east"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := auth
			if tt.header != "" {
				h = append(append([]string{}, auth...), "CF-IPCountry", tt.header)
			}
			r := do(t, "POST", url, body, h...)
			if r.Status != 200 {
				t.Fatalf("explain: %d %s", r.Status, r.Body)
			}
			m := r.json(t)
			d := m["decision"].(map[string]any)
			if m["userLocation"] != tt.wantLoc || m["locationSource"] != tt.wantSource || d["region"] != tt.wantRegion {
				t.Fatalf("got %s", r.Body)
			}
		})
	}
}

func TestExplainRefusalsAndBadInput(t *testing.T) {
	url := explainServer(t)
	auth := []string{"Authorization", "Bearer dev-viewer"}
	r := do(t, "POST", url, `{"workflowType":"PropertyBooking","userLocation":"JP","dataClassification":"pii"}`, auth...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":422`) || r.json(t)["allowed"] != false {
		t.Fatalf("JP pii: %d %s", r.Status, r.Body)
	}
	checkProblem(t, do(t, "POST", url, `{"workflowType":"PropertyBooking","userLocation":"ZZ","dataClassification":"pii"}`, auth...), 400)
	checkProblem(t, do(t, "POST", url, `{"workflowType":"PropertyBooking","dataClassification":"pii"}`, auth...), 400)
	checkProblem(t, do(t, "POST", url, `{}`), 401)
}
