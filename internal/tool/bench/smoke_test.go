package bench

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSelfContainedSmoke runs every part of `regiongate bench
// --self-contained` against real servers, briefly: it checks that the
// parts work together, never how fast they are.
func TestSelfContainedSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Temporal dev servers and a Consul agent (skipped under -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var progress io.Writer = io.Discard
	if testing.Verbose() {
		progress = os.Stderr
	}
	r, err := Execute(ctx, Options{
		SelfContained: true, WorkflowType: "DataProcessing", Location: "DE", Class: "pii",
		Input: json.RawMessage(`{"items":0,"itemDelayMs":0}`),
		Modes: []string{ModeDirect, ModeGateway, ModeNaive, ModeGatewayMemory, ModeHTTPFloor},
		Load:  Load{Concurrency: 2, Duration: 2 * time.Second, Warmup: -1, MaxRequests: 40}, Rounds: 2,
		Failover:        true,
		FailoverOptions: FailoverOptions{Rate: 10, Steady: time.Second, Outage: 2 * time.Second, After: 200 * time.Millisecond},
		Propagation:     true, PropagationWrites: 3,
		Progress: progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Modes {
		if m.Requests == 0 || m.Errors > 0 {
			t.Errorf("%s: %d starts, %d errors (first: %s)", m.Mode, m.Requests, m.Errors, m.FirstError)
		}
	}
	var overheads []string
	for _, o := range r.Overheads {
		overheads = append(overheads, o.Mode)
	}
	want := "direct|gateway|gateway " + InHandlerSuffix + "|gateway-memory|gateway-memory " + InHandlerSuffix +
		"|http-floor|http-floor " + InHandlerSuffix
	if strings.Join(overheads, "|") != want {
		t.Errorf("overheads for %q, want %q", overheads, want)
	}
	f := r.Failover
	if f == nil || f.FailoverSeconds == nil || f.RecoverySeconds == nil || f.Elsewhere != 0 {
		t.Errorf("failover %+v", f)
	}
	if p := r.Propagation; p == nil || p.Timeouts != 0 || r.PropagationP99Ms == nil {
		t.Errorf("propagation %+v", p)
	}
}
