package regions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Errors of an update, tested with errors.Is.
var (
	// ErrUpdateRejected: the workflow refused the update before running it
	// (its validator, an update name it does not know, an input it cannot
	// read). Nothing ran and nothing was recorded.
	ErrUpdateRejected = errors.New("the workflow rejected the update")
	// ErrUpdateFailed: the workflow accepted the update, ran it, and it
	// failed.
	ErrUpdateFailed = errors.New("the update failed")
	// ErrUpdateTimeout: the update was sent but had no outcome within the
	// region's call timeout. It may still be accepted and complete; the
	// same update id reaches the same update.
	ErrUpdateTimeout = errors.New("the update did not finish in time")
)

// UpdateError is an update the workflow rejected or that failed; it is
// ErrUpdateRejected or ErrUpdateFailed.
type UpdateError struct {
	Rejected bool
	Message  string // the workflow's own words
}

func (e *UpdateError) Error() string {
	if e.Rejected {
		return ErrUpdateRejected.Error() + ": " + e.Message
	}
	return ErrUpdateFailed.Error() + ": " + e.Message
}

func (e *UpdateError) Is(target error) bool {
	return target == ErrUpdateRejected && e.Rejected || target == ErrUpdateFailed && !e.Rejected
}

// UpdateRequest is one update of a workflow.
type UpdateRequest struct {
	// ID names the update: sending the same id again reaches the same
	// update (its outcome, once it has one) instead of running it twice.
	ID    string
	Name  string
	Input json.RawMessage // nil means no argument
}

// Update sends an update to the workflow's latest run and waits for its
// outcome, all within the region's call timeout: the send goes through the
// breaker; the wait for an accepted update's outcome does not (a slow
// handler says nothing of the region). A workflow that takes longer is
// ErrUpdateTimeout.
func (l Location) Update(ctx context.Context, u UpdateRequest) (json.RawMessage, error) {
	what := fmt.Sprintf("updating %s of %s", u.Name, l.ID)
	deadline := time.Now().Add(l.Region.settings.Load().timeout)
	h, first, err := l.sendUpdate(ctx, u)
	switch {
	case errors.Is(err, ErrUpdateTimeout):
		return nil, fmt.Errorf("%s: %w", what, err)
	case err != nil:
		return nil, l.closedOr(ctx, err, what)
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	wctx, polled := keepReply[*workflowservice.PollWorkflowExecutionUpdateResponse](wctx,
		workflowservice.WorkflowService_PollWorkflowExecutionUpdate_FullMethodName)
	var out json.RawMessage
	err = h.Get(wctx, &out)
	outcome := first.GetOutcome()
	if p, ok := polled.get(); ok {
		outcome = p.GetOutcome()
	}
	switch {
	case err == nil:
		return out, nil
	case outcome.GetFailure() != nil:
		// Completed in the reply to the send: rejected, or accepted and
		// failed in the same workflow task. Only acceptance is recorded.
		rejected := first.GetStage() == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED &&
			!l.updateAccepted(ctx, h.RunID(), u.ID)
		return nil, &UpdateError{Rejected: rejected, Message: failureMessage(err)}
	case ctx.Err() == nil && (wctx.Err() != nil || errors.As(err, new(*client.WorkflowUpdateServiceTimeoutOrCanceledError))):
		// Our deadline, or the server ending the poll as the deadline it
		// was sent with ran out (before our timer has ended wctx).
		return nil, fmt.Errorf("%s: %w: accepted, no outcome within %s", what, ErrUpdateTimeout, l.Region.settings.Load().timeout)
	}
	return nil, l.closedOr(ctx, err, what)
}

// sendUpdate sends the update through the breaker and waits until the
// workflow has accepted or rejected it. It returns the server's reply too:
// the SDK's handle does not say whether the update had already completed.
func (l Location) sendUpdate(ctx context.Context, u UpdateRequest) (client.WorkflowUpdateHandle, *workflowservice.UpdateWorkflowExecutionResponse, error) {
	var args []any
	if u.Input != nil {
		args = append(args, u.Input)
	}
	var h client.WorkflowUpdateHandle
	var resp *workflowservice.UpdateWorkflowExecutionResponse
	err := l.Region.call(ctx, false, func(ctx context.Context) error {
		ctx, sent := keepReply[*workflowservice.UpdateWorkflowExecutionResponse](ctx,
			workflowservice.WorkflowService_UpdateWorkflowExecution_FullMethodName)
		var err error
		h, err = l.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			UpdateID: u.ID, WorkflowID: l.ID, UpdateName: u.Name, Args: args,
			WaitForStage: client.WorkflowUpdateStageAccepted,
		})
		resp, _ = sent.get()
		var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
		if errors.As(err, &timeout) {
			// Sent, and the workflow did not take it up in time (no worker,
			// a busy one): that says nothing of the region, so the error
			// does not wrap the gRPC deadline the breaker would count.
			// The SDK says so when the call's context has ended, or when
			// the server ended the long poll (Canceled or
			// DeadlineExceeded) as the deadline it was sent with ran out,
			// which may reach us before our own timer has ended ctx: not
			// checking ctx.Err() keeps that race from answering 502.
			return fmt.Errorf("%w: not accepted within the call timeout (%v)", ErrUpdateTimeout, err.Error())
		}
		return err
	})
	return h, resp, err
}

// maxAcceptanceScan bounds how many of a run's newest events are read to
// find an update's acceptance.
const maxAcceptanceScan = 1000

// updateAccepted reports whether the run's history holds the acceptance of
// update id: an accepted update is recorded, a rejected one never is. It
// reads back from the newest event: an update that completed in the reply
// to its send was accepted (if at all) moments ago. When the history cannot
// be read it says true: "it ran and failed" promises less than "nothing
// ran".
func (l Location) updateAccepted(ctx context.Context, runID, id string) bool {
	var token []byte
	for seen := 0; seen < maxAcceptanceScan; {
		var resp *workflowservice.GetWorkflowExecutionHistoryReverseResponse
		err := l.Region.call(ctx, false, func(ctx context.Context) error {
			var err error
			resp, err = l.Client.WorkflowService().GetWorkflowExecutionHistoryReverse(ctx, &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
				Namespace:       l.Namespace,
				Execution:       &commonpb.WorkflowExecution{WorkflowId: l.ID, RunId: runID},
				MaximumPageSize: 250,
				NextPageToken:   token,
			})
			return err
		})
		if err != nil {
			return true
		}
		events := resp.GetHistory().GetEvents()
		for _, e := range events {
			if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetProtocolInstanceId() == id {
				return true
			}
		}
		seen += len(events)
		if token = resp.GetNextPageToken(); len(token) == 0 || len(events) == 0 {
			return false
		}
	}
	return false
}

// Terminate ends the workflow's latest run at once, with reason recorded
// in its history.
func (l Location) Terminate(ctx context.Context, reason string) error {
	err := l.Region.call(ctx, false, func(ctx context.Context) error {
		return l.Client.TerminateWorkflow(ctx, l.ID, "", reason)
	})
	if err != nil {
		return l.closedOr(ctx, err, "terminating "+l.ID)
	}
	return nil
}

// closedOr explains the error of a call on a workflow just located:
// Temporal answers NotFound for a run that has closed, which is ErrClosed,
// not an unknown id.
func (l Location) closedOr(ctx context.Context, err error, what string) error {
	if !isNotFound(err) {
		return mapErr(err, what)
	}
	var status enumspb.WorkflowExecutionStatus
	derr := l.Region.call(ctx, false, func(ctx context.Context) error {
		resp, err := l.Client.DescribeWorkflow(ctx, l.ID, "")
		if err != nil {
			return err
		}
		status = resp.RawResponse.GetWorkflowExecutionInfo().GetStatus()
		return nil
	})
	if derr == nil && status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Errorf("%s: %w (%s)", what, ErrClosed, statusName(status))
	}
	return mapErr(err, what)
}
