// Package stubfrontend is a stand-in Temporal frontend for the bench's ceiling measurement: a real gRPC server that answers at once, so the gateway, not the cluster, is the bottleneck.
//
// It answers exactly what a gateway and its SDK clients call on the way
// to a start, a describe and a health check: GetSystemInfo (the SDK asks
// for the server's capabilities when it connects), DescribeNamespace,
// StartWorkflowExecution, DescribeWorkflowExecution and the gRPC health
// service. Everything else is Unimplemented. It keeps no history, runs no
// workflow and persists nothing: a workflow it started stays RUNNING until
// Forget. It is a benchmark tool only; the functional tests run real
// Temporal servers.
package stubfrontend

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the SDK gzips its requests
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ServiceName is the service the SDK's CheckHealth asks the health service
// about.
const ServiceName = "temporal.api.workflowservice.v1.WorkflowService"

// Options shape a stub. The zero value answers every namespace at once.
type Options struct {
	// Namespaces the stub knows; a call in another is NamespaceNotFound.
	// Empty: every namespace exists.
	Namespaces []string
	// Delay is added to every StartWorkflowExecution, as service time;
	// zero (the default) answers at once. The stub never delays unless
	// asked.
	Delay time.Duration
	// ObserveStart, when set, hears every StartWorkflowExecution with the
	// time the stub spent in it (from the handler's entry to its return:
	// not the gRPC framing around it), before the answer is sent.
	ObserveStart func(workflowID string, took time.Duration)
}

// execution is one started workflow.
type execution struct {
	runID, requestID, workflowType, taskQueue string
	started                                   time.Time
}

// Server is a running stub.
type Server struct {
	workflowservice.UnimplementedWorkflowServiceServer
	o    Options
	grpc *grpc.Server
	addr string

	mu      sync.Mutex
	started map[string]execution // namespace + "\x00" + workflow id
}

// Start serves a stub on addr ("127.0.0.1:0" for a free port) until Stop.
func Start(addr string, o Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stub frontend: %w", err)
	}
	s := &Server{o: o, grpc: grpc.NewServer(grpc.UnaryInterceptor(toStatus)), addr: ln.Addr().String(), started: map[string]execution{}}
	workflowservice.RegisterWorkflowServiceServer(s.grpc, s)
	hs := health.NewServer()
	hs.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpc, hs)
	// Serve returns when Stop closes the listener; until then the only
	// errors are the listener's, which the clients see as refused calls.
	go func() { _ = s.grpc.Serve(ln) }()
	return s, nil
}

// toStatus puts a Temporal service error on the wire as the real server
// does (its code and details), so the SDK sees WorkflowExecutionAlreadyStarted
// and NotFound, not a retryable Unknown.
func toStatus(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, serviceerror.ToStatus(err).Err()
	}
	return resp, nil
}

// Addr is the stub's host:port.
func (s *Server) Addr() string { return s.addr }

// Stop closes every connection at once.
func (s *Server) Stop() { s.grpc.Stop() }

// Forget drops every started workflow, so a long run does not grow the
// stub's memory; ids started before are new to it again.
func (s *Server) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = map[string]execution{}
}

// Started is how many workflows the stub holds.
func (s *Server) Started() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.started)
}

func (s *Server) knows(namespace string) error {
	if len(s.o.Namespaces) == 0 || slices.Contains(s.o.Namespaces, namespace) {
		return nil
	}
	return serviceerror.NewNamespaceNotFound(namespace)
}

// GetSystemInfo answers the capabilities a current server reports.
func (s *Server) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{
		ServerVersion: "stub",
		Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{
			SignalAndQueryHeader: true, InternalErrorDifferentiation: true, ActivityFailureIncludeHeartbeat: true,
			SupportsSchedules: true, EncodedFailureAttributes: true, UpsertMemo: true, SdkMetadata: true,
			CountGroupByExecutionStatus: true,
		},
	}, nil
}

// DescribeNamespace answers a registered namespace.
func (s *Server) DescribeNamespace(_ context.Context, req *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	if err := s.knows(req.GetNamespace()); err != nil {
		return nil, err
	}
	return &workflowservice.DescribeNamespaceResponse{
		NamespaceInfo: &namespacepb.NamespaceInfo{Name: req.GetNamespace(), State: enumspb.NAMESPACE_STATE_REGISTERED},
		Config:        &namespacepb.NamespaceConfig{},
	}, nil
}

// StartWorkflowExecution starts a workflow at once. As the real server
// does with the reuse policy the gateway sends: a running id answers
// WorkflowExecutionAlreadyStarted, unless it is a retry of the request
// that started it (same request id), which answers that run again.
func (s *Server) StartWorkflowExecution(ctx context.Context, req *workflowservice.StartWorkflowExecutionRequest) (*workflowservice.StartWorkflowExecutionResponse, error) {
	began := time.Now()
	if s.o.ObserveStart != nil {
		defer func() { s.o.ObserveStart(req.GetWorkflowId(), time.Since(began)) }()
	}
	if err := s.knows(req.GetNamespace()); err != nil {
		return nil, err
	}
	if req.GetWorkflowId() == "" || req.GetWorkflowType().GetName() == "" || req.GetTaskQueue().GetName() == "" {
		return nil, serviceerror.NewInvalidArgument("workflow id, type and task queue are required")
	}
	if s.o.Delay > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(s.o.Delay): // collected once it fires or is unreachable (Go 1.23)
		}
	}
	key := req.GetNamespace() + "\x00" + req.GetWorkflowId()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.started[key]; ok {
		if e.requestID != "" && e.requestID == req.GetRequestId() {
			return &workflowservice.StartWorkflowExecutionResponse{RunId: e.runID, Started: true, Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}, nil
		}
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted(
			fmt.Sprintf("Workflow execution is already running. WorkflowId: %v, RunId: %v.", req.GetWorkflowId(), e.runID),
			e.requestID, e.runID)
	}
	e := execution{
		runID: uuid.NewString(), requestID: req.GetRequestId(), started: began,
		workflowType: req.GetWorkflowType().GetName(), taskQueue: req.GetTaskQueue().GetName(),
	}
	s.started[key] = e
	return &workflowservice.StartWorkflowExecutionResponse{RunId: e.runID, Started: true, Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}, nil
}

// DescribeWorkflowExecution describes a workflow the stub started: always
// running. Another run id, or an id it never started, is NotFound.
func (s *Server) DescribeWorkflowExecution(_ context.Context, req *workflowservice.DescribeWorkflowExecutionRequest) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if err := s.knows(req.GetNamespace()); err != nil {
		return nil, err
	}
	id, run := req.GetExecution().GetWorkflowId(), req.GetExecution().GetRunId()
	s.mu.Lock()
	e, ok := s.started[req.GetNamespace()+"\x00"+id]
	s.mu.Unlock()
	if !ok || (run != "" && run != e.runID) {
		return nil, serviceerror.NewNotFoundf("workflow execution not found for workflow ID %q and run ID %q", id, run)
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{
		ExecutionConfig: &workflowpb.WorkflowExecutionConfig{TaskQueue: &taskqueuepb.TaskQueue{Name: e.taskQueue}},
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: e.runID},
			Type:      &commonpb.WorkflowType{Name: e.workflowType},
			StartTime: timestamppb.New(e.started),
			Status:    enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
			TaskQueue: e.taskQueue,
			// The SDK's DescribeWorkflow reads these without a nil check;
			// the real server always sends them.
			SearchAttributes: &commonpb.SearchAttributes{},
			Memo:             &commonpb.Memo{},
		},
	}, nil
}
