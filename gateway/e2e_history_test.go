package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/regiongate/regiongate/workflows/codec"
)

// TestHistoryShowsDecodedPayloads: the region stores the payloads
// encrypted; the history the gateway answers shows them as the JSON the
// caller sent, and only to the workflow's own tenant.
func TestHistoryShowsDecodedPayloads(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	start := processing(id, 2, 10)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", start, asAcme...); r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	if r := do(t, "POST", workflowURL(id)+"/signals/note", map[string]any{"input": map[string]any{"text": "a note"}}, asAcme...); r.Status != 202 {
		t.Fatalf("signal: %d %s", r.Status, r.Body)
	}
	waitStatusAs(t, id, "COMPLETED", asAcme...)

	stored := storedInput(t, "us-east", "acme:"+id)
	if enc := string(stored.GetMetadata()["encoding"]); enc != codec.EncodingEncrypted {
		t.Fatalf("the region stores the input as %q, want it encrypted", enc)
	}
	h := do(t, "GET", workflowURL(id)+"/history", nil, asAcme...)
	if h.Status != 200 || h.json(t)["workflowId"] != id || h.json(t)["region"] != "us-east" {
		t.Fatalf("history: %d %s", h.Status, h.Body)
	}
	started := events(t, h, "workflowExecutionStartedEventAttributes")
	if len(started) != 1 || !sameJSON(t, started[0]["input"], []any{start["input"]}) {
		t.Fatalf("the started event's input is not the JSON sent: %v", started)
	}
	signalled := events(t, h, "workflowExecutionSignaledEventAttributes")
	if len(signalled) != 1 || !sameJSON(t, signalled[0]["input"], []any{map[string]any{"text": "a note"}}) {
		t.Fatalf("the signal's input: %v", signalled)
	}
	completed := events(t, h, "workflowExecutionCompletedEventAttributes")
	if len(completed) != 1 || !sameJSON(t, completed[0]["result"], []any{map[string]any{"processed": 2}}) {
		t.Fatalf("the result: %v", completed)
	}
	if strings.Contains(string(h.Body), codec.EncodingEncrypted) {
		t.Fatalf("the history still holds encrypted payloads: %s", h.Body)
	}

	theirs := checkProblem(t, do(t, "GET", workflowURL(id)+"/history", nil, asGlobex...), 404)
	none := checkProblem(t, do(t, "GET", workflowURL(id+"-nobody")+"/history", nil, asGlobex...), 404)
	if theirs["type"] != none["type"] {
		t.Fatalf("another tenant's history answers %v, an unknown id %v", theirs, none)
	}
}

// storedInput is the workflow's input payload as the region stores it,
// read without the codec.
func storedInput(t *testing.T, region, temporalID string) *commonpb.Payload {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := stack.Direct[region].WorkflowService().GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: stack.Temporal[region].Namespaces[0], Execution: &commonpb.WorkflowExecution{WorkflowId: temporalID},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetHistory().GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
}

func sameJSON(t *testing.T, got, want any) bool {
	t.Helper()
	a, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
