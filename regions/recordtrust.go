package regions

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/regiongate/regiongate/router"
)

// markerKey is the key of the store's marker record: present while the
// store holds every record it was given. Record keys are hex hashes (or,
// for stores written before that, workflow ids, which cannot hold control
// characters), so it names no workflow.
const markerKey = "\x01regiongate-store"

// markerPlacement is what the marker record holds: no region.
var markerPlacement = Placement{Region: "-"}

// ErrRecordsIncomplete: the records store may have lost records (it has
// no marker and the regions hold workflows), and the home region could not
// be asked whether it already has this id. It wraps ErrUnavailable.
var ErrRecordsIncomplete = fmt.Errorf("%w: the routing records may be incomplete and the home region cannot be asked about this id", ErrUnavailable)

// RecordsComplete reports whether the records store is known to hold
// every record (its marker is there, CheckRecords). While it is not, a
// start of an id without a record is sent outside its home region only
// once the home region has said it does not have the id.
func (m *Manager) RecordsComplete() bool { return m.complete.Load() }

// CheckRecords decides whether the records store can be trusted to be
// complete: it is if it holds its marker record. A store without one is
// either new or has lost its records (a Consul agent that came back empty,
// a deleted file). If a region holds a workflow in any namespace, records
// were lost: the store stays incomplete until `regiongate records
// reconcile --apply` has rebuilt them and written the marker
// (MarkRecordsComplete). If every region answers that it holds none, the
// store is new and gets its marker. If the regions that answer hold none
// but some cannot be asked, it is taken as complete for now (a store lost
// while every reachable region is empty has nothing to lose) and asked
// again at the next check. The gateway checks at start and with every
// sweep, so a store that loses its records while the gateway runs is
// noticed within a sweep interval.
func (m *Manager) CheckRecords(ctx context.Context) error {
	rec, err := m.records.Lookup(ctx, markerKey)
	if err != nil {
		return recordsErr(err)
	}
	if rec.Region != "" {
		m.complete.Store(true)
		return nil
	}
	holds, unasked := m.regionsHoldWorkflows(ctx)
	switch {
	case holds:
		m.complete.Store(false)
		return nil
	case unasked != nil:
		m.complete.Store(true)
		return fmt.Errorf("the records store has no marker, and not every region could be asked whether it holds workflows: %w", unasked)
	}
	return m.MarkRecordsComplete(ctx)
}

// MarkRecordsComplete writes the store's marker: from now on it is
// trusted to hold every record.
func (m *Manager) MarkRecordsComplete(ctx context.Context) error {
	if _, err := m.records.Claim(ctx, markerKey, markerPlacement); err != nil && !errors.Is(err, ErrRecordExists) {
		return recordsErr(err)
	}
	m.complete.Store(true)
	return nil
}

// regionsHoldWorkflows reports whether some region holds a workflow in
// one of the namespaces the config gives it; unasked joins the errors of
// the regions that could not be asked.
func (m *Manager) regionsHoldWorkflows(ctx context.Context) (holds bool, unasked error) {
	var errs []error
	for _, r := range m.All() {
		for _, ns := range m.namespacesOf(r) {
			c, err := r.clientFor(ctx, ns)
			var n int
			if err == nil {
				err = r.call(ctx, true, func(ctx context.Context) error {
					resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, PageSize: 1})
					n = len(resp.GetExecutions())
					return err
				})
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("asking %s whether %s holds workflows: %w", r.Name(), ns, err))
				break // the next namespace of a region that cannot be asked waits as long
			}
			if n > 0 {
				return true, nil
			}
		}
	}
	return false, errors.Join(errs...)
}

// namespacesOf are the namespaces of r in the policy in force: its own and
// every isolated tenant's (router.Namespaces); its own alone without one.
func (m *Manager) namespacesOf(r *Region) []string {
	if p := m.policyNow(); p != nil {
		if rc, ok := p.Config().Region(r.Name()); ok {
			return router.Namespaces(p.Config(), rc)
		}
	}
	return []string{r.namespace}
}

// homeHas asks the decision's home region (its first lawful one) whether
// it already has id, in this request's namespace there: the proof a start
// of an id without a record needs before it is sent anywhere else while
// the records may be incomplete. It returns the home destination, and
// ErrRecordsIncomplete when the home region cannot be asked.
func (m *Manager) homeHas(ctx context.Context, d *router.Decision, id string) (router.Destination, bool, error) {
	home, ok := d.LawfulDestination(d.Lawful[0])
	r, found := m.Region(home.Region)
	if !ok || !found {
		return home, false, fmt.Errorf("%w: home region %s is not configured", ErrRecordsIncomplete, d.Lawful[0])
	}
	_, err := r.find(ctx, id, home.Namespace)
	switch {
	case err == nil:
		return home, true, nil
	case isNotFound(err):
		return home, false, nil
	}
	return home, false, fmt.Errorf("%w: %w", ErrRecordsIncomplete, err)
}

// recordsErr marks a failure of the records store (not an answer) as
// ErrRecordsUnavailable, whatever store it came from.
func recordsErr(err error) error {
	if err == nil || isAnswer(err) || errors.Is(err, ErrRecordsUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrRecordsUnavailable, err)
}
