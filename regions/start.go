package regions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/router"
)

// StartRequest is one workflow start; where it goes is the decision's.
type StartRequest struct {
	WorkflowID   string
	WorkflowType string
	Input        json.RawMessage // nil means no argument
	// Signal, when set, makes this a signal-with-start: placed exactly as a
	// start, it signals the run already there or starts one with the signal.
	Signal *Signal
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

// Start starts the workflow at the first of the decision's candidate
// destinations that can be reached, claiming the workflow id for that
// destination first. With req.Signal it sends a signal-with-start instead,
// placed by the same claim, pin and walk.
//
// Failover within the call happens only when the start provably never
// reached a region. When the outcome is unknown it returns an error wrapping
// ErrUnknownOutcome and the id stays with that region, so a retry finds it.
// An id already recorded for a destination is only ever started there.
func (m *Manager) Start(ctx context.Context, d router.Decision, req StartRequest) (Started, error) {
	key, err := m.recordKey(ctx, req.WorkflowID)
	if err != nil {
		return Started{}, err
	}
	for range recordRaces {
		rec, err := m.claim(ctx, &d, key)
		if err == nil {
			return m.remember(key)(m.startNew(ctx, &d, req, key, rec))
		}
		if errors.Is(err, ErrRecordExists) {
			// Started before, or being started now: only ever there.
			var dest router.Destination
			if dest, err = m.pin(ctx, &d, key, rec); err == nil {
				return m.remember(key)(m.startIn(ctx, dest, req, false))
			}
		}
		if !errors.Is(err, ErrRecordChanged) {
			return Started{}, err
		}
		// Another request for the same id rewrote the record: read it again.
	}
	return Started{}, fmt.Errorf("%w: other requests keep rewriting the routing record of %q", ErrUnknownOutcome, req.WorkflowID)
}

// remember keeps where a start landed, for reads while the records store
// is down (placementCache).
func (m *Manager) remember(key string) func(Started, error) (Started, error) {
	return func(s Started, err error) (Started, error) {
		if err == nil {
			m.cache.put(key, Placement{Region: s.Region, Namespace: s.Namespace})
		}
		return s, err
	}
}

// recordKey is the key of id's routing record (RecordKeys). A record
// still under an older key (a rotated records key, or the plain id of a
// store written before keys were hashed) is moved to the current key
// first: a claim under the current key alone would not see it.
func (m *Manager) recordKey(ctx context.Context, id string) (string, error) {
	key := m.keys.Key(id)
	for _, old := range m.keys.older(id) {
		rec, err := m.records.Lookup(ctx, old)
		if err != nil {
			return "", fmt.Errorf("looking up routing record of %s: %w", id, recordsErr(err))
		}
		if rec.Region == "" {
			continue
		}
		if _, err := m.records.Claim(ctx, key, rec.Placement); err != nil && !errors.Is(err, ErrRecordExists) {
			return "", fmt.Errorf("rekeying routing record of %s: %w", id, recordsErr(err))
		}
		if err := m.records.Release(ctx, old, rec); err != nil && !errors.Is(err, ErrRecordChanged) {
			return "", fmt.Errorf("rekeying routing record of %s: %w", id, recordsErr(err))
		}
		break
	}
	return key, nil
}

// claim records the decision's first candidate for a new id in one write;
// for an id that has a record it returns that record and ErrRecordExists.
func (m *Manager) claim(ctx context.Context, d *router.Decision, key string) (Record, error) {
	none := ErrNoCandidates
	if len(d.Candidates) > 0 {
		// The first candidate the policy in force still allows: a config
		// edit since the decision must not leave a record anywhere else.
		cur := m.policyNow()
		for k := range d.Candidates {
			if dest := d.Destination(k); d.StillLawful(cur, dest.Region) {
				rec, err := m.records.Claim(ctx, key, placementOf(dest))
				return rec, recordsErr(err)
			}
		}
		none = fmt.Errorf("%w: a config change since the decision took every candidate away", ErrNotLawful)
	}
	// Nowhere to start a new id, but a recorded one may still be reachable.
	rec, err := m.records.Lookup(ctx, key)
	switch {
	case err != nil:
		return Record{}, fmt.Errorf("looking up routing record: %w", recordsErr(err))
	case rec.Region != "":
		return rec, ErrRecordExists
	}
	return Record{}, none
}

func placementOf(dst router.Destination) Placement {
	return Placement{Region: dst.Region, Namespace: dst.Namespace}
}

// pin checks that an id's recorded placement is where this request may go
// (a lawful region, and the namespace this request's tenant has there) and
// gives the record a new version before anything is sent there. A request
// that claimed the id and is still failing over then cannot move the record
// away from a region this request may have reached.
func (m *Manager) pin(ctx context.Context, d *router.Decision, key string, rec Record) (router.Destination, error) {
	dest, ok := m.recordedDestination(d, rec)
	if !ok {
		return dest, fmt.Errorf("%w: %s holds this id and this request may not be stored there", ErrConflict, rec.Region)
	}
	if ns := m.namespaceOf(rec.Placement); ns != dest.Namespace {
		return dest, fmt.Errorf("%w: the id lives in namespace %s of %s, not in this request's %s", ErrConflict, ns, rec.Region, dest.Namespace)
	}
	_, err := m.records.Move(ctx, key, rec, rec.Placement)
	if err != nil && !errors.Is(err, ErrRecordChanged) {
		return dest, fmt.Errorf("pinning routing record: %w", recordsErr(err))
	}
	return dest, err
}

// namespaceOf is a placement's namespace, the region's own for records
// written before namespaces were recorded.
func (m *Manager) namespaceOf(p Placement) string {
	if p.Namespace != "" {
		return p.Namespace
	}
	if r, ok := m.Region(p.Region); ok {
		return r.namespace
	}
	return ""
}

// startNew walks the candidates of a fresh claim. The record moves to the
// next candidate only while every start so far provably reached nobody,
// and only if no other request has touched it since (compare-and-set on its
// version). A candidate the policy in force no longer allows (a config
// edit since the decision) is skipped: nothing is sent there.
//
// While the records may be incomplete (RecordsComplete: after a store
// loss), an id without a record may be an old workflow whose record was
// lost: it goes to a region other than its home region only once the home
// region has said it does not have the id. If the home region has it, the
// start goes there (and finds the existing run); if it cannot be asked,
// nothing is sent anywhere else.
func (m *Manager) startNew(ctx context.Context, d *router.Decision, req StartRequest, key string, rec Record) (Started, error) {
	var lastErr error
	unavailable := false
	provenNew := m.RecordsComplete()
	for k := range d.Candidates {
		dest := d.Destination(k)
		if !d.StillLawful(m.policyNow(), dest.Region) {
			lastErr = fmt.Errorf("%w: %s, since a config change", ErrNotLawful, dest.Region)
			continue
		}
		if !provenNew && dest.Region != d.Lawful[0] {
			home, has, err := m.homeHas(ctx, d, req.WorkflowID)
			if err != nil {
				lastErr, unavailable = err, true
				break
			}
			if has {
				return m.startAtHome(ctx, req, key, rec, home)
			}
			provenNew = true
		}
		if rec.Placement != placementOf(dest) {
			if ctx.Err() != nil {
				break
			}
			var err error
			if rec, err = m.records.Move(ctx, key, rec, placementOf(dest)); err != nil {
				if errors.Is(recordsErr(err), ErrRecordsUnavailable) {
					return Started{}, fmt.Errorf("moving the routing record of %s to %s after %v: %w", req.WorkflowID, dest.Region, lastErr, recordsErr(err))
				}
				// Another request for this id pinned it and may be
				// starting it: only a retry can say where it went.
				return Started{}, fmt.Errorf("%w: another request took over %q (%v) after %v", ErrUnknownOutcome, req.WorkflowID, err, lastErr)
			}
		}
		last := k == len(d.Candidates)-1
		s, err := m.startIn(ctx, dest, req, !last)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			return s, err
		}
		lastErr, unavailable = err, true
	}
	if unavailable && errors.Is(lastErr, ErrNotLawful) {
		// Some lawful region was only unavailable: that is what to retry.
		lastErr = fmt.Errorf("%w (and the rest may no longer hold this data): %w", ErrUnavailable, lastErr)
	}
	// Nothing reached any region: drop the claim, so a retry starts afresh
	// among the regions available then. If another request has pinned the
	// record meanwhile, it stays with that request.
	// The caller may have gone (that can be why the walk stopped); the
	// release must still happen, or retries stay pinned to a region that
	// nothing reached.
	if err := m.records.Release(context.WithoutCancel(ctx), key, rec); err != nil && !errors.Is(err, ErrRecordChanged) {
		return Started{}, fmt.Errorf("%w (releasing its routing record: %v)", lastErr, err)
	}
	return Started{}, lastErr
}

// startAtHome starts an id without a record that its home region turned
// out to have (an old workflow whose record was lost): the record moves
// there and the start goes there only, which answers with the existing
// run.
func (m *Manager) startAtHome(ctx context.Context, req StartRequest, key string, rec Record, home router.Destination) (Started, error) {
	if rec.Placement != placementOf(home) {
		var err error
		if rec, err = m.records.Move(ctx, key, rec, placementOf(home)); err != nil {
			if errors.Is(recordsErr(err), ErrRecordsUnavailable) {
				return Started{}, fmt.Errorf("moving the routing record of %s home to %s: %w", req.WorkflowID, home.Region, recordsErr(err))
			}
			return Started{}, fmt.Errorf("%w: another request took over %q (%v)", ErrUnknownOutcome, req.WorkflowID, err)
		}
	}
	return m.startIn(ctx, home, req, false)
}

// policyNow is the routing policy in force (UsePolicy), or nil.
func (m *Manager) policyNow() *router.Policy {
	if f := m.policy.Load(); f != nil {
		return (*f)()
	}
	return nil
}

// UsePolicy gives the manager the routing policy in force, so a start
// decided on an older policy is checked against the current one right
// before it is sent. The gateway calls it once; without it decisions are
// taken as they are.
func (m *Manager) UsePolicy(current func() *router.Policy) { m.policy.Store(&current) }

// startIn starts (or finds) the workflow at one destination. failFast
// gives up at the first refused connection, for a start that has somewhere
// else to go.
func (m *Manager) startIn(ctx context.Context, dest router.Destination, req StartRequest, failFast bool) (Started, error) {
	r, ok := m.Region(dest.Region)
	if !ok {
		// Removed by a config change after the decision: nothing was sent.
		return Started{}, fmt.Errorf("starting %s: %w: %w %q", req.WorkflowID, ErrUnavailable, ErrUnknownRegion, dest.Region)
	}
	c, err := m.clientIn(ctx, r, dest.Namespace)
	if err != nil {
		return Started{}, fmt.Errorf("starting %s in %s: %w", req.WorkflowID, dest.Region, err)
	}
	s := Started{WorkflowID: req.WorkflowID, Region: dest.Region, Namespace: dest.Namespace, TaskQueue: dest.TaskQueue}
	opts := client.StartWorkflowOptions{
		ID:        req.WorkflowID,
		TaskQueue: dest.TaskQueue,
		// A finished run with the same id is a retry of the same request,
		// not a request for a new run.
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
	err = r.call(ctx, failFast, func(ctx context.Context) error { return launch(ctx, c, opts, req, &s) })
	if err == nil {
		return s, nil
	}
	if fs, ferr, followed := m.followStart(ctx, dest, req, failFast, err); followed {
		return fs, ferr // a replicated namespace's other cluster (replication.go)
	}
	err = startError(&s, req, dest.Region, err) // may fill s: evaluate before returning it
	return s, err
}

// startError classifies a failed start (an id already started there is
// no failure: s becomes that run). Apart from startIn so the targets of
// errors.As, which escape, are only allocated when a start fails.
func startError(s *Started, req StartRequest, region string, err error) error {
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	var gone *callerGoneError
	switch {
	case errors.As(err, &already) && req.Signal != nil:
		// A signal-with-start finds a run only when it has closed: the
		// reuse policy keeps the id, and there is nothing to signal.
		return fmt.Errorf("signalling %s in %s: %w (run %s)", req.WorkflowID, region, ErrClosed, already.RunId)
	case errors.As(err, &already):
		s.RunID, s.Existing = already.RunId, true
		return nil
	case errors.Is(err, ErrUnavailable):
		return fmt.Errorf("starting %s in %s: %w", req.WorkflowID, region, err)
	case sick(err), errors.As(err, &gone):
		return fmt.Errorf("starting %s in %s: %w: %w", req.WorkflowID, region, ErrUnknownOutcome, err)
	}
	return fmt.Errorf("starting %s in %s: %w", req.WorkflowID, region, err)
}
