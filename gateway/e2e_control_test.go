package gateway_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// workflowURL is the client API's URL of a workflow id.
func workflowURL(id string) string {
	return stack.ClientURL + "/v1/workflows/" + url.PathEscape(id)
}

const problemBase = "https://regiongate.dev/problems/"

// events finds the history events that carry the named attributes.
func events(t *testing.T, h response, attributes string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range h.json(t)["events"].([]any) {
		if a, ok := e.(map[string]any)[attributes].(map[string]any); ok {
			out = append(out, a)
		}
	}
	return out
}

func TestTerminateEndsTheRunWithItsReason(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing(id), asAcme...); r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	checkProblem(t, do(t, "POST", workflowURL(id)+"/terminate", map[string]any{"reason": strings.Repeat("x", 1025)}, asAcme...), 400)
	checkProblem(t, do(t, "POST", workflowURL(id)+"/terminate", map[string]any{"reason": "not yours"}, asGlobex...), 404)
	r := do(t, "POST", workflowURL(id)+"/terminate", map[string]any{"reason": "stuck on an item"}, asAcme...)
	if r.Status != 202 {
		t.Fatalf("terminate: %d %s", r.Status, r.Body)
	}
	waitStatusAs(t, id, "TERMINATED", asAcme...)
	h := do(t, "GET", workflowURL(id)+"/history", nil, asAcme...)
	term := events(t, h, "workflowExecutionTerminatedEventAttributes")
	if h.Status != 200 || len(term) != 1 || term[0]["reason"] != "stuck on an item" {
		t.Fatalf("the history does not show the reason: %d %s", h.Status, h.Body)
	}
	again := checkProblem(t, do(t, "POST", workflowURL(id)+"/terminate", nil, asAcme...), 409)
	if again["type"] != problemBase+"workflow-closed" {
		t.Fatalf("terminating a closed workflow: %v", again)
	}
}

func TestUpdateAnswersItsResultOrTheRejection(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", longProcessing(id), asAcme...); r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	defer do(t, "POST", workflowURL(id)+"/cancel", nil, asAcme...)
	update := func(ms int, header ...string) response {
		return do(t, "POST", workflowURL(id)+"/updates/setItemDelay", map[string]any{"input": map[string]any{"itemDelayMs": ms}}, header...)
	}
	for _, c := range []struct{ set, previous int }{{500, 1000}, {200, 500}} {
		r := update(c.set, asAcme...)
		if r.Status != 200 || r.json(t)["result"] != float64(c.previous) || r.json(t)["updateId"] == "" {
			t.Fatalf("setItemDelay %d: %d %s, want the previous %d", c.set, r.Status, r.Body, c.previous)
		}
	}
	// The same Idempotency-Key reaches the same update: its outcome, not a
	// second run (which would answer 300).
	key := append(slices.Clone(asAcme), "Idempotency-Key", "delay-"+id)
	for range 2 {
		if r := update(300, key...); r.Status != 200 || r.json(t)["result"] != float64(200) || r.json(t)["updateId"] != "delay-"+id {
			t.Fatalf("update with an Idempotency-Key: %d %s", r.Status, r.Body)
		}
	}
	rejected := checkProblem(t, update(-1, asAcme...), 422)
	if rejected["type"] != problemBase+"update-rejected" || !strings.Contains(rejected["detail"].(string), "itemDelayMs must be between") || rejected["updateId"] == "" {
		t.Fatalf("negative delay: %v", rejected)
	}
	unknown := checkProblem(t, do(t, "POST", workflowURL(id)+"/updates/noSuchUpdate", nil, asAcme...), 422)
	if unknown["type"] != problemBase+"update-rejected" {
		t.Fatalf("unknown update name: %v", unknown)
	}
	checkProblem(t, do(t, "POST", workflowURL(id)+"/updates/__temporal_workflow_metadata", nil, asAcme...), 400)
	checkProblem(t, update(100, asGlobex...), 404)
	// The rejected update left nothing in the history; the accepted ones did.
	h := do(t, "GET", workflowURL(id)+"/history", nil, asAcme...)
	if n := len(events(t, h, "workflowExecutionUpdateAcceptedEventAttributes")); n != 3 {
		t.Fatalf("%d accepted updates in the history, want 3", n)
	}
}

// TestUpdateWaitIsBounded: a workflow nobody runs (no worker polls its
// queue) never takes the update up; the answer comes after the region's
// call timeout, says so, and names the update to retry with.
func TestUpdateWaitIsBounded(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := stack.Direct["us-east"].ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "acme:" + id, TaskQueue: "nobody-polls-this"}, "DataProcessing")
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Direct["us-east"].TerminateWorkflow(context.Background(), "acme:"+id, "", "test over")
	// The answer itself is the bound: the gateway sends update-timeout
	// only when its own wait (the region's call timeout) ran out, before
	// any deadline of the caller's. No clock is read here.
	p := checkProblem(t, do(t, "POST", workflowURL(id)+"/updates/setItemDelay", map[string]any{"input": map[string]any{"itemDelayMs": 5}}, asAcme...), 504)
	if p["type"] != problemBase+"update-timeout" || p["updateId"] == "" {
		t.Fatalf("%v", p)
	}
}

// swsBody is a signal-with-start of a long DataProcessing run with a note.
func swsBody(id, location, class, note string) map[string]any {
	b := longProcessing(id)
	b["userLocation"], b["dataClassification"] = location, class
	b["signalName"], b["signalInput"] = "note", map[string]any{"text": note}
	return b
}

func notes(t *testing.T, id string, header ...string) []string {
	t.Helper()
	r := do(t, "GET", workflowURL(id)+"/queries/getNotes", nil, header...)
	if r.Status != 200 {
		t.Fatalf("getNotes: %d %s", r.Status, r.Body)
	}
	var out []string
	for _, n := range r.json(t)["result"].([]any) {
		out = append(out, n.(string))
	}
	return out
}

func TestSignalWithStartStartsThenSignals(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	sws := stack.ClientURL + "/v1/workflows/signal-with-start"
	first := do(t, "POST", sws, swsBody(id, "US", "internal", "first"), asAcme...)
	if first.Status != 201 || first.json(t)["region"] != "us-east" || first.json(t)["workflowId"] != id {
		t.Fatalf("first signal-with-start: %d %s", first.Status, first.Body)
	}
	second := do(t, "POST", sws, swsBody(id, "US", "internal", "second"), asAcme...)
	if second.Status != 200 || second.json(t)["runId"] != first.json(t)["runId"] {
		t.Fatalf("second signal-with-start: %d %s, want 200 with run %v", second.Status, second.Body, first.json(t)["runId"])
	}
	poll.Until(t, 20*time.Second, "both notes", func() bool { return slices.Equal(notes(t, id, asAcme...), []string{"first", "second"}) })

	// Placed like a start: German personal data stays in the EU.
	de := uniqueID(t) + "-de"
	if r := do(t, "POST", sws, swsBody(de, "DE", "pii", "hallo"), asAcme...); r.Status != 201 || r.json(t)["region"] != "eu-west" {
		t.Fatalf("German pii: %d %s", r.Status, r.Body)
	}
	do(t, "POST", workflowURL(de)+"/cancel", nil, asAcme...)

	noName := swsBody(uniqueID(t), "US", "internal", "x")
	delete(noName, "signalName")
	checkProblem(t, do(t, "POST", sws, noName, asAcme...), 400)
	builtin := swsBody(uniqueID(t), "US", "internal", "x")
	builtin["signalName"] = "__stack_trace"
	checkProblem(t, do(t, "POST", sws, builtin, asAcme...), 400)

	if r := do(t, "POST", workflowURL(id)+"/terminate", nil, asAcme...); r.Status != 202 {
		t.Fatalf("terminate: %d %s", r.Status, r.Body)
	}
	waitStatusAs(t, id, "TERMINATED", asAcme...)
	closed := checkProblem(t, do(t, "POST", sws, swsBody(id, "US", "internal", "late"), asAcme...), 409)
	if closed["type"] != problemBase+"workflow-closed" {
		t.Fatalf("signal-with-start of a closed workflow: %v", closed)
	}
	update := checkProblem(t, do(t, "POST", workflowURL(id)+"/updates/setItemDelay", map[string]any{"input": map[string]any{"itemDelayMs": 1}}, asAcme...), 409)
	if update["type"] != problemBase+"workflow-closed" {
		t.Fatalf("update of a closed workflow: %v", update)
	}
}
