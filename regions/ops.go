package regions

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Description is a workflow's state as the client API reports it.
type Description struct {
	WorkflowID string          `json:"workflowId"`
	RunID      string          `json:"runId"`
	Region     string          `json:"region"`
	Namespace  string          `json:"namespace"`
	Status     string          `json:"status"`
	Result     json.RawMessage `json:"result,omitempty"`
	Failure    string          `json:"failure,omitempty"`
}

// Location is where a workflow lives: its Temporal workflow id, its
// region, and the client for its namespace there. The calls on it go to
// that region only, through its breaker.
type Location struct {
	ID        string
	Region    *Region
	Client    client.Client
	Namespace string

	// m and rec let a call follow a replicated namespace to the cluster
	// it is active in, moving the record (replication.go); rec is zero
	// for a workflow found without one.
	m   *Manager
	rec Record
}

// Locate finds where a workflow id lives: its routing record, or, for ids
// started before records existed or whose record was lost, the region that
// answers for it. namespaceIn names the namespace to search in each region
// (the tenant's: an isolated tenant's workflows are not in the region's
// own); nil means the region's own.
//
// While the records store is down, the placements of recently started
// and looked-up workflows (placementCache) answer for it, and other ids
// are searched for in the regions as if they had no record: reads of
// known workflows keep working.
func (m *Manager) Locate(ctx context.Context, id string, namespaceIn func(region string) string) (Location, error) {
	key := m.keys.Key(id)
	rec, err := m.lookup(ctx, id, key)
	storeDown := err != nil
	if storeDown {
		var ok bool
		if rec.Placement, ok = m.cache.get(key); !ok {
			rec = Record{} // search the regions
		}
	}
	if r, ok := m.Region(rec.Region); ok {
		c, err := m.clientIn(ctx, r, rec.Namespace)
		if err != nil {
			return Location{}, fmt.Errorf("locating %s: %w", id, err)
		}
		m.cache.put(key, rec.Placement)
		loc := Location{ID: id, Region: r, Client: c, Namespace: m.namespaceOf(rec.Placement), m: m, rec: rec}
		m.preferActive(ctx, &loc)
		return loc, nil
	}
	var unreachable error
	for _, r := range m.All() {
		ns := r.namespaceIn(namespaceIn)
		loc, err := r.find(ctx, id, ns)
		loc.m = m
		if err == nil {
			at := Placement{Region: r.Name(), Namespace: ns}
			if !storeDown {
				_, _ = m.records.Claim(ctx, key, at)
			}
			m.cache.put(key, at)
			return loc, nil
		}
		if !isNotFound(err) {
			unreachable = err
		}
	}
	if unreachable != nil {
		// A region we could not ask may hold it: saying 404 would be a guess.
		return Location{}, fmt.Errorf("locating %s: %w: %w", id, ErrUnavailable, unreachable)
	}
	return Location{}, fmt.Errorf("%w: %s", ErrNotFound, id)
}

// lookup reads id's record under the current key, then under older ones
// (RecordKeys); a record found under an older key is moved to the current
// one by the next start of the id, not by a read.
func (m *Manager) lookup(ctx context.Context, id, key string) (Record, error) {
	rec, err := m.records.Lookup(ctx, key)
	for _, old := range m.keys.older(id) {
		if err != nil || rec.Region != "" {
			break
		}
		rec, err = m.records.Lookup(ctx, old)
	}
	if err != nil {
		return Record{}, recordsErr(err)
	}
	return rec, nil
}

// namespaceIn is the namespace in names for r, or r's own when in is nil
// or names none.
func (r *Region) namespaceIn(in func(region string) string) string {
	if in == nil {
		return r.namespace
	}
	return cmp.Or(in(r.name), r.namespace)
}

// find asks the region whether it has the workflow in namespace. failFast:
// a region that refuses connections is reported at once instead of holding
// up the answers of the others.
func (r *Region) find(ctx context.Context, id, namespace string) (Location, error) {
	c, err := r.clientFor(ctx, namespace)
	if err != nil {
		return Location{}, err
	}
	err = r.call(ctx, true, func(ctx context.Context) error {
		_, err := c.DescribeWorkflow(ctx, id, "")
		return err
	})
	if err != nil {
		return Location{}, err
	}
	return Location{ID: id, Region: r, Client: c, Namespace: namespace}, nil
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// mapErr turns a Temporal not-found into ErrNotFound.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if isNotFound(err) {
		return fmt.Errorf("%s: %w: %w", what, ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Describe returns the latest run's status, with the result or failure
// once it has closed.
func (l Location) Describe(ctx context.Context) (Description, error) {
	id := l.ID
	d := Description{WorkflowID: id, Namespace: l.Namespace}
	err := l.do(ctx, func(ctx context.Context, c client.Client) error {
		resp, err := c.DescribeWorkflow(ctx, id, "")
		if err != nil {
			return err
		}
		info := resp.RawResponse.GetWorkflowExecutionInfo()
		d.RunID = info.GetExecution().GetRunId()
		d.Status = statusName(info.GetStatus())
		return nil
	})
	d.Region = l.Region.Name() // where it runs now, after following a failover
	if err != nil {
		return d, mapErr(err, "describing "+id)
	}
	switch d.Status {
	case "COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED", "CANCELED":
		err = l.do(ctx, func(ctx context.Context, c client.Client) error {
			var res json.RawMessage
			getErr := c.GetWorkflow(ctx, id, d.RunID).Get(ctx, &res)
			if d.Status == "COMPLETED" && getErr == nil {
				d.Result = res
				return nil
			}
			if getErr != nil && d.Status != "COMPLETED" {
				d.Failure = failureMessage(getErr)
				return nil
			}
			return getErr
		})
	}
	return d, mapErr(err, "reading the outcome of "+id)
}

func statusName(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "RUNNING"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "COMPLETED"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "FAILED"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "CANCELED"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "TERMINATED"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "CONTINUED_AS_NEW"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "TIMED_OUT"
	}
	return "UNSPECIFIED"
}

// Query runs a query against the workflow's latest run.
func (l Location) Query(ctx context.Context, queryType string, args ...any) (json.RawMessage, error) {
	var out json.RawMessage
	err := l.do(ctx, func(ctx context.Context, c client.Client) error {
		v, err := c.QueryWorkflow(ctx, l.ID, "", queryType, args...)
		if err != nil {
			return err
		}
		return v.Get(&out)
	})
	return out, mapErr(err, fmt.Sprintf("querying %s of %s", queryType, l.ID))
}

// Signal sends a signal to the workflow's latest run.
func (l Location) Signal(ctx context.Context, name string, input json.RawMessage) error {
	var arg any
	if input != nil {
		arg = input
	}
	err := l.do(ctx, func(ctx context.Context, c client.Client) error {
		return c.SignalWorkflow(ctx, l.ID, "", name, arg)
	})
	return mapErr(err, fmt.Sprintf("signalling %s to %s", name, l.ID))
}

// Cancel requests cancellation of the workflow's latest run.
func (l Location) Cancel(ctx context.Context) error {
	err := l.do(ctx, func(ctx context.Context, c client.Client) error { return c.CancelWorkflow(ctx, l.ID, "") })
	return mapErr(err, "cancelling "+l.ID)
}

// failureMessage is the workflow's own account of why it ended, without
// the SDK's wrapping (ids, event numbers) around it.
func failureMessage(err error) string {
	var app *temporal.ApplicationError
	var canceled *temporal.CanceledError
	var terminated *temporal.TerminatedError
	var timeout *temporal.TimeoutError
	switch {
	case errors.As(err, &app):
		return app.Message()
	case errors.As(err, &canceled):
		return "canceled"
	case errors.As(err, &terminated):
		return "terminated"
	case errors.As(err, &timeout):
		return "timed out: " + timeout.Error()
	}
	return err.Error()
}
