package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/regiongate/regiongate/workflows/services"
)

// dataSyncFixture is a test environment with its own record services.
type dataSyncFixture struct {
	env         *testsuite.TestWorkflowEnvironment
	source      *services.RecordSource
	destination *services.RecordStore

	mu       sync.Mutex
	attempts []attempt
}

// attempt is one SyncRecords attempt as the test clock saw it start.
type attempt struct {
	offset int
	n      int32
	at     time.Duration // since the workflow started
}

func newDataSyncEnv(t *testing.T) *dataSyncFixture {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	f := &dataSyncFixture{env: suite.NewTestWorkflowEnvironment(),
		source: services.NewRecordSource(), destination: services.NewRecordStore()}
	Register(f.env, NewActivitiesWith(Services{Source: f.source, Destination: f.destination}))
	start := f.env.Now()
	f.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		var b RecordBatch
		require.NoError(t, args.Get(&b))
		f.mu.Lock()
		defer f.mu.Unlock()
		f.attempts = append(f.attempts, attempt{offset: b.Offset, n: info.Attempt, at: f.env.Now().Sub(start)})
	})
	return f
}

// gaps returns the time between the attempts of the batch at offset.
func (f *dataSyncFixture) gaps(offset int) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	var last *attempt
	for i := range f.attempts {
		a := &f.attempts[i]
		if a.offset != offset {
			continue
		}
		if last != nil {
			out = append(out, (a.at - last.at).Round(100*time.Millisecond))
		}
		last = a
	}
	return out
}

func (f *dataSyncFixture) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.attempts)
}

func TestResilientDataSyncCompletes(t *testing.T) {
	f := newDataSyncEnv(t)

	f.env.ExecuteWorkflow(resilientDataSyncName, DataSyncInput{DatasetID: "ds-1"})

	require.NoError(t, f.env.GetWorkflowError())
	var res DataSyncResult
	require.NoError(t, f.env.GetWorkflowResult(&res))
	require.Equal(t, DataSyncResult{DatasetID: "ds-1", RecordsSynced: 100, Batches: 4}, res)
	require.Equal(t, 100, f.destination.Stored("ds-1"))
	require.Equal(t, 4, f.count(), "one attempt per batch")
	require.Equal(t, "completed", queryString(t, f.env, QueryStatus))
	require.Equal(t, 100, queryProgress(t, f.env))
}

func TestResilientDataSyncRetriesTransientFailuresWithBackoff(t *testing.T) {
	f := newDataSyncEnv(t)

	f.env.ExecuteWorkflow(resilientDataSyncName, DataSyncInput{DatasetID: services.FlakyDataset, Records: 30, BatchSize: 20})

	require.NoError(t, f.env.GetWorkflowError())
	require.Equal(t, 2*(services.FlakyFailures+1), f.count(), "each batch fails twice, then passes")
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, f.gaps(0), "exponential backoff")
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, f.gaps(20))
	require.Equal(t, 30, f.destination.Stored(services.FlakyDataset))
}

func TestResilientDataSyncGivesUpAfterTheLastAttempt(t *testing.T) {
	f := newDataSyncEnv(t)

	f.env.ExecuteWorkflow(resilientDataSyncName, DataSyncInput{DatasetID: services.DownDataset})

	appErr := requireAppError(t, f.env.GetWorkflowError(), ErrTypeDataSyncFailed)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, "data sync failed at batch 1 of 4", appErr.Message())
	require.Equal(t, 5, f.count())
	s := time.Second
	require.Equal(t, []time.Duration{s, 2 * s, 4 * s, 8 * s}, f.gaps(0))
	require.Equal(t, "failed", queryString(t, f.env, QueryStatus))
}

func TestResilientDataSyncDoesNotRetryRefusals(t *testing.T) {
	tests := []struct {
		name, dataset, wantType, wantMsg string
	}{
		{name: "invalid records", dataset: services.InvalidDataset, wantType: ErrTypeValidation,
			wantMsg: "data sync failed at batch 1 of 4: writing records: service rejected the request as invalid"},
		{name: "refused credentials", dataset: services.AuthFailedDataset, wantType: ErrTypeAuthentication,
			wantMsg: "data sync failed at batch 1 of 4: fetching records: service rejected our credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newDataSyncEnv(t)

			f.env.ExecuteWorkflow(resilientDataSyncName, DataSyncInput{DatasetID: tt.dataset})

			appErr := requireAppError(t, f.env.GetWorkflowError(), tt.wantType)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tt.wantMsg, appErr.Message())
			require.Equal(t, 1, f.count(), "stopped at once")
			require.Zero(t, f.destination.Stored(tt.dataset))
		})
	}
}

func TestResilientDataSyncWritesABatchOnceWhenTheAnswerIsLost(t *testing.T) {
	f := newDataSyncEnv(t)
	f.destination.Inject(services.Fault{Op: services.OpWriteRecords, AfterEffect: true})

	f.env.ExecuteWorkflow(resilientDataSyncName, DataSyncInput{DatasetID: "ds-1", Records: 10, BatchSize: 10})

	require.NoError(t, f.env.GetWorkflowError())
	require.Equal(t, 2, f.count())
	require.Equal(t, 10, f.destination.Stored("ds-1"), "the retry found the first write")
}

func TestResilientDataSyncCancel(t *testing.T) {
	f := newDataSyncEnv(t)
	f.env.RegisterDelayedCallback(f.env.CancelWorkflow, 2500*time.Millisecond)

	f.env.ExecuteWorkflow(resilientDataSyncName, DataSyncInput{DatasetID: services.DownDataset})

	err := f.env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "want canceled, got %v", err)
	require.Equal(t, "canceled", queryString(t, f.env, QueryStatus))
}

func TestResilientDataSyncInput(t *testing.T) {
	tests := []struct {
		name    string
		in      DataSyncInput
		want    DataSyncInput
		wantErr bool
	}{
		{name: "defaults", in: DataSyncInput{DatasetID: "d"}, want: DataSyncInput{DatasetID: "d", Records: 100, BatchSize: 25}},
		{name: "one batch of one", in: DataSyncInput{DatasetID: "d", Records: 1, BatchSize: 1}, want: DataSyncInput{DatasetID: "d", Records: 1, BatchSize: 1}},
		{name: "no dataset", in: DataSyncInput{}, wantErr: true},
		{name: "negative records", in: DataSyncInput{DatasetID: "d", Records: -1}, wantErr: true},
		{name: "too many records", in: DataSyncInput{DatasetID: "d", Records: maxDataSyncRecords + 1, BatchSize: 1000}, wantErr: true},
		{name: "batch too large", in: DataSyncInput{DatasetID: "d", BatchSize: maxDataSyncBatchSize + 1}, wantErr: true},
		{name: "too many batches", in: DataSyncInput{DatasetID: "d", Records: maxDataSyncBatches + 1, BatchSize: 1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.withDefaults()
			err := got.validate()
			if tt.wantErr {
				requireAppError(t, err, ErrTypeValidation)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
