package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

func TestDrillReroutesAndRestoresByItself(t *testing.T) {
	needStack(t)
	operator := []string{"Authorization", "Bearer dev-operator"}
	viewer := []string{"Authorization", "Bearer dev-viewer"}
	url := stack.AdminURL + "/admin/v1/drills"
	body := map[string]any{"region": "eu-west", "durationSeconds": 6}

	checkProblem(t, do(t, "POST", url, body), 401)
	checkProblem(t, do(t, "POST", url, body, "Authorization", "Bearer wrong"), 401)
	checkProblem(t, do(t, "POST", url, body, viewer...), 403)
	checkProblem(t, do(t, "POST", url, map[string]any{"region": "mars", "durationSeconds": 5}, operator...), 404)
	checkProblem(t, do(t, "POST", url, map[string]any{"region": "eu-west", "durationSeconds": 0}, operator...), 400)

	created := do(t, "POST", url, body, operator...)
	if created.Status != 201 {
		t.Fatalf("drill: %d %s", created.Status, created.Body)
	}
	drill := created.json(t)
	id := drill["id"].(string)
	end, err := time.Parse(time.RFC3339Nano, drill["end"].(string))
	if err != nil {
		t.Fatal(err)
	}
	checkProblem(t, do(t, "POST", url, body, operator...), 409)

	const sent = 5
	var ids []string
	for range sent {
		id := uniqueID(t)
		r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "DE", "pii"))
		if r.Status != 201 || r.json(t)["region"] != "eu-central" {
			t.Fatalf("during the drill German pii must go to eu-central: %d %s", r.Status, r.Body)
		}
		ids = append(ids, id)
	}
	if time.Now().After(end) {
		t.Fatal("the drill ended before the test's traffic was sent; the counts below would not be comparable")
	}
	for _, id := range ids {
		for _, region := range []string{"eu-west", "us-east", "us-west"} {
			if presentIn(t, region, id) {
				t.Fatalf("%s reached %s during the drill", id, region)
			}
		}
	}
	poll.Until(t, 30*time.Second, "eu-west to come back by itself", func() bool {
		r := do(t, "GET", stack.AdminURL+"/admin/v1/regions", nil, viewer...)
		return strings.Contains(string(r.Body), `"name":"eu-west","endpoint"`) && !strings.Contains(string(r.Body), id)
	})
	after := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t), "DE", "pii"))
	if after.json(t)["region"] != "eu-west" {
		t.Fatalf("after the drill German pii goes home again: %s", after.Body)
	}
	rep := do(t, "GET", url+"/"+id, nil, viewer...)
	if rep.Status != 200 {
		t.Fatalf("report: %d %s", rep.Status, rep.Body)
	}
	m := rep.json(t)
	if m["status"] != "completed" || m["rerouted"] != float64(sent) || m["refused"] != float64(0) || m["errors"] != float64(0) {
		t.Fatalf("report counts: %s", rep.Body)
	}
	during := m["latency"].(map[string]any)["during"].(map[string]any)
	if during["requests"].(float64) < sent || during["p99Ms"].(float64) <= 0 {
		t.Fatalf("report latency: %v", during)
	}
	checkProblem(t, do(t, "GET", url+"/no-such-drill", nil, viewer...), 404)
}

func TestDrillThatWouldStrandResidentDataNeedsForce(t *testing.T) {
	needStack(t)
	operator := []string{"Authorization", "Bearer dev-operator"}
	if r := do(t, "POST", stack.AdminURL+"/admin/v1/regions/eu-central/drain", nil, operator...); r.Status != 200 {
		t.Fatalf("drain: %d", r.Status)
	}
	t.Cleanup(func() { do(t, "POST", stack.AdminURL+"/admin/v1/regions/eu-central/restore", nil, operator...) })
	p := checkProblem(t, do(t, "POST", stack.AdminURL+"/admin/v1/drills", map[string]any{"region": "eu-west", "durationSeconds": 1}, operator...), 409)
	refused, _ := p["wouldRefuse"].([]any)
	var names []string
	for _, r := range refused {
		names = append(names, r.(string))
	}
	for _, want := range []string{"EU", "GB", "CH"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Fatalf("wouldRefuse %v lacks %s", names, want)
		}
	}
	forced := do(t, "POST", stack.AdminURL+"/admin/v1/drills", map[string]any{"region": "eu-west", "durationSeconds": 1, "force": true}, operator...)
	if forced.Status != 201 || forced.json(t)["forced"] != true {
		t.Fatalf("forced drill: %d %s", forced.Status, forced.Body)
	}
	drillID := forced.json(t)["id"].(string)
	t.Cleanup(func() {
		// Later tests need eu-west back: wait out the one-second drill.
		poll.Until(t, 30*time.Second, "the forced drill to end", func() bool {
			r := do(t, "GET", stack.AdminURL+"/admin/v1/regions", nil, "Authorization", "Bearer dev-viewer")
			return !strings.Contains(string(r.Body), drillID)
		})
	})
	r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t), "DE", "pii"))
	if r.Status != 503 && r.Status != 201 { // 201 only if the 1s drill already ended
		t.Fatalf("during a forced drill with eu-central drained: %d %s", r.Status, r.Body)
	}
	if r.Status == 201 && r.json(t)["region"] != "eu-west" {
		t.Fatalf("German pii outside eu-west: %s", r.Body)
	}
}
