package regions

import (
	"context"
	"errors"
	"fmt"
	"slices"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// ReconcileOptions tune Reconcile.
type ReconcileOptions struct {
	// Apply writes the missing records (and, when every region could be
	// listed, the store's marker); false only reports.
	Apply bool
	// PageSize is how many workflows one visibility page lists; zero
	// means 500.
	PageSize int
}

// ReconcileReport is what Reconcile found and did.
type ReconcileReport struct {
	Workflows int // distinct workflow ids listed across regions and namespaces
	Matching  int // ids whose record names where they are
	Missing   int // ids without a record
	Written   int // of those, records written (Apply)
	// Conflicts are ids found in more than one place, or whose record
	// names a place other than where they were found: never changed, for
	// an operator to decide.
	Conflicts []Conflict
	// Errors are the regions and namespaces that could not be listed; with
	// any, the store is not marked complete.
	Errors []error
	// Complete says the store's marker was written (Apply, no Errors).
	Complete bool
}

// Conflict is a workflow id that is in more than one place, or whose
// record says otherwise.
type Conflict struct {
	WorkflowID string      // the Temporal workflow id ("tenant:id")
	Found      []Placement // where visibility lists it
	Record     Placement   // what its record says; zero when it has none
}

// Reconcile rebuilds routing records from the regions' visibility, for
// after a records store loss: it lists every workflow (open or closed, as
// long as Temporal keeps it) in every region and in every namespace the
// config gives it, and for each id found in exactly one place without a
// record, claims that place for it. Ids found in two places, or whose
// record names another place, are reported and left alone. It never moves
// or deletes a record.
func (m *Manager) Reconcile(ctx context.Context, o ReconcileOptions) (ReconcileReport, error) {
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	var rep ReconcileReport
	found := map[string][]Placement{}
	var order []string
	for _, r := range m.All() {
		for _, ns := range m.namespacesOf(r) {
			at := Placement{Region: r.Name(), Namespace: ns}
			err := m.listAll(ctx, r, ns, "", o.PageSize, func(w *workflowpb.WorkflowExecutionInfo) error {
				id := w.GetExecution().GetWorkflowId()
				if _, seen := found[id]; !seen {
					order = append(order, id)
				}
				if !slices.Contains(found[id], at) {
					found[id] = append(found[id], at)
				}
				return nil
			})
			if err != nil {
				rep.Errors = append(rep.Errors, fmt.Errorf("listing %s in %s: %w", ns, r.Name(), err))
			}
		}
	}
	rep.Workflows = len(order)
	for _, id := range order {
		if err := m.reconcileID(ctx, id, found[id], o.Apply, &rep); err != nil {
			return rep, err
		}
	}
	if o.Apply && len(rep.Errors) == 0 {
		if err := m.MarkRecordsComplete(ctx); err != nil {
			return rep, err
		}
		rep.Complete = true
	}
	return rep, nil
}

// reconcileID compares one id's record with where it was found.
func (m *Manager) reconcileID(ctx context.Context, id string, at []Placement, apply bool, rep *ReconcileReport) error {
	key := m.keys.Key(id)
	rec, err := m.lookup(ctx, id, key)
	if err != nil {
		return err
	}
	recorded := Placement{}
	if rec.Region != "" {
		recorded = Placement{Region: rec.Region, Namespace: m.namespaceOf(rec.Placement)}
	}
	switch {
	case len(at) > 1 || (rec.Region != "" && recorded != at[0]):
		rep.Conflicts = append(rep.Conflicts, Conflict{WorkflowID: id, Found: at, Record: recorded})
	case rec.Region != "":
		rep.Matching++
	default:
		rep.Missing++
		if !apply {
			return nil
		}
		_, err := m.records.Claim(ctx, key, at[0])
		switch {
		case errors.Is(err, ErrRecordExists):
			// Claimed meanwhile by a start: the start's record stands.
		case err != nil:
			return fmt.Errorf("writing the record of %s: %w", id, recordsErr(err))
		default:
			rep.Written++
		}
	}
	return nil
}

// listAll calls each with every workflow visibility lists in ns for
// query ("" is all), page by page; an error from each stops it.
func (m *Manager) listAll(ctx context.Context, r *Region, ns, query string, pageSize int, each func(*workflowpb.WorkflowExecutionInfo) error) error {
	c, err := r.clientFor(ctx, ns)
	if err != nil {
		return err
	}
	var token []byte
	for {
		var page *workflowservice.ListWorkflowExecutionsResponse
		err := r.call(ctx, false, func(ctx context.Context) error {
			page, err = c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: ns, PageSize: int32(pageSize), NextPageToken: token, Query: query})
			return err
		})
		if err != nil {
			return err
		}
		for _, w := range page.GetExecutions() {
			if err := each(w); err != nil {
				return err
			}
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			return nil
		}
	}
}
