package gateway_test

import (
	"strings"
	"testing"
)

func TestConfigEditFlow(t *testing.T) {
	needStack(t)
	url := stack.AdminURL + "/admin/v1/config"
	viewer := []string{"Authorization", "Bearer dev-viewer"}
	compliance := []string{"Authorization", "Bearer dev-compliance"}

	got := do(t, "GET", url, nil, viewer...)
	etag := got.Header.Get("ETag")
	if got.Status != 200 || etag == "" {
		t.Fatalf("GET config: %d %q", got.Status, etag)
	}
	original := string(got.Body)
	if r := do(t, "GET", url, nil, compliance...); r.Status != 200 || r.Header.Get("ETag") != etag {
		t.Fatalf("compliance reading the config it edits: %d", r.Status)
	}
	withJapan := strings.Replace(original, "residency: [EU, GB, CH]\n    failover: [eu-central]", "residency: [EU, GB, CH, JP]\n    failover: [eu-central]", 1)
	if withJapan == original {
		t.Fatal("test edit did not apply")
	}

	checkProblem(t, do(t, "PUT", url, withJapan, viewer...), 403)
	checkProblem(t, do(t, "PUT", url, withJapan, compliance...), 428)
	checkProblem(t, do(t, "PUT", url, withJapan, append(compliance, "If-Match", `"not-the-version"`)...), 412)

	invalid := strings.Replace(original, "failover: [eu-central]", "failover: [eu-centre]", 1)
	bad := checkProblem(t, do(t, "PUT", url, invalid, append(compliance, "If-Match", etag)...), 400)
	if !strings.Contains(bad["detail"].(string), "eu-centre") || bad["problems"] == nil {
		t.Fatalf("invalid config problem: %v", bad)
	}
	if again := do(t, "GET", url, nil, viewer...); again.Header.Get("ETag") != etag {
		t.Fatal("a refused config changed the config in force")
	}
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t), "JP", "pii")); r.Status != 422 {
		t.Fatalf("before the edit JP pii must be refused: %d", r.Status)
	}

	put := do(t, "PUT", url, withJapan, append(compliance, "If-Match", etag)...)
	if put.Status != 200 || put.Header.Get("ETag") == etag {
		t.Fatalf("PUT: %d %s", put.Status, put.Body)
	}
	t.Cleanup(func() {
		r := do(t, "PUT", url, original, append(compliance, "If-Match", put.Header.Get("ETag"))...)
		if r.Status != 200 {
			t.Errorf("restoring the config: %d %s", r.Status, r.Body)
		}
	})
	if s := put.json(t)["summary"].(string); !strings.Contains(s, "1 countries") {
		t.Fatalf("summary %q", s)
	}
	r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t), "JP", "pii"))
	if r.Status != 201 || r.json(t)["region"] != "eu-west" {
		t.Fatalf("after the edit JP pii goes to eu-west: %d %s", r.Status, r.Body)
	}
	checkProblem(t, do(t, "PUT", url, withJapan, append(compliance, "If-Match", etag)...), 412)

	a := do(t, "GET", stack.AdminURL+"/admin/v1/audit", nil, viewer...)
	entries, _ := a.json(t)["entries"].([]any)
	found := false
	for _, e := range entries {
		m := e.(map[string]any)
		found = found || (m["action"] == "config.replace" && m["actor"] == "dev.compliance" && strings.Contains(m["detail"].(string), "newly allowed"))
	}
	if a.Status != 200 || !found {
		t.Fatalf("audit has no config.replace by dev-compliance: %s", a.Body)
	}
}
