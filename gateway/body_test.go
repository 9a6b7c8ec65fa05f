package gateway_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

// TestEveryJSONEndpointDecodesStrictly: the start, signal-with-start,
// explain, signal, update, terminate and drill bodies all go through one
// decoder, so each refuses a duplicate key (in any case), trailing data
// and an oversized body alike; the config PUT (YAML) shares its size cap. The regions sit on a closed port: a body
// that gets past decoding fails at the region instead (a 503 or 404).
func TestEveryJSONEndpointDecodesStrictly(t *testing.T) {
	srv := offlineServer(t, closedRegions(t, string(configs.DefaultYAML())))
	client := httptest.NewServer(srv.ClientHandler())
	t.Cleanup(client.Close)
	admin := httptest.NewServer(srv.AdminHandler())
	t.Cleanup(admin.Close)

	start := `{"workflowType":"PropertyBooking","userLocation":"DE","dataClassification":"pii"`
	caseDup := start + `,"DataClassification":"public"}`
	huge := `{"input":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
	drill := `{"region":"eu-west","durationSeconds":60`
	tests := []struct {
		name, method, url, token, body string
		status                         int
		detail                         string
	}{
		{"start: keys differing in case", "POST", client.URL + "/v1/workflows", "", caseDup, 400, "duplicate key"},
		{"start: key twice inside input", "POST", client.URL + "/v1/workflows", "", start + `,"input":{"a":1,"a":2}}`, 400, "duplicate key"},
		{"start: nested too deep", "POST", client.URL + "/v1/workflows", "", start + `,"input":{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}`, 400, "nested too deeply"},
		{"explain: keys differing in case", "POST", admin.URL + "/admin/v1/route/explain", "dev-viewer", caseDup, 400, "duplicate key"},
		{"signal: key twice", "POST", client.URL + "/v1/workflows/wf-1/signals/note", "", `{"input":{"text":"a"},"input":null}`, 400, "duplicate key"},
		{"signal: trailing data", "POST", client.URL + "/v1/workflows/wf-1/signals/note", "", `{"input":{"text":"a"}}}`, 400, "data after the object"},
		{"signal: over the limit", "POST", client.URL + "/v1/workflows/wf-1/signals/note", "", huge, 413, "limit"},
		{"signal: empty body is no input", "POST", client.URL + "/v1/workflows/wf-1/signals/note", "", ``, 503, "cannot be reached"},
		{"signal-with-start: keys differing in case", "POST", client.URL + "/v1/workflows/signal-with-start", "", start + `,"signalName":"note","SignalName":"x"}`, 400, "duplicate key"},
		{"signal-with-start: unknown field", "POST", client.URL + "/v1/workflows/signal-with-start", "", start + `,"signalName":"note","signal":"x"}`, 400, "unknown field"},
		{"signal-with-start: no signal name", "POST", client.URL + "/v1/workflows/signal-with-start", "", start + `}`, 400, "signalName must not be empty"},
		{"update: key twice inside input", "POST", client.URL + "/v1/workflows/wf-1/updates/setItemDelay", "", `{"input":{"a":1,"A":2}}`, 400, "duplicate key"},
		{"update: empty body is no input", "POST", client.URL + "/v1/workflows/wf-1/updates/setItemDelay", "", ``, 503, "cannot be reached"},
		{"terminate: trailing data", "POST", client.URL + "/v1/workflows/wf-1/terminate", "", `{"reason":"x"} {}`, 400, "data after the object"},
		{"terminate: over the limit", "POST", client.URL + "/v1/workflows/wf-1/terminate", "", `{"reason":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "limit"},
		{"drill: trailing data", "POST", admin.URL + "/admin/v1/drills", "dev-operator", drill + `} {}`, 400, "data after the object"},
		{"drill: key twice", "POST", admin.URL + "/admin/v1/drills", "dev-operator", drill + `,"region":"us-east"}`, 400, "duplicate key"},
		{"drill: over its cap", "POST", admin.URL + "/admin/v1/drills", "dev-operator", drill + `,"pad":"` + strings.Repeat("x", 64<<10) + `"}`, 413, "limit"},
		{"drill: empty body", "POST", admin.URL + "/admin/v1/drills", "dev-operator", ``, 400, "empty body"},
		{"config put: over its cap", "PUT", admin.URL + "/admin/v1/config", "dev-compliance", strings.Repeat("#", 4<<20+1), 413, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := []string{"If-Match", `"any"`}
			if tt.token != "" {
				header = append(header, "Authorization", "Bearer "+tt.token)
			}
			r := do(t, tt.method, tt.url, tt.body, header...)
			p := checkProblem(t, r, tt.status)
			if !strings.Contains(p["detail"].(string), tt.detail) {
				t.Fatalf("detail %q does not say %q", p["detail"], tt.detail)
			}
		})
	}
}
