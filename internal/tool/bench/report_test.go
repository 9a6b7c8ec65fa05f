package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sampleReport() *Report {
	f := 0.05
	r := &Report{
		Date: "2026-11-25", Machine: Machine{Cores: 2, MemoryGiB: 23.4, CPU: "AMD EPYC", Go: "go1.26.8", OS: "linux", Arch: "amd64"},
		Target: "self-contained", Commands: []string{"go test -bench . ./router/", "bin/regiongate bench --self-contained"},
		Settings: Settings{Concurrency: 16, DurationSeconds: 10, WarmupSeconds: 1, Rounds: 2, MaxRequests: 200000, Workload: "DataProcessing"},
		Modes: []Summary{
			{Mode: ModeDirect, Requests: 1000, RPS: 100, P50Ms: 150, P99Ms: 300, RoundRPS: []float64{100, 100}},
			{Mode: ModeGateway, Requests: 980, Errors: 1, RPS: 96, P50Ms: 151, P99Ms: 300.5, FirstError: "gateway answered 503", RoundRPS: []float64{90, 102}},
			{Mode: ModeNaive, Requests: 900, RPS: 90, P99Ms: 400},
		},
		Overheads: []Summary{{Mode: ModeDirect, Requests: 1000, P99Ms: 0.3}, {Mode: ModeGateway, Requests: 980, P50Ms: 0.5, P99Ms: 0.9},
			{Mode: ModeHTTPFloor, Requests: 990, P50Ms: 0.2, P99Ms: 0.7}},
		Failover:    &FailoverResult{Home: "eu-west", Fallback: "eu-central", Rate: 50, FailoverSeconds: &f, InFlightErrors: 1, ClientErrors: 1},
		Propagation: &PropagationResult{Writes: 100, Replicas: 2, PollMs: 1, P99Ms: 20},
		Micro: []GoBench{{Pkg: "github.com/regiongate/regiongate/router", Name: "Decide/all-up",
			Runs: []map[string]float64{{"ns/op": 63, "B/op": 0, "allocs/op": 0}}}},
	}
	r.Finish()
	return r
}

func TestFinishFillsHeadlinesAndGoals(t *testing.T) {
	r := sampleReport()
	if r.GatewayDirectRatio != 0.96 || r.AddedP99Ms != 0.5 || r.DirectRPS != 100 || r.NaiveRPS != 90 {
		t.Fatalf("ratio %v added %v direct %v naive %v", r.GatewayDirectRatio, r.AddedP99Ms, r.DirectRPS, r.NaiveRPS)
	}
	if *r.GatewayOverheadP99Ms != 0.9 || *r.FailoverClientErrors != 0 || *r.PropagationP99Ms != 20 {
		t.Fatalf("overhead %v failover errors %v propagation %v", *r.GatewayOverheadP99Ms, *r.FailoverClientErrors, *r.PropagationP99Ms)
	}
	if f := r.HTTPFloorOverheadP99Ms; f == nil || *f != 0.7 {
		t.Fatalf("http floor overhead %v, want 0.7", f)
	}
	for _, g := range r.Goals {
		if g.Met == nil || !*g.Met {
			t.Errorf("goal %q: %s, want met", g.What, g.Measured)
		}
	}
	if m := r.Goals[1].Measured; !strings.Contains(m, "(http-floor) adds 0.70 ms") {
		t.Errorf("added-p99 goal %q does not name the http floor", m)
	}
}

func TestGoalsMissedAndUnmeasured(t *testing.T) {
	r := &Report{Modes: []Summary{{Mode: ModeDirect, RPS: 100, P99Ms: 10}, {Mode: ModeGateway, RPS: 90, P99Ms: 12}}}
	r.Finish()
	verdicts := map[string]string{}
	for _, g := range r.Goals {
		verdicts[g.What] = verdict(g.Met)
	}
	want := map[string]string{
		"gateway throughput / direct, equal concurrency": "missed",
		"p99 added by the gateway":                       "missed",
		"failover on refused connections":                "-",
		"config propagation p99 (Consul, 2 replicas)":    "-",
		"router decision, dev config (Decide/all-up)":    "-",
	}
	for what, v := range want {
		if verdicts[what] != v {
			t.Errorf("%s: %q, want %q", what, verdicts[what], v)
		}
	}
}

func TestJSONHasTheHeadlineFields(t *testing.T) {
	for _, r := range []*Report{sampleReport(), {}} {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"direct_rps", "gateway_rps", "naive_rps", "gateway_direct_ratio", "direct_p99_ms",
			"gateway_p99_ms", "failover_seconds", "failover_client_errors", "recovery_seconds", "propagation_p99_ms"} {
			if _, ok := m[k]; !ok {
				t.Errorf("JSON lacks %s: %s", k, data)
			}
		}
	}
}

func TestWriteTextShowsEveryPart(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"direct", "gateway", "naive", "first error: gateway answered 503",
		"gateway overhead per start", "failover eu-west -> eu-central", "propagation to 2 replicas", "met"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestMarkdownShowsEveryPart(t *testing.T) {
	md := sampleReport().Markdown()
	for _, want := range []string{"## end to end (`make bench`)", "Date: 2026-11-25", "2 cores (AMD EPYC), 23.4 GiB",
		"go test -bench . ./router/\nbin/regiongate bench --self-contained", "| gateway throughput / direct, equal concurrency | >= 0.95 | 0.960 | met |",
		"### starts: direct, gateway, naive", "0.960 (round by round: 0.90, 1.02)", "Starts/s in each round: direct 100, 100; gateway 90, 102.\n", "### failover: kill -9 eu-west", "### config propagation (Consul)",
		"| router | `Decide/all-up` | 63 | 0 | 0 |  |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, MarkBegin) || strings.Contains(md, MarkEnd) {
		t.Error("the section holds a marker")
	}
}
