package gateway_test

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// The contract's dev client keys.
var (
	asAcme      = []string{"Authorization", "Bearer dev-client-acme"}
	asGlobex    = []string{"Authorization", "Bearer dev-client-globex"}
	asNorthwind = []string{"Authorization", "Bearer dev-client-northwind"}
)

// longProcessing is a DataProcessing start of US internal data (us-east),
// long enough to query, signal and cancel.
func longProcessing(id string) map[string]any {
	return map[string]any{"workflowType": "DataProcessing", "workflowId": id, "userLocation": "US",
		"dataClassification": "internal", "input": map[string]any{"items": 100, "itemDelayMs": 1000}}
}

// temporalDescribe asks a region's cluster through the Temporal CLI (as
// an operator would) for a workflow's run id.
func temporalDescribe(t *testing.T, region, namespace, id string) string {
	t.Helper()
	bin, err := devstack.TemporalBin()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "workflow", "describe", "--address", stack.Temporal[region].Addr,
		"--namespace", namespace, "--workflow-id", id, "--output", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("temporal workflow describe %s: %v\n%s", id, err, out)
	}
	var d struct {
		WorkflowExecutionInfo struct {
			Execution struct {
				RunID string `json:"runId"`
			} `json:"execution"`
		} `json:"workflowExecutionInfo"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("temporal CLI output: %v\n%s", err, out)
	}
	return d.WorkflowExecutionInfo.Execution.RunID
}

// TestSameIDUnderTwoTenantsIsTwoWorkflows: two tenants using one
// workflowId get two workflows, in a shared namespace too; each is
// "<tenant>:<id>" in Temporal.
func TestSameIDUnderTwoTenantsIsTwoWorkflows(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	a := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing(id), asAcme...)
	g := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing(id), asGlobex...)
	if a.Status != 201 || g.Status != 201 {
		t.Fatalf("starts: %d %s / %d %s", a.Status, a.Body, g.Status, g.Body)
	}
	ar, gr := a.json(t), g.json(t)
	if ar["workflowId"] != id || gr["workflowId"] != id || ar["runId"] == gr["runId"] || ar["namespace"] != "dev-us-east" {
		t.Fatalf("acme %v, globex %v", ar, gr)
	}
	if got := temporalDescribe(t, "us-east", "dev-us-east", "acme:"+id); got != ar["runId"] {
		t.Fatalf("acme:%s in Temporal has run %s, the gateway said %s", id, got, ar["runId"])
	}
	if got := temporalDescribe(t, "us-east", "dev-us-east", "globex:"+id); got != gr["runId"] {
		t.Fatalf("globex:%s in Temporal has run %s, the gateway said %s", id, got, gr["runId"])
	}
	for _, who := range [][]string{asAcme, asGlobex} {
		do(t, "POST", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id)+"/cancel", nil, who...)
	}
}

// TestAnotherTenantsWorkflowDoesNotExist: every operation on another
// tenant's id answers exactly as for an id nobody has, and a start with
// that id is a new workflow of the caller's, never the other's run.
func TestAnotherTenantsWorkflowDoesNotExist(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing(id), asAcme...); r.Status != 201 {
		t.Fatalf("acme's start: %d %s", r.Status, r.Body)
	}
	defer do(t, "POST", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id)+"/cancel", nil, asAcme...)
	nobody := uniqueID(t) + "-nobody"
	for _, op := range []struct{ method, suffix string }{
		{"GET", ""}, {"GET", "/queries/getProgress"}, {"POST", "/signals/note"}, {"POST", "/cancel"},
	} {
		theirs := do(t, op.method, stack.ClientURL+"/v1/workflows/"+url.PathEscape(id)+op.suffix, nil, asGlobex...)
		none := do(t, op.method, stack.ClientURL+"/v1/workflows/"+url.PathEscape(nobody)+op.suffix, nil, asGlobex...)
		pt, pn := checkProblem(t, theirs, 404), checkProblem(t, none, 404)
		if pt["type"] != pn["type"] || pt["title"] != pn["title"] ||
			strings.ReplaceAll(pt["detail"].(string), id, "ID") != strings.ReplaceAll(pn["detail"].(string), nobody, "ID") {
			t.Fatalf("%s %s: another tenant's id answers %s, an unknown id %s", op.method, op.suffix, theirs.Body, none.Body)
		}
	}
	// The acme workflow is untouched by globex's cancel.
	if d := do(t, "GET", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id), nil, asAcme...); d.Status != 200 || d.json(t)["status"] != "RUNNING" {
		t.Fatalf("acme's workflow after globex's attempts: %d %s", d.Status, d.Body)
	}
	g := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing(id), asGlobex...)
	if g.Status != 201 {
		t.Fatalf("globex's start of the same id: %d %s, want a new workflow (201)", g.Status, g.Body)
	}
	do(t, "POST", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id)+"/cancel", nil, asGlobex...)
}

// TestTheTenantIsTheCredentials: a body may repeat the credential's
// tenant, never name another; anonymous callers name none; spelling
// variants of a tenant are not tenants; bad credentials are 401.
func TestTheTenantIsTheCredentials(t *testing.T) {
	needStack(t)
	start := func(tenant string, header ...string) response {
		b := longProcessing(uniqueID(t))
		b["userLocation"], b["dataClassification"] = "JP", "pii" // refused by residency (422) once past the tenant checks
		if tenant != "" {
			b["tenant"] = tenant
		}
		return do(t, "POST", stack.ClientURL+"/v1/workflows", b, header...)
	}
	for _, tt := range []struct {
		name, tenant string
		header       []string
		status       int
	}{
		{"the credential's own tenant", "acme", asAcme, 422},
		{"another tenant", "globex", asAcme, 403},
		{"anonymous naming a tenant", "acme", []string{"Authorization", ""}, 403},
		{"anonymous naming none", "", []string{"Authorization", ""}, 422},
		{"upper case", "Acme", asAcme, 400},
		{"a trailing space", "northwind ", asNorthwind, 400},
		{"a zero-width joiner", "north\u200dwind", asNorthwind, 400},
		{"an unknown key", "", []string{"Authorization", "Bearer dev-client-nobody"}, 401},
		{"another scheme", "", []string{"Authorization", "Basic ZGV2OmRldg=="}, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := start(tt.tenant, tt.header...)
			checkProblem(t, r, tt.status)
			if tt.status == 401 && !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("401 with WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing("a:b"), "Authorization", ""); r.Status != 400 {
		t.Fatalf("an anonymous id with ':' (a tenant's id space): %d %s", r.Status, r.Body)
	}
}

// TestSignalsAndQueriesAreChecked: Temporal's own query and signal names
// are refused, and a signal that says it carries data its workflow's region
// may not hold is refused before anything is sent.
func TestSignalsAndQueriesAreChecked(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing(id), asAcme...); r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	defer do(t, "POST", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id)+"/cancel", nil, asAcme...)
	base := stack.ClientURL + "/v1/workflows/" + url.PathEscape(id)
	checkProblem(t, do(t, "GET", base+"/queries/__stack_trace", nil, asAcme...), 400)
	checkProblem(t, do(t, "POST", base+"/signals/__cancel", nil, asAcme...), 400)
	german := map[string]any{"input": map[string]any{"text": "german pii"}, "userLocation": "DE", "dataClassification": "pii"}
	p := checkProblem(t, do(t, "POST", base+"/signals/note", german, asAcme...), 422)
	if !strings.Contains(p["detail"].(string), "us-east") {
		t.Fatalf("refusal does not name the region: %v", p)
	}
	checkProblem(t, do(t, "GET", base+"/queries/getNotes?userLocation=DE&dataClassification=pii", nil, asAcme...), 422)
	american := map[string]any{"input": map[string]any{"text": "us pii"}, "userLocation": "US", "dataClassification": "pii"}
	if r := do(t, "POST", base+"/signals/note", american, asAcme...); r.Status != 202 {
		t.Fatalf("a lawful signal: %d %s", r.Status, r.Body)
	}
	poll.Until(t, 30*time.Second, "the lawful note, and only it, to be kept", func() bool {
		q := do(t, "GET", base+"/queries/getNotes", nil, asAcme...)
		if q.Status != 200 {
			t.Fatalf("getNotes: %d %s", q.Status, q.Body)
		}
		var notes struct{ Result []string }
		_ = json.Unmarshal(q.Body, &notes)
		if strings.Contains(string(q.Body), "german") {
			t.Fatalf("the refused signal was delivered: %s", q.Body)
		}
		return len(notes.Result) == 1 && notes.Result[0] == "us pii"
	})
}
