package workflows

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// propertyUpdatesChange names the change that made PropertyDataSync react
// to propertyUpdated signals. Runs started before it have no marker, get
// workflow.DefaultVersion and keep ignoring the signal (re-syncing would
// schedule activities their histories do not have); new runs get 1.
const propertyUpdatesChange = "react-to-property-updates"

// Bounds on what one propertyUpdated signal may carry and on the fields
// waiting for a re-sync. A signal outside them is ignored as a whole.
const (
	maxFieldsPerUpdate = 50
	maxFieldNameBytes  = 128
	maxPendingFields   = 200
)

// PropertyUpdate is the input of the propertyUpdated signal: fields of the
// property that changed at the source.
type PropertyUpdate struct {
	PropertyID string   `json:"propertyId"`
	Fields     []string `json:"fields"`
}

// PropertyUpdates is what the getUpdates query of PropertyDataSync returns.
type PropertyUpdates struct {
	// Received counts the propertyUpdated signals taken in; Ignored counts
	// those among them naming another property, no field, or too many. A
	// payload that does not decode as a PropertyUpdate is in neither: the
	// SDK drops it, logs it and counts it in its corrupted-signals metric.
	Received int `json:"received"`
	Ignored  int `json:"ignored"`
	// Resyncing are the fields being re-synced now, Pending those waiting
	// for the next re-sync, in the order they were first named.
	Resyncing []string `json:"resyncing"`
	Pending   []string `json:"pending"`
	// FieldsResynced counts the fields re-synced so far (a field named in
	// two re-syncs counts twice).
	FieldsResynced int `json:"fieldsResynced"`
}

// PropertyFieldsRequest is the input of SyncPropertyFields.
type PropertyFieldsRequest struct {
	PropertyID string   `json:"propertyId"`
	Fields     []string `json:"fields"`
}

// propertySync is the state of one PropertyDataSync run.
type propertySync struct {
	status  string
	updates PropertyUpdates
}

func newPropertySync() *propertySync {
	return &propertySync{status: syncRunning, updates: PropertyUpdates{Resyncing: []string{}, Pending: []string{}}}
}

func (s *propertySync) query() PropertyUpdates {
	u := s.updates
	u.Resyncing, u.Pending = slices.Clone(u.Resyncing), slices.Clone(u.Pending)
	return u
}

func fieldSyncActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{ErrTypeValidation, ErrTypeAuthentication},
		},
	}
}

// syncReacting waits for the page sync while taking in propertyUpdated
// signals: the fields they name are re-synced at once, by one
// SyncPropertyFields at a time, and fields named while one runs go into the
// next. The run ends when the page sync and every owed re-sync are done.
func (s *propertySync) syncReacting(ctx workflow.Context, in PropertyDataSyncInput, pages workflow.Future) (PropertyDataSyncResult, error) {
	var a *Activities
	signals := workflow.GetSignalChannel(ctx, SignalPropertyUpdated)
	fctx := workflow.WithActivityOptions(ctx, fieldSyncActivityOptions())
	var res PropertyDataSyncResult
	var resync workflow.Future // nil: none in flight
	syncing := true
	for {
		if resync == nil && len(s.updates.Pending) > 0 {
			s.updates.Resyncing, s.updates.Pending = s.updates.Pending, []string{}
			resync = workflow.ExecuteActivity(fctx, a.SyncPropertyFields,
				PropertyFieldsRequest{PropertyID: in.PropertyID, Fields: s.updates.Resyncing})
		}
		if !syncing && resync == nil {
			// Signals that came with the last result are owed a re-sync too.
			if !s.takeBuffered(signals, in.PropertyID) {
				res.FieldsResynced = s.updates.FieldsResynced
				return res, nil
			}
			continue
		}
		var err error
		sel := workflow.NewSelector(ctx)
		if syncing {
			sel.AddFuture(pages, func(f workflow.Future) { err, syncing = f.Get(ctx, &res), false })
		}
		if resync != nil {
			sel.AddFuture(resync, func(f workflow.Future) {
				if err = f.Get(ctx, nil); err != nil {
					err = fmt.Errorf("re-syncing updated fields: %w", err)
					return
				}
				s.updates.FieldsResynced += len(s.updates.Resyncing)
				s.updates.Resyncing, resync = []string{}, nil
			})
		}
		sel.AddReceive(signals, func(c workflow.ReceiveChannel, _ bool) { s.takeOne(c, in.PropertyID) })
		sel.Select(ctx)
		if err != nil {
			return PropertyDataSyncResult{}, err
		}
	}
}

// takeBuffered takes in every signal already received and reports whether
// that left fields to re-sync.
func (s *propertySync) takeBuffered(c workflow.ReceiveChannel, propertyID string) bool {
	for c.Len() > 0 {
		s.takeOne(c, propertyID)
	}
	return len(s.updates.Pending) > 0
}

// takeOne takes one signal off c without blocking (the SDK skips payloads
// that do not decode, so there may be none left to take).
func (s *propertySync) takeOne(c workflow.ReceiveChannel, propertyID string) {
	var u PropertyUpdate
	if !c.ReceiveAsync(&u) {
		return
	}
	s.updates.Received++
	if !s.accept(u, propertyID) {
		s.updates.Ignored++
	}
}

// accept adds u's fields to the pending ones, unless u is for another
// property or outside the bounds.
func (s *propertySync) accept(u PropertyUpdate, propertyID string) bool {
	if u.PropertyID != propertyID || len(u.Fields) == 0 || len(u.Fields) > maxFieldsPerUpdate {
		return false
	}
	var fresh []string
	for _, f := range u.Fields {
		if f == "" || len(f) > maxFieldNameBytes {
			return false
		}
		if !slices.Contains(s.updates.Pending, f) && !slices.Contains(fresh, f) {
			fresh = append(fresh, f)
		}
	}
	if len(s.updates.Pending)+len(fresh) > maxPendingFields {
		return false
	}
	s.updates.Pending = append(s.updates.Pending, fresh...)
	return true
}

// SyncPropertyFields fetches the named fields of a property again, after
// they changed at the source during a sync. Fetching is idempotent, so it
// needs no key.
func (a *Activities) SyncPropertyFields(ctx context.Context, req PropertyFieldsRequest) (int, error) {
	if req.PropertyID == "" || len(req.Fields) == 0 || len(req.Fields) > maxPendingFields {
		return 0, validationError("a field sync needs a property id and 1 to %d fields", maxPendingFields)
	}
	if err := a.properties.FetchFields(ctx, req.PropertyID, req.Fields); err != nil {
		return 0, refusal(fmt.Errorf("fetching updated fields: %w", err))
	}
	return len(req.Fields), nil
}
