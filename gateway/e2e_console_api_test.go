package gateway_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/regiongate/regiongate/internal/tool/apiclient"
	"github.com/regiongate/regiongate/internal/tool/apiclient/client"
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

// The client generated from the client API's document starts a tenant's
// workflow and reads it back; its problems come back as apiclient errors.
func TestGeneratedClientTalksToTheClientAPI(t *testing.T) {
	needStack(t)
	cl, err := apiclient.Client(stack.ClientURL, "dev-client-acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	id, de := uniqueID(t), "DE"
	input := map[string]any{"items": 1, "itemDelayMs": 1}
	r, err := cl.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{}, client.StartBody{
		WorkflowType: "DataProcessing", WorkflowId: &id, UserLocation: &de, DataClassification: "pii", Input: &input})
	if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil || r.JSON201 == nil || r.JSON201.Region != "eu-west" {
		t.Fatalf("start: %v %s", err, r.Body)
	}
	d, err := cl.DescribeWorkflowWithResponse(t.Context(), id)
	if err := apiclient.Check(d.HTTPResponse, d.Body, err); err != nil || d.JSON200.WorkflowId != id {
		t.Fatalf("describe: %v %s", err, d.Body)
	}
	jp := "JP"
	r, err = cl.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{}, client.StartBody{
		WorkflowType: "DataProcessing", UserLocation: &jp, DataClassification: "pii", Input: &input})
	var problem *apiclient.Error
	if err := apiclient.Check(r.HTTPResponse, r.Body, err); !errors.As(err, &problem) || problem.Status != 422 ||
		problem.Type != "https://regiongate.dev/problems/no-lawful-region" {
		t.Fatalf("a start no region may hold: %v", err)
	}
}
