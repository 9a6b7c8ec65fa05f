package gateway_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

func processing(id string, items, delayMs int) map[string]any {
	return map[string]any{
		"workflowType": "DataProcessing", "workflowId": id,
		"userLocation": "US", "dataClassification": "internal", "priority": "low",
		"input": map[string]any{"items": items, "itemDelayMs": delayMs},
	}
}

func TestQueryAndCancelALongWorkflow(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	r := do(t, "POST", stack.ClientURL+"/v1/workflows", processing(id, 1000, 1000))
	if r.Status != 201 || r.json(t)["taskQueue"] != "us-east-DataProcessing-batch" {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	base := stack.ClientURL + "/v1/workflows/" + url.PathEscape(id)
	poll.Until(t, 20*time.Second, "status processing", func() bool {
		q := do(t, "GET", base+"/queries/getStatus", nil)
		return q.Status == 200 && q.json(t)["result"] == "processing"
	})
	p := do(t, "GET", base+"/queries/getProgress", nil)
	if progress, ok := p.json(t)["result"].(float64); p.Status != 200 || !ok || progress < 0 || progress >= 100 {
		t.Fatalf("getProgress: %d %s", p.Status, p.Body)
	}
	if c := do(t, "POST", base+"/cancel", nil); c.Status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", c.Status, c.Body)
	}
	d := waitStatus(t, id, "CANCELED")
	if d["region"] != "us-east" {
		t.Fatalf("describe: %v", d)
	}
}

func TestSignalReachesTheWorkflow(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", processing(id, 1000, 1000)); r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	base := stack.ClientURL + "/v1/workflows/" + url.PathEscape(id)
	s := do(t, "POST", base+"/signals/ping", map[string]any{"input": map[string]any{"note": "hello"}})
	if s.Status != http.StatusAccepted {
		t.Fatalf("signal: %d %s", s.Status, s.Body)
	}
	if bad := do(t, "POST", base+"/signals/ping", `{"input":`); bad.Status != 400 {
		t.Fatalf("malformed signal body: %d %s", bad.Status, bad.Body)
	}
	if c := do(t, "POST", base+"/cancel", nil); c.Status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", c.Status, c.Body)
	}
}

func TestUnknownWorkflowIs404Everywhere(t *testing.T) {
	needStack(t)
	base := stack.ClientURL + "/v1/workflows/no-such-" + uniqueID(t)
	for _, c := range []struct{ method, url string }{
		{"GET", base},
		{"GET", base + "/queries/getStatus"},
		{"POST", base + "/signals/ping"},
		{"POST", base + "/cancel"},
	} {
		checkProblem(t, do(t, c.method, c.url, nil), 404)
	}
}

func TestAdminAuthAndRegions(t *testing.T) {
	needStack(t)
	url := stack.AdminURL + "/admin/v1/regions"
	checkProblem(t, do(t, "GET", url, nil), 401)
	checkProblem(t, do(t, "GET", url, nil, "Authorization", "Bearer wrong"), 401)
	checkProblem(t, do(t, "POST", stack.AdminURL+"/admin/v1/regions/eu-west/drain", nil, "Authorization", "Bearer dev-viewer"), 403)
	r := do(t, "GET", url, nil, "Authorization", "Bearer dev-viewer")
	if r.Status != 200 {
		t.Fatalf("regions: %d %s", r.Status, r.Body)
	}
	list, _ := r.json(t)["regions"].([]any)
	if len(list) != 4 {
		t.Fatalf("want 4 regions: %s", r.Body)
	}
	for _, x := range list {
		m := x.(map[string]any)
		if m["state"] != "active" || m["breaker"] != "closed" || m["healthy"] != true || m["namespace"] == "" {
			t.Fatalf("region view: %v", m)
		}
	}
	checkProblem(t, do(t, "POST", stack.AdminURL+"/admin/v1/regions/mars/drain", nil, "Authorization", "Bearer dev-operator"), 404)
}

func TestDrainMovesNewWorkAndRestoreBringsItBack(t *testing.T) {
	needStack(t)
	auth := []string{"Authorization", "Bearer dev-operator"}
	if r := do(t, "POST", stack.AdminURL+"/admin/v1/regions/eu-west/drain", nil, auth...); r.Status != 200 || r.json(t)["state"] != "drained" {
		t.Fatalf("drain: %d %s", r.Status, r.Body)
	}
	t.Cleanup(func() { do(t, "POST", stack.AdminURL+"/admin/v1/regions/eu-west/restore", nil, auth...) })
	id := uniqueID(t)
	r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "DE", "pii"))
	if r.Status != 201 || r.json(t)["region"] != "eu-central" {
		t.Fatalf("drained home: %d %s", r.Status, r.Body)
	}
	if r := do(t, "POST", stack.AdminURL+"/admin/v1/regions/eu-central/drain", nil, auth...); r.Status != 200 {
		t.Fatalf("drain eu-central: %d %s", r.Status, r.Body)
	}
	refused := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t)+"-b", "DE", "pii"))
	if p := checkProblem(t, refused, 503); p["decision"] == nil {
		t.Fatalf("a routing refusal without its decision: %v", p)
	}
	if refused.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	// Draining stops new work only: a retry of an id eu-central already
	// holds still finds it there, with no region open to new work.
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "DE", "pii")); r.Status != 200 || r.json(t)["region"] != "eu-central" {
		t.Fatalf("retry of an id held by a drained region: %d %s", r.Status, r.Body)
	}
	for _, name := range []string{"eu-west", "eu-central"} {
		if r := do(t, "POST", stack.AdminURL+"/admin/v1/regions/"+name+"/restore", nil, auth...); r.Status != 200 || r.json(t)["state"] != "active" {
			t.Fatalf("restore %s: %d %s", name, r.Status, r.Body)
		}
	}
	back := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t)+"-c", "DE", "pii"))
	if back.Status != 201 || back.json(t)["region"] != "eu-west" {
		t.Fatalf("after restore: %d %s", back.Status, back.Body)
	}
}

func TestExplainChangesNothing(t *testing.T) {
	needStack(t)
	url := stack.AdminURL + "/admin/v1/route/explain"
	auth := []string{"Authorization", "Bearer dev-viewer"}
	r := do(t, "POST", url, booking("explain-only", "DE", "pii"), auth...)
	if r.Status != 200 {
		t.Fatalf("explain: %d %s", r.Status, r.Body)
	}
	d := r.json(t)["decision"].(map[string]any)
	if d["region"] != "eu-west" || len(d["reasons"].([]any)) != 4 {
		t.Fatalf("decision: %s", r.Body)
	}
	jp := do(t, "POST", url, booking("explain-only", "JP", "pii"), auth...)
	if jp.Status != 200 || jp.json(t)["allowed"] != false {
		t.Fatalf("explain JP pii: %d %s", jp.Status, jp.Body)
	}
	for region := range stack.Direct {
		if presentIn(t, region, "explain-only") {
			t.Fatalf("explain started a workflow in %s", region)
		}
	}
}

func TestHealthReadyMetricsAndConfig(t *testing.T) {
	needStack(t)
	for _, base := range []string{stack.ClientURL, stack.AdminURL} {
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			if r := do(t, "GET", base+path, nil); r.Status != 200 {
				t.Fatalf("%s%s: %d %s", base, path, r.Status, r.Body)
			}
		}
	}
	r := do(t, "GET", stack.AdminURL+"/admin/v1/config", nil, "Authorization", "Bearer dev-viewer")
	if r.Status != 200 || r.Header.Get("ETag") == "" || len(r.Body) == 0 {
		t.Fatalf("config: %d %v", r.Status, r.Header)
	}
}

func TestFailedBookingsReportWhy(t *testing.T) {
	needStack(t)
	tests := []struct{ name, property, card, want string }{
		{"declined card", "p-1", "tok_declined", "declined"},
		{"unavailable property is refunded", "p-unavailable", "tok_visa", "refunded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uniqueID(t)
			b := booking(id, "DE", "pii")
			b["input"] = map[string]any{"propertyId": tt.property, "nights": 1, "amountCents": 100, "cardToken": tt.card}
			if r := do(t, "POST", stack.ClientURL+"/v1/workflows", b); r.Status != 201 {
				t.Fatalf("start: %d %s", r.Status, r.Body)
			}
			d := waitStatus(t, id, "FAILED")
			if f, _ := d["failure"].(string); !strings.Contains(f, tt.want) || strings.Contains(f, "scheduledEventID") {
				t.Fatalf("failure %q should say %q plainly", f, tt.want)
			}
		})
	}
}
