package gateway_test

import (
	"net/url"
	"testing"
)

// An operator finds a tenant's workflow by the id its client uses: the
// tenant's own, not another tenant's of the same id, nor an anonymous one.
func TestOperatorLooksUpATenantsWorkflow(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "DE", "pii"), asAcme...); r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	lookup := stack.AdminURL + "/admin/v1/workflows/" + url.PathEscape(id)
	r := do(t, "GET", lookup+"?tenant=acme", nil, "Authorization", "Bearer dev-operator")
	got := r.json(t)
	if r.Status != 200 || got["region"] != "eu-west" || got["namespace"] == "" || got["status"] == "" || got["tenant"] != "acme" {
		t.Fatalf("lookup: %d %v", r.Status, got)
	}
	for _, other := range []string{"?tenant=globex", ""} {
		if r := do(t, "GET", lookup+other, nil, "Authorization", "Bearer dev-operator"); r.Status != 404 {
			t.Errorf("lookup%s: %d %s", other, r.Status, r.Body)
		}
	}
	if r := do(t, "GET", lookup+"?tenant=acme", nil, "Authorization", "Bearer dev-viewer"); r.Status != 403 {
		t.Errorf("a viewer: %d", r.Status)
	}
	if r := do(t, "GET", lookup+"?tenant=Not_A_Tenant", nil, "Authorization", "Bearer dev-operator"); r.Status != 400 {
		t.Errorf("a bad tenant: %d", r.Status)
	}
}

// Requests sent to a region show in its traffic.
func TestRegionsShowTheirTraffic(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "US", "pii")); r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	do(t, "GET", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id), nil)
	r := do(t, "GET", stack.AdminURL+"/admin/v1/regions", nil, "Authorization", "Bearer dev-viewer")
	for _, v := range r.json(t)["regions"].([]any) {
		region := v.(map[string]any)
		if region["name"] != "us-east" {
			continue
		}
		tr := region["traffic"].(map[string]any)
		if tr["requests"].(float64) < 2 || tr["windowSeconds"].(float64) != 60 {
			t.Fatalf("us-east traffic: %v", tr)
		}
		return
	}
	t.Fatal("no us-east")
}
