package regions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/router"
)

// StartRequest is one workflow start.
type StartRequest struct {
	WorkflowID   string
	WorkflowType string
	Input        json.RawMessage // nil means no argument
	Request      router.Request  // to name the task queue in a fallback region
}

// Started says where a workflow runs.
type Started struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Region     string `json:"region"`
	Namespace  string `json:"namespace"`
	TaskQueue  string `json:"taskQueue"`
	// Existing is true when the id was already started (an idempotent retry).
	Existing bool `json:"-"`
}

// Start starts the workflow in the first of the decision's candidates that
// can be reached, claiming the workflow id for that region first.
//
// Failover within the call happens only when the start provably never
// reached a region. When the outcome is unknown it returns an error wrapping
// ErrUnknownOutcome and the id stays with that region, so a retry finds it.
// An id already recorded for a region is only ever started there.
func (m *Manager) Start(ctx context.Context, d router.Decision, req StartRequest) (Started, error) {
	recorded, err := m.records.Lookup(ctx, req.WorkflowID)
	if err != nil {
		return Started{}, fmt.Errorf("looking up routing record: %w", err)
	}
	if recorded != "" {
		return m.startRecorded(ctx, d, req, recorded)
	}
	var lastErr error = fmt.Errorf("%w: no candidate regions", ErrUnavailable)
	prev := ""
	for _, name := range d.Candidates {
		if err := m.claim(ctx, req.WorkflowID, prev, name); err != nil {
			if errors.Is(err, ErrRecordExists) {
				// Another request claimed the id meanwhile: follow it.
				return m.Start(ctx, d, req)
			}
			return Started{}, err
		}
		prev = name
		s, err := m.startIn(ctx, name, req)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			return s, err
		}
		lastErr = err
	}
	return Started{}, lastErr
}

func (m *Manager) claim(ctx context.Context, id, prev, next string) error {
	if prev == "" {
		_, err := m.records.Claim(ctx, id, next)
		return err
	}
	return m.records.Move(ctx, id, prev, next)
}

// startRecorded handles an id that already belongs to a region: only that
// region may hold it, and only if it is lawful for this request.
func (m *Manager) startRecorded(ctx context.Context, d router.Decision, req StartRequest, region string) (Started, error) {
	if !slices.Contains(d.Lawful, region) {
		return Started{}, fmt.Errorf("%w: %s holds %q and this request may not be stored there", ErrConflict, region, req.WorkflowID)
	}
	return m.startIn(ctx, region, req)
}

// startIn starts (or finds) the workflow in one region.
func (m *Manager) startIn(ctx context.Context, name string, req StartRequest) (Started, error) {
	r, ok := m.Region(name)
	if !ok {
		return Started{}, fmt.Errorf("%w %q", ErrUnknownRegion, name)
	}
	s := Started{
		WorkflowID: req.WorkflowID,
		Region:     name,
		Namespace:  r.cfg.Namespace,
		TaskQueue:  router.TaskQueue(name, req.WorkflowType, req.Request.Priority),
	}
	opts := client.StartWorkflowOptions{
		ID:        req.WorkflowID,
		TaskQueue: s.TaskQueue,
		// A finished run with the same id is a retry of the same request,
		// not a request for a new run.
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
	var args []any
	if req.Input != nil {
		args = append(args, req.Input)
	}
	err := r.call(ctx, func(ctx context.Context) error {
		run, err := r.client.ExecuteWorkflow(ctx, opts, req.WorkflowType, args...)
		if err == nil {
			s.RunID = run.GetRunID()
		}
		return err
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return s, nil
	case errors.As(err, &already):
		s.RunID, s.Existing = already.RunId, true
		return s, nil
	case errors.Is(err, ErrUnavailable):
		return s, err
	case sick(err):
		return s, fmt.Errorf("starting %s in %s: %w: %w", req.WorkflowID, name, ErrUnknownOutcome, err)
	}
	return s, fmt.Errorf("starting %s in %s: %w", req.WorkflowID, name, err)
}
