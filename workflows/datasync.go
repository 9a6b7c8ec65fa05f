package workflows

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ErrTypeDataSyncFailed is a ResilientDataSync that gave up on a batch
// after its retry policy's last attempt.
const ErrTypeDataSyncFailed = "DataSyncFailed"

// ResilientDataSync defaults and limits.
const (
	defaultDataSyncRecords   = 100
	defaultDataSyncBatchSize = 25
	maxDataSyncRecords       = 100000
	maxDataSyncBatchSize     = 1000
	// maxDataSyncBatches bounds the activities, and so the history, of one
	// run.
	maxDataSyncBatches = 1000
	maxDatasetIDBytes  = 128
)

// DataSyncInput is the input of the ResilientDataSync workflow. Zero
// Records and BatchSize mean the defaults (100 records, 25 a batch).
type DataSyncInput struct {
	DatasetID string `json:"datasetId"`
	Records   int    `json:"records,omitempty"`
	BatchSize int    `json:"batchSize,omitempty"`
}

// DataSyncResult is the result of the ResilientDataSync workflow.
type DataSyncResult struct {
	DatasetID     string `json:"datasetId"`
	RecordsSynced int    `json:"recordsSynced"`
	Batches       int    `json:"batches"`
}

// RecordBatch is the input of SyncRecords: one batch, written under its own
// idempotency key.
type RecordBatch struct {
	IdempotencyKey string `json:"idempotencyKey"`
	DatasetID      string `json:"datasetId"`
	Offset         int    `json:"offset"`
	Limit          int    `json:"limit"`
}

func (in DataSyncInput) withDefaults() DataSyncInput {
	if in.Records == 0 {
		in.Records = defaultDataSyncRecords
	}
	if in.BatchSize == 0 {
		in.BatchSize = defaultDataSyncBatchSize
	}
	return in
}

func (in DataSyncInput) validate() error {
	switch {
	case in.DatasetID == "" || len(in.DatasetID) > maxDatasetIDBytes:
		return validationError("datasetId is required, at most %d bytes", maxDatasetIDBytes)
	case in.Records < 1 || in.Records > maxDataSyncRecords:
		return validationError("records must be between 1 and %d, got %d", maxDataSyncRecords, in.Records)
	case in.BatchSize < 1 || in.BatchSize > maxDataSyncBatchSize:
		return validationError("batchSize must be between 1 and %d, got %d", maxDataSyncBatchSize, in.BatchSize)
	case in.batches() > maxDataSyncBatches:
		return validationError("records / batchSize must make at most %d batches, got %d", maxDataSyncBatches, in.batches())
	}
	return nil
}

func (in DataSyncInput) batches() int { return (in.Records + in.BatchSize - 1) / in.BatchSize }

// dataSyncActivityOptions is the retry policy the workflow is named for:
// exponential backoff (1 s, 2 s, 4 s, 8 s) for at most 5 attempts, and no
// retry at all of a refusal, which retrying cannot fix.
func dataSyncActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{ErrTypeValidation, ErrTypeAuthentication},
		},
	}
}

// ResilientDataSync copies a dataset from the record source to the
// destination in batches, one SyncRecords activity each. A transient
// failure is retried with backoff; a refusal (ValidationError,
// AuthenticationError) fails the run at once with its own type; a batch
// still failing after the last attempt fails it as DataSyncFailed. Batches
// written before a failure stay written, and a new run writes them again
// under new keys (the destination must tolerate that, as a sync target
// does). Queries: getStatus and getProgress (0 to 100).
func ResilientDataSync(ctx workflow.Context, in DataSyncInput) (DataSyncResult, error) {
	status, progress := syncRunning, 0
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return status, nil }); err != nil {
		return DataSyncResult{}, fmt.Errorf("register status query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (int, error) { return progress, nil }); err != nil {
		return DataSyncResult{}, fmt.Errorf("register progress query: %w", err)
	}
	in = in.withDefaults()
	if err := in.validate(); err != nil {
		status = syncFailed
		return DataSyncResult{}, err
	}

	var a *Activities
	actx := workflow.WithActivityOptions(ctx, dataSyncActivityOptions())
	res := DataSyncResult{DatasetID: in.DatasetID}
	total := in.batches()
	for b := range total {
		batch := RecordBatch{
			IdempotencyKey: stepKey(ctx, fmt.Sprintf("batch-%d", b)),
			DatasetID:      in.DatasetID,
			Offset:         b * in.BatchSize,
			Limit:          min(in.BatchSize, in.Records-b*in.BatchSize),
		}
		var n int
		if err := workflow.ExecuteActivity(actx, a.SyncRecords, batch).Get(ctx, &n); err != nil {
			status = syncFailed
			if ctx.Err() != nil {
				status = syncCanceled
				return DataSyncResult{}, fmt.Errorf("data sync stopped at batch %d of %d: %w", b+1, total, err)
			}
			return DataSyncResult{}, dataSyncFailure(b+1, total, err)
		}
		res.RecordsSynced += n
		res.Batches++
		progress = res.Batches * 100 / total
	}
	status = syncCompleted
	return res, nil
}

// dataSyncFailure builds the workflow error for a batch that failed for
// good: a refusal keeps its type, anything else (the retry policy's last
// attempt failed; the cause, an ActivityError, carries the retry state) is
// DataSyncFailed.
func dataSyncFailure(batch, total int, err error) error {
	err = withoutCancel(err)
	msg := fmt.Sprintf("data sync failed at batch %d of %d", batch, total)
	if isRejection(err) {
		return rejected(msg, err)
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeDataSyncFailed, err)
}

// SyncRecords copies one batch: it fetches the records from the source and
// writes them to the destination under the batch's key, so a retry after a
// lost answer does not write them twice. It returns the count written.
func (a *Activities) SyncRecords(ctx context.Context, b RecordBatch) (int, error) {
	if b.IdempotencyKey == "" || b.DatasetID == "" || b.Offset < 0 || b.Limit < 1 || b.Limit > maxDataSyncBatchSize {
		return 0, validationError("a batch needs an idempotency key, a dataset id, an offset and 1 to %d records", maxDataSyncBatchSize)
	}
	records, err := a.source.FetchRecords(ctx, b.DatasetID, b.Offset, b.Limit)
	if err != nil {
		return 0, refusal(fmt.Errorf("fetching records: %w", err))
	}
	n, err := a.destination.WriteRecords(ctx, b.IdempotencyKey, b.DatasetID, records)
	if err != nil {
		return 0, refusal(fmt.Errorf("writing records: %w", err))
	}
	return n, nil
}
