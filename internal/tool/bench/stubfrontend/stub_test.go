package stubfrontend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/regions"
)

func startStub(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func dial(t *testing.T, addr, namespace string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: namespace, Logger: log.NewStructuredLogger(nil)})
	if err != nil {
		t.Fatalf("dialing the stub: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Through the SDK, as the gateway's clients call it: a start answers a
// run id, a second start of the id is WorkflowExecutionAlreadyStarted with
// the first run's id, a describe finds the run, an unknown id is NotFound,
// and the health check the gateway's health loop makes passes.
func TestAnswersStartsDuplicatesDescribesAndHealth(t *testing.T) {
	var mu sync.Mutex
	observed := map[string]int{}
	s := startStub(t, Options{Namespaces: []string{"ns"}, ObserveStart: func(id string, _ time.Duration) {
		mu.Lock()
		observed[id]++
		mu.Unlock()
	}})
	c := dial(t, s.Addr(), "ns")
	ctx := t.Context()
	opts := client.StartWorkflowOptions{ID: "wf-1", TaskQueue: "q", WorkflowExecutionErrorWhenAlreadyStarted: true}
	run, err := c.ExecuteWorkflow(ctx, opts, "DataProcessing", json.RawMessage(`{}`))
	if err != nil || run.GetRunID() == "" {
		t.Fatalf("start: run %v, err %v", run, err)
	}
	_, err = c.ExecuteWorkflow(ctx, opts, "DataProcessing")
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &already) || already.RunId != run.GetRunID() {
		t.Fatalf("duplicate start: %v, want WorkflowExecutionAlreadyStarted of run %s", err, run.GetRunID())
	}
	d, err := c.DescribeWorkflow(ctx, "wf-1", "")
	if err != nil || d.WorkflowExecution.RunID != run.GetRunID() || d.WorkflowType.Name != "DataProcessing" {
		t.Fatalf("describe: %v, %v", d, err)
	}
	var nf *serviceerror.NotFound
	if _, err := c.DescribeWorkflow(ctx, "never-started", ""); !errors.As(err, &nf) {
		t.Fatalf("describe of an unknown id: %v, want NotFound", err)
	}
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		t.Fatalf("health check: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if observed["wf-1"] != 2 {
		t.Fatalf("observed starts of wf-1: %d, want 2", observed["wf-1"])
	}
}

// A retry of the request that started a workflow (the same request id, as
// the SDK's own retries send) answers that run again; a namespace the stub
// does not know is NamespaceNotFound.
func TestRetriedRequestAnswersItsRunAndUnknownNamespacesAreNotFound(t *testing.T) {
	s := startStub(t, Options{Namespaces: []string{"ns"}})
	ctx := t.Context()
	req := &workflowservice.StartWorkflowExecutionRequest{
		Namespace: "ns", WorkflowId: "wf", RequestId: "req-1",
		WorkflowType: &commonWorkflowType, TaskQueue: &taskQueue,
	}
	first, err := s.StartWorkflowExecution(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.StartWorkflowExecution(ctx, req)
	if err != nil || again.GetRunId() != first.GetRunId() {
		t.Fatalf("retried request: %v, %v; want run %s", again, err, first.GetRunId())
	}
	req.Namespace = "other"
	var nnf *serviceerror.NamespaceNotFound
	if _, err := s.StartWorkflowExecution(ctx, req); !errors.As(err, &nnf) {
		t.Fatalf("start in an unknown namespace: %v", err)
	}
	if s.Forget(); s.Started() != 0 {
		t.Fatalf("%d workflows after Forget", s.Started())
	}
}

// A delay asked for is service time the caller's deadline can cut short.
func TestDelayIsCutShortByTheCallersDeadline(t *testing.T) {
	s := startStub(t, Options{Delay: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := &workflowservice.StartWorkflowExecutionRequest{Namespace: "ns", WorkflowId: "wf", WorkflowType: &commonWorkflowType, TaskQueue: &taskQueue}
	if _, err := s.StartWorkflowExecution(ctx, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("start with a cancelled context: %v", err)
	}
}

// oneRegion is a config with a single region at the stub.
func oneRegion(t *testing.T, addr string) *configs.Config {
	t.Helper()
	cfg, err := configs.Parse([]byte(`environment: dev
clientAuth: {mode: optional}
classifications: [{name: public, resident: false}]
regions: [{name: solo, endpoint: "` + addr + `", namespace: dev-solo, residency: [US]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A gateway built by gatewayd, as `regiongate serve` builds one, starts a
// workflow through the stub end to end, answers the same id again as an
// idempotent retry (200, the same run), and describes it.
func TestGatewayStartsThroughTheStub(t *testing.T) {
	s := startStub(t, Options{Namespaces: []string{"dev-solo"}})
	gw, err := gatewayd.Start(t.Context(), gatewayd.Options{Config: oneRegion(t, s.Addr()), Records: regions.NewMemoryRecords()})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ls, err := gatewayd.Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw.ServeInBackground(ls)

	body := []byte(`{"workflowType":"DataProcessing","workflowId":"order-1","userLocation":"US","dataClassification":"public","input":{"items":0}}`)
	var runs []string
	for _, want := range []int{http.StatusCreated, http.StatusOK} {
		var st struct{ RunID, Region, Namespace string }
		if code := call(t, http.MethodPost, ls.ClientURL()+"/v1/workflows", body, &st); code != want {
			t.Fatalf("start: %d, want %d", code, want)
		}
		if st.Region != "solo" || st.Namespace != "dev-solo" || st.RunID == "" {
			t.Fatalf("started %+v", st)
		}
		runs = append(runs, st.RunID)
	}
	if runs[0] != runs[1] || s.Started() != 1 {
		t.Fatalf("runs %v, %d started: the retry must answer the first run", runs, s.Started())
	}
	var d struct{ RunID, Status string }
	if code := call(t, http.MethodGet, ls.ClientURL()+"/v1/workflows/order-1", nil, &d); code != http.StatusOK || d.RunID != runs[0] || d.Status != "RUNNING" {
		t.Fatalf("describe: %d %+v", code, d)
	}
}

func call(t *testing.T, method, url string, body []byte, into any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("%s %s: decoding the answer (%d): %v", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode
}

var (
	commonWorkflowType = commonpb.WorkflowType{Name: "DataProcessing"}
	taskQueue          = taskqueuepb.TaskQueue{Name: "q"}
)
