package regions

import (
	"context"
	"encoding/json"
	"errors"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Signal is the signal a signal-with-start delivers.
type Signal struct {
	Name  string
	Input json.RawMessage // nil means no argument
}

// ErrClosed: the workflow has closed. Its id is not reused (a start with
// it answers with the closed run), so nothing more can be sent to it.
var ErrClosed = errors.New("workflow already closed")

// launch sends req to one region through c: a start, or a signal-with-start
// when req carries a signal. It fills in s's run id and, for a
// signal-with-start, whether the run was already there (Existing).
func launch(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, req StartRequest, s *Started) error {
	var args []any
	if req.Input != nil {
		args = append(args, req.Input)
	}
	if req.Signal == nil {
		run, err := c.ExecuteWorkflow(ctx, opts, req.WorkflowType, args...)
		if err != nil {
			return err
		}
		s.RunID = run.GetRunID()
		return nil
	}
	var input any
	if req.Signal.Input != nil {
		input = req.Signal.Input
	}
	// The SDK's WorkflowRun does not say whether the run is new; the
	// server's reply does (Started).
	ctx, reply := keepReply[*workflowservice.SignalWithStartWorkflowExecutionResponse](ctx,
		workflowservice.WorkflowService_SignalWithStartWorkflowExecution_FullMethodName)
	run, err := c.SignalWithStartWorkflow(ctx, req.WorkflowID, req.Signal.Name, input, opts, req.WorkflowType, args...)
	if err != nil {
		return err
	}
	s.RunID = run.GetRunID()
	resp, ok := reply.get()
	// Without the reply (it cannot be missing: the interceptor is on every
	// region connection) "already there" is the answer that is true either
	// way: the run exists and has the signal.
	s.Existing = !ok || !resp.GetStarted()
	return nil
}
