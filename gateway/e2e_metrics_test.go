package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	r := do(t, "GET", url+"/metrics", nil)
	if r.Status != 200 {
		t.Fatalf("/metrics: %d", r.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// find returns the value of the first sample of family whose labels
// include every pair in want, or -1.
func find(fams map[string]*dto.MetricFamily, family string, want map[string]string) float64 {
	f, ok := fams[family]
	if !ok {
		return -1
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestMetricsAfterKnownTraffic(t *testing.T) {
	needStack(t)
	before := scrape(t, stack.ClientURL)
	base := func(fam string, labels map[string]string) float64 { return max(0, find(before, fam, labels)) }
	started := map[string]string{"route": "/v1/workflows", "method": "POST", "status": "201", "region": "eu-west", "classification": "pii"}
	refused := map[string]string{"route": "/v1/workflows", "method": "POST", "status": "422", "classification": "pii"}
	decided := map[string]string{"region": "eu-west", "classification": "pii", "home": "true"}
	noLawful := map[string]string{"reason": "no_lawful_region", "classification": "pii"}

	for range 3 {
		if r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t), "DE", "pii")); r.Status != 201 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
	}
	do(t, "POST", stack.ClientURL+"/v1/workflows", booking(uniqueID(t), "JP", "pii"))

	after := scrape(t, stack.ClientURL)
	checks := []struct {
		family string
		labels map[string]string
		delta  float64
	}{
		{"regiongate_http_requests_total", started, 3},
		{"regiongate_http_request_duration_seconds", started, 3},
		{"regiongate_http_requests_total", refused, 1},
		{"regiongate_routing_decisions_total", decided, 3},
		{"regiongate_routing_refusals_total", noLawful, 1},
	}
	for _, c := range checks {
		if got := find(after, c.family, c.labels) - base(c.family, c.labels); got != c.delta {
			t.Errorf("%s%v grew by %v, want %v", c.family, c.labels, got, c.delta)
		}
	}
	for _, region := range []string{"us-east", "us-west", "eu-west", "eu-central"} {
		for _, fam := range []string{"regiongate_region_breaker_state", "regiongate_region_healthy", "regiongate_region_drained"} {
			if find(after, fam, map[string]string{"region": region}) < 0 {
				t.Errorf("%s has no sample for %s", fam, region)
			}
		}
	}
	if find(after, "regiongate_config_info", map[string]string{"version": stack.Config.Version()}) != 1 {
		t.Error("regiongate_config_info does not carry the config version")
	}
	if find(after, "regiongate_region_health_check_duration_seconds", map[string]string{"region": "eu-west", "result": "pass"}) < 1 {
		t.Error("no health-check latency recorded for eu-west")
	}
}

func TestTransitionAndDrillMetrics(t *testing.T) {
	needStack(t)
	operator := []string{"Authorization", "Bearer dev-operator"}
	drained := map[string]string{"region": "us-west", "what": "drain", "from": "active", "to": "drained"}
	before := max(0, find(scrape(t, stack.ClientURL), "regiongate_region_transitions_total", drained))
	if r := do(t, "POST", stack.AdminURL+"/admin/v1/regions/us-west/drain", nil, operator...); r.Status != 200 {
		t.Fatalf("drain: %d", r.Status)
	}
	if r := do(t, "POST", stack.AdminURL+"/admin/v1/regions/us-west/restore", nil, operator...); r.Status != 200 {
		t.Fatalf("restore: %d", r.Status)
	}
	if got := find(scrape(t, stack.ClientURL), "regiongate_region_transitions_total", drained); got != before+1 {
		t.Fatalf("drain transitions went from %v to %v", before, got)
	}
	d := do(t, "POST", stack.AdminURL+"/admin/v1/drills", map[string]any{"region": "us-west", "durationSeconds": 3}, operator...)
	if d.Status != 201 {
		t.Fatalf("drill: %d %s", d.Status, d.Body)
	}
	id := d.json(t)["id"].(string)
	if find(scrape(t, stack.ClientURL), "regiongate_drill_active_seconds", map[string]string{"region": "us-west", "drill": id}) < 0 {
		t.Error("no regiongate_drill_active_seconds sample for the running drill")
	}
	poll.Until(t, 30*time.Second, "the drill to end", func() bool {
		return find(scrape(t, stack.ClientURL), "regiongate_drill_active_seconds", map[string]string{"drill": id}) < 0
	})
}

// TestMetricsStayBoundedUnderInventedInput: methods, paths and tenant
// names are the client's to invent; none of them may become a label value,
// or every request could add a series that /metrics keeps forever.
func TestMetricsStayBoundedUnderInventedInput(t *testing.T) {
	needStack(t)
	invent := func(n, from int) {
		for i := from; i < from+n; i++ {
			req, err := http.NewRequest(fmt.Sprintf("M%05d", i), fmt.Sprintf("%s/v1/workflows/x-%d/y-%d", stack.ClientURL, i, i), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Fatalf("invented method %s answered %d", req.Method, resp.StatusCode)
			}
			body := booking(uniqueID(t), "JP", "pii")
			body["tenant"] = fmt.Sprintf("tenant-%05d", i)
			do(t, "POST", stack.ClientURL+"/v1/workflows", body)
			do(t, "GET", fmt.Sprintf("%s/no/such/path/%d", stack.ClientURL, i), nil)
		}
	}
	series := func() int {
		n := 0
		for _, f := range scrape(t, stack.ClientURL) {
			n += len(f.GetMetric())
		}
		return n
	}
	invent(20, 0) // every kind of label value these requests can make exists now
	before := series()
	invent(1000, 20)
	if after := series(); after != before {
		t.Fatalf("/metrics grew from %d to %d series under invented methods, paths and tenants", before, after)
	}
}
