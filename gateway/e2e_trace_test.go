package gateway_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// TestOneTraceFromRequestToActivity starts a booking through the HTTP API
// and finds, under the HTTP request's trace id, the Temporal start, the
// workflow run and its activities: one trace across the gateway and the
// worker.
func TestOneTraceFromRequestToActivity(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "DE", "pii"), "X-Request-ID", "trace-"+id)
	if r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	waitStatus(t, id, "COMPLETED")

	traceID, err := trace.TraceIDFromHex(r.Header.Get("X-Trace-ID"))
	if err != nil {
		t.Fatalf("X-Trace-ID %q: %v", r.Header.Get("X-Trace-ID"), err)
	}
	decided := false
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID() == traceID && s.SpanKind == trace.SpanKindServer {
			for _, e := range s.Events {
				decided = decided || e.Name == "routing.decision"
			}
		}
	}
	if !decided {
		t.Fatal("the HTTP server span has no routing.decision event")
	}
	want := []string{"StartWorkflow:PropertyBooking", "RunWorkflow:PropertyBooking", "RunActivity:ChargeCard", "RunActivity:ReserveProperty"}
	poll.Until(t, 10*time.Second, "the workflow's spans to end", func() bool {
		names := map[string]bool{}
		for _, s := range spans.GetSpans() {
			if s.SpanContext.TraceID() == traceID {
				names[s.Name] = true
			}
		}
		for _, w := range want {
			if !names[w] {
				return false
			}
		}
		return true
	})
}
