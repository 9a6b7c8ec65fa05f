package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// fakeClient sends a start through the collector's interceptor, as a
// client with its DialOption would; attempts > 1 are retries.
func fakeClient(o *Overhead, attempts int, fail error) Mode {
	return Mode{Name: "m", Start: func(ctx context.Context, id string) error {
		req := &workflowservice.StartWorkflowExecutionRequest{WorkflowId: id}
		var err error
		for range attempts {
			err = o.intercept(ctx, "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution", req, nil, nil,
				func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return fail })
		}
		return err
	}}
}

func TestOverheadRecordsSuccessfulStartsWhoseRPCWasSeen(t *testing.T) {
	o := NewOverhead()
	ctx := context.Background()
	if err := o.Wrap(fakeClient(o, 1, nil)).Start(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := o.Wrap(fakeClient(o, 3, nil)).Start(ctx, "retried"); err != nil {
		t.Fatal(err)
	}
	if err := o.Wrap(fakeClient(o, 1, errors.New("refused"))).Start(ctx, "failed"); err == nil {
		t.Fatal("the failure was lost")
	}
	unseen := Mode{Name: "m", Start: func(context.Context, string) error { return nil }}
	if err := o.Wrap(unseen).Start(ctx, "no-rpc"); err != nil {
		t.Fatal(err)
	}
	if got := o.Summary("m"); got.Requests != 2 {
		t.Fatalf("%d overheads recorded, want 2 (the successful starts whose RPC was seen)", got.Requests)
	}
	if len(o.rpc) != 0 {
		t.Fatalf("%d RPC times left behind", len(o.rpc))
	}
}

func TestOverheadIgnoresOtherRPCs(t *testing.T) {
	o := NewOverhead()
	err := o.intercept(context.Background(), "/x/GetSystemInfo", &workflowservice.GetSystemInfoRequest{}, nil, nil,
		func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil })
	if err != nil || len(o.rpc) != 0 {
		t.Fatalf("err %v, %d RPC times", err, len(o.rpc))
	}
}

func TestOverheadSplitsOutTheHandler(t *testing.T) {
	o := NewOverhead()
	rpc := fakeClient(o, 1, nil)
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rpc.Start(r.Context(), r.Header.Get(IDHeader)); err != nil {
			t.Error(err)
		}
	}))
	viaHTTP := Mode{Name: "gw", Start: func(ctx context.Context, id string) error {
		req := httptest.NewRequest(http.MethodPost, "/v1/workflows", nil)
		req.Header.Set(IDHeader, id)
		h.ServeHTTP(httptest.NewRecorder(), req)
		return nil
	}}
	for _, id := range []string{"a", "b"} {
		if err := o.Wrap(viaHTTP).Start(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	in, ok := o.InHandler("gw " + InHandlerSuffix)
	if !ok || in.Requests != 2 || o.Summary("gw").Requests != 2 {
		t.Fatalf("in the handler: %+v (%v); all: %+v", in, ok, o.Summary("gw"))
	}
	if len(o.handler) != 0 {
		t.Fatalf("%d handler times left behind", len(o.handler))
	}
}
