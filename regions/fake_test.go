package regions

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/regiongate/regiongate/configs"
)

// attempt runs one simulated gRPC attempt through attemptInterceptor, as
// the SDK's retry loop would: onConnection says whether it got a stream on
// a connection (gRPC then fills in the peer).
func attempt(ctx context.Context, onConnection bool, err error) error {
	invoker := func(_ context.Context, _ string, _, _ any, _ *grpc.ClientConn, opts ...grpc.CallOption) error {
		for _, o := range opts {
			if p, ok := o.(grpc.PeerCallOption); ok && onConnection {
				*p.PeerAddr = peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7233}}
			}
		}
		return err
	}
	return attemptInterceptor(ctx, "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution", nil, nil, nil, invoker)
}

// Behaviours of a simulated region for one call.
var (
	// refuse: every attempt is refused; the SDK retries until the deadline.
	refuse = func(ctx context.Context) error {
		for {
			if err := attempt(ctx, false, status.Error(codes.Unavailable, "connection error: connect: connection refused")); ctx.Err() != nil {
				return status.FromContextError(ctx.Err()).Err()
			} else if err == nil {
				return nil
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Millisecond): // the SDK's retry backoff
			}
		}
	}
	// hang: the request is sent and no answer comes before the deadline.
	hang = func(ctx context.Context) error {
		return attempt(ctx, true, func() error { <-ctx.Done(); return status.FromContextError(ctx.Err()).Err() }())
	}
	// reset: the request is sent, then the connection breaks.
	reset = func(ctx context.Context) error {
		return attempt(ctx, true, status.Error(codes.Unavailable, "error reading from server: EOF"))
	}
	accept = func(ctx context.Context) error { return attempt(ctx, true, nil) }
	// duplicate: the region already has the id.
	duplicate = func(ctx context.Context) error {
		return attempt(ctx, true, serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", "run-0"))
	}
)

// fakeClient stands in for a region's Temporal client: ExecuteWorkflow
// runs the region's current behaviour.
type fakeClient struct {
	client.Client // nil: any other method panics

	mu       sync.Mutex
	behave   func(ctx context.Context) error
	attempts int // attempts of the last call
	starts   []string
	// describe is how DescribeWorkflow goes; nil: the region has no such
	// workflow (NotFound).
	describe  func(ctx context.Context) error
	describes []string
	listed    int   // workflows ListWorkflow finds in each namespace
	listErr   error // what ListWorkflow fails with, if anything
}

func (f *fakeClient) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: make([]*workflowpb.WorkflowExecutionInfo, f.listed)}, nil
}

// notFound: the region answers that it has no such workflow.
var notFound = func(ctx context.Context) error {
	return attempt(ctx, true, serviceerror.NewNotFound("workflow not found"))
}

func (f *fakeClient) setDescribe(b func(ctx context.Context) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describe = b
}

func (f *fakeClient) described() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.describes...)
}

func (f *fakeClient) DescribeWorkflow(ctx context.Context, id, _ string) (*client.WorkflowExecutionDescription, error) {
	f.mu.Lock()
	b := f.describe
	f.describes = append(f.describes, id)
	f.mu.Unlock()
	if b == nil {
		b = notFound
	}
	if err := b(ctx); err != nil {
		return nil, err
	}
	return &client.WorkflowExecutionDescription{}, nil
}

func (f *fakeClient) set(b func(ctx context.Context) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behave = b
}

func (f *fakeClient) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.starts...)
}

func (f *fakeClient) ExecuteWorkflow(ctx context.Context, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	b := f.behave
	f.starts = append(f.starts, opts.ID)
	f.mu.Unlock()
	err := b(ctx)
	f.mu.Lock()
	f.attempts = int(ctx.Value(attemptsKey{}).(*attempts).tried.Load())
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return fakeRun{id: "run-" + opts.ID}, nil
}

func (f *fakeClient) Close() {}

type fakeRun struct {
	client.WorkflowRun
	id string
}

func (r fakeRun) GetRunID() string { return r.id }

// fakeRegion is a Region whose client is a fakeClient.
func fakeRegion(t *testing.T, cfg configs.Region, behave func(ctx context.Context) error) (*Region, *fakeClient) {
	t.Helper()
	if cfg.Endpoint == "" {
		cfg.Endpoint = "127.0.0.1:1"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "ns-" + cfg.Name
	}
	r, err := newRegion(cfg, client.Options{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.client.Close()
	f := &fakeClient{behave: behave}
	r.client = f
	return r, f
}

// fakeManager has one fake region per name, all accepting.
func fakeManager(t *testing.T, names ...string) (*Manager, map[string]*fakeClient) {
	t.Helper()
	m := &Manager{records: NewMemoryRecords(), keys: testRecordKeys, cache: newPlacementCache(0),
		drains: NewMemoryDrains(), onChange: func(StateChange) {},
		regions: map[string]*Region{}, drained: map[string]bool{}}
	m.complete.Store(true) // a store that has never lost a record
	fakes := map[string]*fakeClient{}
	for _, n := range names {
		// A short timeout keeps "retry until the deadline" short.
		r, f := fakeRegion(t, configs.Region{Name: n, CallTimeout: configs.Duration(200 * time.Millisecond)}, accept)
		m.regions[n], fakes[n] = r, f
		m.order = append(m.order, n)
	}
	return m, fakes
}

// testRecordKeys is the records key of the fake managers.
var testRecordKeys = RandomRecordKeys()

func clientOptionsForBench() client.Options { return client.Options{Logger: quietLogger{}} }

// quietLogger drops the SDK's log lines.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
