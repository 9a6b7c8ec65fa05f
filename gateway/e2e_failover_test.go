package gateway_test

import (
	"strings"
	"testing"
)

// TestFailoverRefusedWithoutAReplica: on the plain dev stack no region has
// a replica; a failover, or a failover drill, is refused before anything is
// recorded, and only operators may ask. (The failovers themselves run on
// replicated clusters: regions/replication_e2e_test.go.)
func TestFailoverRefusedWithoutAReplica(t *testing.T) {
	needStack(t)
	operator := []string{"Authorization", "Bearer dev-operator"}
	tests := []struct {
		path   string
		body   any
		status int
		typ    string
	}{
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned"}, 409, "no-replica"},
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "forced", "to": "us-east"}, 409, "no-replica"},
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "later"}, 400, "bad-request"},
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned", "observeSeconds": 3600}, 400, "bad-request"},
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned", "colour": "red"}, 400, "bad-request"},
		{"/admin/v1/regions/mars/failover", map[string]any{"mode": "planned"}, 404, "region-not-found"},
		{"/admin/v1/drills", map[string]any{"region": "eu-west", "durationSeconds": 5, "mode": "failover"}, 409, "no-replica"},
		{"/admin/v1/drills", map[string]any{"region": "eu-west", "durationSeconds": 5, "mode": "sideways"}, 400, "bad-request"},
	}
	for _, tt := range tests {
		p := checkProblem(t, do(t, "POST", stack.AdminURL+tt.path, tt.body, operator...), tt.status)
		if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "/"+tt.typ) {
			t.Errorf("POST %s %v: type %s, want %s", tt.path, tt.body, typ, tt.typ)
		}
	}
	checkProblem(t, do(t, "POST", stack.AdminURL+"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned"},
		"Authorization", "Bearer dev-viewer"), 403)
	audit := do(t, "GET", stack.AdminURL+"/admin/v1/audit", nil, "Authorization", "Bearer dev-viewer")
	if strings.Contains(string(audit.Body), `"action":"region.failover"`) {
		t.Errorf("a refused failover was recorded as attempted: %s", audit.Body)
	}
}
