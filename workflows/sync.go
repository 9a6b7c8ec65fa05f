package workflows

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// PropertyDataSync stages reported by the getStatus query.
const (
	syncRunning   = "syncing"
	syncCompleted = "completed"
	syncFailed    = "failed"
	syncCanceled  = "canceled"
)

const (
	defaultSyncPages     = 20
	defaultPageDelayMs   = 50
	maxSyncPages         = 10000
	syncHeartbeatTimeout = 5 * time.Second
	// maxPageDelayMs stays well under the heartbeat timeout because the
	// activity only heartbeats between pages; a slower page would look like
	// a dead worker.
	maxPageDelayMs = 2000
)

// PropertyDataSyncInput is the input of the PropertyDataSync workflow and the
// SyncPropertyData activity. Zero Pages or PageDelayMs mean the defaults
// (20 pages, 50ms per page).
type PropertyDataSyncInput struct {
	PropertyID  string `json:"propertyId"`
	Pages       int    `json:"pages,omitempty"`
	PageDelayMs int    `json:"pageDelayMs,omitempty"`
}

// PropertyDataSyncResult is the result of the PropertyDataSync workflow.
// PagesSynced counts every page now in sync, including those synced by
// earlier attempts; ResumedFrom is the last page an earlier attempt had
// heartbeated (0 for a fresh start); FieldsResynced counts the fields
// re-synced after propertyUpdated signals.
type PropertyDataSyncResult struct {
	PropertyID     string `json:"propertyId"`
	PagesSynced    int    `json:"pagesSynced"`
	ResumedFrom    int    `json:"resumedFrom"`
	FieldsResynced int    `json:"fieldsResynced,omitempty"`
}

func (in PropertyDataSyncInput) withDefaults() PropertyDataSyncInput {
	if in.Pages == 0 {
		in.Pages = defaultSyncPages
	}
	if in.PageDelayMs == 0 {
		in.PageDelayMs = defaultPageDelayMs
	}
	return in
}

func (in PropertyDataSyncInput) validate() error {
	switch {
	case in.PropertyID == "":
		return validationError("propertyId is required")
	case in.Pages < 0 || in.Pages > maxSyncPages:
		return validationError("pages must be between 1 and %d, got %d", maxSyncPages, in.Pages)
	case in.PageDelayMs < 0 || in.PageDelayMs > maxPageDelayMs:
		return validationError("pageDelayMs must be between 1 and %d, got %d", maxPageDelayMs, in.PageDelayMs)
	}
	return nil
}

// PropertyDataSync runs one long, heartbeating SyncPropertyData activity.
// If the worker running it dies, the heartbeat timeout lets the server retry
// it elsewhere, and the retry resumes from the last heartbeated page. While
// it runs, propertyUpdated signals have the fields they name re-synced (see
// syncReacting); getUpdates tells what came in and what was done.
func PropertyDataSync(ctx workflow.Context, in PropertyDataSyncInput) (PropertyDataSyncResult, error) {
	s := newPropertySync()
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return s.status, nil }); err != nil {
		return PropertyDataSyncResult{}, fmt.Errorf("register status query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, QueryUpdates, func() (PropertyUpdates, error) { return s.query(), nil }); err != nil {
		return PropertyDataSyncResult{}, fmt.Errorf("register updates query: %w", err)
	}
	in = in.withDefaults()
	if err := in.validate(); err != nil {
		s.status = syncFailed
		return PropertyDataSyncResult{}, err
	}
	reacting := workflow.GetVersion(ctx, propertyUpdatesChange, workflow.DefaultVersion, 1) == 1

	// Twice the nominal run time plus slack: the timeout only has to catch
	// a stuck attempt, since a dead worker is caught by the heartbeat.
	nominal := time.Duration(in.Pages*in.PageDelayMs) * time.Millisecond
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2*nominal + time.Minute,
		HeartbeatTimeout:    syncHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Second,
			MaximumAttempts:    10,
		},
	})
	var a *Activities
	pages := workflow.ExecuteActivity(actx, a.SyncPropertyData, in)
	var res PropertyDataSyncResult
	var err error
	if reacting {
		res, err = s.syncReacting(ctx, in, pages)
	} else {
		err = pages.Get(ctx, &res)
	}
	if err != nil {
		s.status = syncFailed
		if ctx.Err() != nil {
			s.status = syncCanceled
		}
		return PropertyDataSyncResult{}, fmt.Errorf("sync property: %w", err)
	}
	s.status = syncCompleted
	return res, nil
}

// SyncPropertyData walks the pages of a property, heartbeating the page
// number after each one, and skips the pages an earlier attempt heartbeated.
func (a *Activities) SyncPropertyData(ctx context.Context, in PropertyDataSyncInput) (PropertyDataSyncResult, error) {
	in = in.withDefaults()
	if err := in.validate(); err != nil {
		return PropertyDataSyncResult{}, err
	}
	start := resumePoint(ctx, in.Pages)
	if start > 0 {
		activity.GetLogger(ctx).Info("resuming property sync", "afterPage", start)
	}
	delay := time.Duration(in.PageDelayMs) * time.Millisecond
	for page := start + 1; page <= in.Pages; page++ {
		if err := sleepCtx(ctx, delay); err != nil {
			return PropertyDataSyncResult{}, fmt.Errorf("sync property page %d: %w", page, err)
		}
		// Also before the fetch, so the longest gap between heartbeats is
		// one page delay or one fetch, not both.
		activity.RecordHeartbeat(ctx, page-1)
		if err := a.properties.FetchPage(ctx, in.PropertyID, page); err != nil {
			// The retry resumes after the last heartbeated page.
			return PropertyDataSyncResult{}, refusal(fmt.Errorf("sync property page %d: %w", page, err))
		}
		activity.RecordHeartbeat(ctx, page)
	}
	return PropertyDataSyncResult{PropertyID: in.PropertyID, PagesSynced: in.Pages, ResumedFrom: start}, nil
}

// resumePoint returns the last page an earlier attempt heartbeated, clamped
// to 0..pages.
func resumePoint(ctx context.Context, pages int) int {
	if !activity.HasHeartbeatDetails(ctx) {
		return 0
	}
	var last int
	if err := activity.GetHeartbeatDetails(ctx, &last); err != nil {
		// Syncing a page twice is harmless, so unreadable progress just
		// means starting over rather than failing the attempt.
		activity.GetLogger(ctx).Warn("ignoring unreadable heartbeat details", "error", err)
		return 0
	}
	return min(max(last, 0), pages)
}

// sleepCtx waits for d, returning early with ctx's error if the activity is
// canceled or times out.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
