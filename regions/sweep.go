package regions

import (
	"context"
	"errors"
	"fmt"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// SweepOptions tune a sweep. Zero values take the config in force
// (configs.Config.RecordsRetention, SweepInterval, SweepBatch) or, without
// a policy, its defaults.
type SweepOptions struct {
	Retention time.Duration
	Interval  time.Duration
	Batch     int
	// Now is the clock expiries are compared with; nil means time.Now.
	Now func() time.Time
	// OnSweep, when set, hears every sweep's report (logs, metrics).
	OnSweep func(SweepReport)
}

// SweepReport is what one sweep did.
type SweepReport struct {
	Closed  int     // closed workflows seen in the regions' visibility
	Expired int     // records given an expiry
	Removed int     // expired records removed
	Records int     // records in the store afterwards (-1: not counted)
	Errors  []error // regions or namespaces that could not be swept
}

// closeOverlap is how far before the newest close time seen the next sweep
// looks again: visibility is written after the close, so a workflow that
// closed just before another may appear after it.
const closeOverlap = 5 * time.Minute

// A sweep mark is the newest close time a namespace's sweeps have seen:
// the next sweep lists what closed since (less closeOverlap). It is kept
// in the records store itself, under a reserved key per region and
// namespace (a control character no hashed key has), so every replica
// and a restarted gateway go on from where the last sweep got to instead
// of listing every closed workflow again. The time is in the record's
// namespace field, as RFC 3339; Region is "-" and it never expires.
func sweepMarkKey(region, namespace string) string { return "\x01sweep:" + region + "/" + namespace }

// sweepMark reads a namespace's mark; the zero time when there is none.
func (m *Manager) sweepMark(ctx context.Context, key string) (Record, time.Time, error) {
	rec, err := m.records.Lookup(ctx, key)
	if err != nil || rec.Region == "" {
		return rec, time.Time{}, recordsErr(err)
	}
	t, _ := time.Parse(time.RFC3339Nano, rec.Namespace)
	return rec, t, nil
}

// advanceSweepMark moves the mark from rec (as read before the sweep) to
// newest. Losing a race with another replica's sweep is fine: theirs is as
// good, and the next sweep reads it.
func (m *Manager) advanceSweepMark(ctx context.Context, key string, rec Record, newest time.Time) error {
	at := Placement{Region: markerPlacement.Region, Namespace: newest.UTC().Format(time.RFC3339Nano)}
	var err error
	if rec.Region == "" {
		_, err = m.records.Claim(ctx, key, at)
	} else {
		_, err = m.records.Move(ctx, key, rec, at)
	}
	if isAnswer(err) {
		return nil
	}
	return recordsErr(err)
}

// RunSweeper sweeps every interval until ctx ends (Sweep). Every gateway
// replica may run one: what a sweep writes is idempotent (the same expiry
// is not written twice, removals are compare-and-set).
func (m *Manager) RunSweeper(ctx context.Context, o SweepOptions) {
	for {
		rep := m.Sweep(ctx, o)
		if o.OnSweep != nil {
			o.OnSweep(rep)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(m.sweepSettings(o).Interval):
		}
	}
}

// sweepSettings fills o's zero values from the config in force.
func (m *Manager) sweepSettings(o SweepOptions) SweepOptions {
	if p := m.policyNow(); p != nil {
		cfg := p.Config()
		o.Retention = cmpOr(o.Retention, cfg.RecordsRetention())
		o.Interval = cmpOr(o.Interval, cfg.SweepInterval())
		o.Batch = cmpOr(o.Batch, cfg.SweepBatch())
	}
	o.Retention = cmpOr(o.Retention, 720*time.Hour)
	o.Interval = cmpOr(o.Interval, time.Minute)
	o.Batch = cmpOr(o.Batch, 500)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func cmpOr[T time.Duration | int](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Sweep keeps the records store bounded. The gateway does not see
// workflows close, and a record's key (a keyed hash) does not say which
// workflow it is for; so a sweep goes the other way round:
//
//  1. In every region and namespace it lists, through visibility, the
//     workflows that closed since its last sweep (the first sweep: every
//     closed workflow Temporal still has), and gives the record of each
//     (if it names that region and namespace) an expiry: the close time
//     plus the retention, or the namespace's own retention if longer.
//  2. It removes expired records in batches.
//  3. It checks the store's marker (CheckRecords).
//
// The record of a start that reached no region is released by the start
// itself, at once.
func (m *Manager) Sweep(ctx context.Context, o SweepOptions) SweepReport {
	o = m.sweepSettings(o)
	rep := SweepReport{Records: -1}
	for _, r := range m.All() {
		for _, ns := range m.namespacesOf(r) {
			if err := m.sweepNamespace(ctx, r, ns, o, &rep); err != nil {
				rep.Errors = append(rep.Errors, fmt.Errorf("sweeping %s in %s: %w", ns, r.Name(), err))
			}
		}
	}
	for {
		n, err := m.records.RemoveExpired(ctx, o.Now(), o.Batch)
		rep.Removed += n
		if err != nil {
			rep.Errors = append(rep.Errors, err)
		}
		if err != nil || n < o.Batch || ctx.Err() != nil {
			break
		}
	}
	if err := m.CheckRecords(ctx); err != nil {
		rep.Errors = append(rep.Errors, fmt.Errorf("checking the records store's marker: %w", err))
	}
	if n, err := m.records.Count(ctx); err == nil {
		rep.Records = n
	}
	m.inst.sweep(rep, m.RecordsComplete())
	return rep
}

// sweepNamespace gives the records of ns's workflows that closed since the
// last sweep their expiry.
func (m *Manager) sweepNamespace(ctx context.Context, r *Region, ns string, o SweepOptions, rep *SweepReport) error {
	c, err := r.clientFor(ctx, ns)
	if err != nil {
		return err
	}
	retention := o.Retention
	var desc *workflowservice.DescribeNamespaceResponse
	err = r.call(ctx, true, func(ctx context.Context) error {
		desc, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		return err
	})
	if err != nil {
		return err
	}
	if own := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); own > retention {
		retention = own // Temporal still has it: so must the record
	}
	markKey := sweepMarkKey(r.Name(), ns)
	markRec, since, err := m.sweepMark(ctx, markKey)
	if err != nil {
		return err
	}
	query := `ExecutionStatus != "Running" AND ExecutionStatus != "ContinuedAsNew"`
	if !since.IsZero() {
		query += fmt.Sprintf(` AND CloseTime >= "%s"`, since.Add(-closeOverlap).UTC().Format(time.RFC3339Nano))
	}
	// The mark moves only once every page is done: pages are not in
	// close-time order, and a sweep cut short must not skip what it missed.
	newest := since
	err = m.listAll(ctx, r, ns, query, o.Batch, func(w *workflowpb.WorkflowExecutionInfo) error {
		closed := w.GetCloseTime().AsTime()
		rep.Closed++
		expired, err := m.expire(ctx, w.GetExecution().GetWorkflowId(), Placement{Region: r.Name(), Namespace: ns}, closed.Add(retention))
		if expired {
			rep.Expired++
		}
		if closed.After(newest) {
			newest = closed
		}
		return err
	})
	if err == nil && newest.After(since) {
		err = m.advanceSweepMark(ctx, markKey, markRec, newest)
	}
	return err
}

// expire gives id's record, if it names at, the expiry when, under
// whichever key (current or older) holds it. It reports whether it wrote
// one.
func (m *Manager) expire(ctx context.Context, id string, at Placement, when time.Time) (bool, error) {
	for _, key := range append([]string{m.keys.Key(id)}, m.keys.older(id)...) {
		rec, err := m.records.Lookup(ctx, key)
		switch {
		case err != nil:
			return false, recordsErr(err)
		case rec.Region == "":
			continue
		case rec.Region != at.Region || m.namespaceOf(rec.Placement) != at.Namespace, rec.Expires == when.Unix():
			return false, nil // elsewhere (not this workflow's), or done already
		}
		_, err = m.records.Expire(ctx, key, rec, when)
		if errors.Is(err, ErrRecordChanged) {
			return false, nil // a start rewrote it meanwhile; a later sweep sees it again
		}
		return err == nil, recordsErr(err)
	}
	return false, nil
}
