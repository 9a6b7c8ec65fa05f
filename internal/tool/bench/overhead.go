package bench

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// Overhead measures what a mode adds around the start RPC itself: per
// start, the latency the load generator saw minus the time the
// StartWorkflowExecution RPC took at the client that sent it to Temporal
// (the gateway's, for the gateway mode). The server's own time, and its
// noise, cancel out, which the difference of two end-to-end percentiles
// measured minutes apart cannot do.
//
// For a gateway whose handler it wraps (Handler), it also splits the
// overhead: what the gateway's handler adds around the RPC, the rest being
// HTTP (the client, loopback, net/http).
type Overhead struct {
	mu        sync.Mutex
	rpc       map[string]time.Duration // workflow id -> time in its start RPCs
	handler   map[string]time.Duration // workflow id -> time in the gateway's handler
	samples   Sample
	inHandler Sample
}

// NewOverhead returns an empty collector.
func NewOverhead() *Overhead {
	return &Overhead{rpc: map[string]time.Duration{}, handler: map[string]time.Duration{}}
}

// IDHeader carries a start's workflow id to Handler; the gateway ignores it.
const IDHeader = "X-Bench-Workflow-Id"

// Handler times h for every request that names its workflow id in IDHeader.
func (o *Overhead) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(IDHeader)
		t0 := time.Now()
		h.ServeHTTP(w, r)
		if id != "" {
			took := time.Since(t0)
			o.mu.Lock()
			o.handler[id] = took
			o.mu.Unlock()
		}
	})
}

// DialOption times every StartWorkflowExecution attempt of a client. gRPC
// runs dial-option interceptors inside the SDK's retry loop, so retries
// are summed and the waits between them count as overhead.
func (o *Overhead) DialOption() grpc.DialOption { return grpc.WithChainUnaryInterceptor(o.intercept) }

func (o *Overhead) intercept(ctx context.Context, method string, req, reply any,
	cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	start, ok := req.(*workflowservice.StartWorkflowExecutionRequest)
	if !ok {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	t0 := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	took := time.Since(t0)
	o.mu.Lock()
	o.rpc[start.GetWorkflowId()] += took
	o.mu.Unlock()
	return err
}

// Wrap times m's starts and records the overhead of each successful one
// whose RPC was seen.
func (o *Overhead) Wrap(m Mode) Mode {
	start := m.Start
	m.Start = func(ctx context.Context, id string) error {
		t0 := time.Now()
		err := start(ctx, id)
		total := time.Since(t0)
		o.mu.Lock()
		defer o.mu.Unlock()
		rpc, seen := o.rpc[id]
		handler, inHandler := o.handler[id]
		delete(o.rpc, id)
		delete(o.handler, id)
		if err == nil && seen {
			o.samples.Latencies = append(o.samples.Latencies, max(total-rpc, 0))
			if inHandler {
				o.inHandler.Latencies = append(o.inHandler.Latencies, max(handler-rpc, 0))
			}
		}
		return err
	}
	return m
}

// Summary summarises the overheads recorded so far.
func (o *Overhead) Summary(mode string) Summary {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := Sample{Latencies: append([]time.Duration(nil), o.samples.Latencies...)}
	return s.Summarize(mode)
}

// InHandler summarises the part of the overheads spent in the gateway's
// handler, when Handler timed it; ok is false otherwise.
func (o *Overhead) InHandler(mode string) (s Summary, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.inHandler.Latencies) == 0 {
		return Summary{}, false
	}
	in := Sample{Latencies: append([]time.Duration(nil), o.inHandler.Latencies...)}
	return in.Summarize(mode), true
}
