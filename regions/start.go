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

// recordRaces bounds how often Start re-reads a routing record that other
// requests for the same id keep rewriting.
const recordRaces = 3

// Start starts the workflow in the first of the decision's candidates that
// can be reached, claiming the workflow id for that region first.
//
// Failover within the call happens only when the start provably never
// reached a region. When the outcome is unknown it returns an error wrapping
// ErrUnknownOutcome and the id stays with that region, so a retry finds it.
// An id already recorded for a region is only ever started there.
func (m *Manager) Start(ctx context.Context, d router.Decision, req StartRequest) (Started, error) {
	for range recordRaces {
		rec, err := m.claim(ctx, d, req)
		if err == nil {
			return m.startNew(ctx, d, req, rec)
		}
		if errors.Is(err, ErrRecordExists) {
			// Started before, or being started now: only ever there.
			rec, err = m.pin(ctx, d, req.WorkflowID, rec)
			if err == nil {
				return m.startIn(ctx, rec.Region, req, false)
			}
		}
		if !errors.Is(err, ErrRecordChanged) {
			return Started{}, err
		}
		// Another request for the same id rewrote the record: read it again.
	}
	return Started{}, fmt.Errorf("%w: other requests keep rewriting the routing record of %q", ErrUnknownOutcome, req.WorkflowID)
}

// claim records the decision's first candidate for a new id in one write;
// for an id that has a record it returns that record and ErrRecordExists.
func (m *Manager) claim(ctx context.Context, d router.Decision, req StartRequest) (Record, error) {
	if len(d.Candidates) > 0 {
		return m.records.Claim(ctx, req.WorkflowID, m.placementFor(d.Candidates[0], req.Request.Tenant))
	}
	// Nowhere to start a new id, but a recorded one may still be reachable.
	rec, err := m.records.Lookup(ctx, req.WorkflowID)
	switch {
	case err != nil:
		return Record{}, fmt.Errorf("looking up routing record: %w", err)
	case rec.Region != "":
		return rec, ErrRecordExists
	}
	return Record{}, ErrNoCandidates
}

// pin checks that an id's recorded region is lawful for this request and
// gives the record a new version before anything is sent there. A request
// that claimed the id and is still failing over then cannot move the record
// away from a region this request may have reached.
func (m *Manager) pin(ctx context.Context, d router.Decision, id string, rec Record) (Record, error) {
	if region, _ := splitPlacement(rec.Region); !slices.Contains(d.Lawful, region) {
		return rec, fmt.Errorf("%w: %s holds %q and this request may not be stored there", ErrConflict, region, id)
	}
	rec, err := m.records.Move(ctx, id, rec, rec.Region)
	if err != nil && !errors.Is(err, ErrRecordChanged) {
		return rec, fmt.Errorf("pinning routing record of %s: %w", id, err)
	}
	return rec, err
}

// startNew walks the candidates of a fresh claim. The record moves to the
// next candidate only while every start so far provably reached nobody,
// and only if no other request has touched it since (compare-and-set on its
// version).
func (m *Manager) startNew(ctx context.Context, d router.Decision, req StartRequest, rec Record) (Started, error) {
	var lastErr error
	for i, region := range d.Candidates {
		name := rec.Region // the claim named the first candidate's placement
		if i > 0 {
			if ctx.Err() != nil {
				break
			}
			name = m.placementFor(region, req.Request.Tenant)
			var err error
			if rec, err = m.records.Move(ctx, req.WorkflowID, rec, name); err != nil {
				// Another request for this id pinned it and may be
				// starting it: only a retry can say where it went.
				return Started{}, fmt.Errorf("%w: another request took over %q (%v) after %v", ErrUnknownOutcome, req.WorkflowID, err, lastErr)
			}
		}
		last := i == len(d.Candidates)-1
		s, err := m.startIn(ctx, name, req, !last)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			return s, err
		}
		lastErr = err
	}
	// Nothing reached any region: drop the claim, so a retry starts afresh
	// among the regions available then. If another request has pinned the
	// record meanwhile, it stays with that request.
	// The caller may have gone (that can be why the walk stopped); the
	// release must still happen, or retries stay pinned to a region that
	// nothing reached.
	if err := m.records.Release(context.WithoutCancel(ctx), req.WorkflowID, rec); err != nil && !errors.Is(err, ErrRecordChanged) {
		return Started{}, fmt.Errorf("%w (releasing its routing record: %v)", lastErr, err)
	}
	return Started{}, lastErr
}

// startIn starts (or finds) the workflow at one placement (a region, and
// the namespace when it is not the region's own). failFast gives up at the
// first refused connection, for a start that has somewhere else to go.
func (m *Manager) startIn(ctx context.Context, place string, req StartRequest, failFast bool) (Started, error) {
	name, namespace := splitPlacement(place)
	r, ok := m.Region(name)
	if !ok {
		return Started{}, fmt.Errorf("%w %q", ErrUnknownRegion, name)
	}
	c, namespace, err := r.clientFor(ctx, namespace)
	if err != nil {
		return Started{}, fmt.Errorf("starting %s in %s: %w", req.WorkflowID, name, err)
	}
	s := Started{
		WorkflowID: req.WorkflowID,
		Region:     name,
		Namespace:  namespace,
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
	err = r.call(ctx, failFast, func(ctx context.Context) error {
		run, err := c.ExecuteWorkflow(ctx, opts, req.WorkflowType, args...)
		if err == nil {
			s.RunID = run.GetRunID()
		}
		return err
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	var gone *callerGoneError
	switch {
	case err == nil:
		return s, nil
	case errors.As(err, &already):
		s.RunID, s.Existing = already.RunId, true
		return s, nil
	case errors.Is(err, ErrUnavailable):
		return s, fmt.Errorf("starting %s in %s: %w", req.WorkflowID, name, err)
	case sick(err), errors.As(err, &gone):
		return s, fmt.Errorf("starting %s in %s: %w: %w", req.WorkflowID, name, ErrUnknownOutcome, err)
	}
	return s, fmt.Errorf("starting %s in %s: %w", req.WorkflowID, name, err)
}
