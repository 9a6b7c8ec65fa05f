package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// continuedWith asserts that the workflow continued as new and returns the
// input it carried into the next run.
func continuedWith(t *testing.T, env *testsuite.TestWorkflowEnvironment) LongRunningInput {
	t.Helper()
	err := env.GetWorkflowError()
	require.True(t, workflow.IsContinueAsNewError(err), "want continue-as-new, got %v", err)
	var canErr *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &canErr))
	require.Equal(t, longRunningProcessingName, canErr.WorkflowType.Name)
	var next LongRunningInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(canErr.Input, &next))
	return next
}

func TestLongRunningProcessingContinuesAsNew(t *testing.T) {
	tests := []struct {
		name string
		in   LongRunningInput
		want LongRunningInput
	}{
		{
			name: "first run trims the last batch",
			in:   LongRunningInput{BatchSize: 10, MaxPerRun: 35},
			want: LongRunningInput{BatchSize: 10, MaxPerRun: 35, ProcessedTotal: 35, Run: 2},
		},
		{
			name: "later run carries totals",
			in:   LongRunningInput{BatchSize: 10, MaxPerRun: 30, ProcessedTotal: 100, Run: 3},
			want: LongRunningInput{BatchSize: 10, MaxPerRun: 30, ProcessedTotal: 130, Run: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			env.ExecuteWorkflow(longRunningProcessingName, tt.in)
			require.True(t, env.IsWorkflowCompleted())
			require.Equal(t, tt.want, continuedWith(t, env))
		})
	}
}

func TestLongRunningProcessingHonoursSuggestion(t *testing.T) {
	env, _ := newEnv(t)
	env.SetContinueAsNewSuggested(true)

	env.ExecuteWorkflow(longRunningProcessingName, LongRunningInput{BatchSize: 10, MaxPerRun: 1000})

	// One batch first, so a suggestion cannot cause empty runs.
	require.Equal(t, LongRunningInput{BatchSize: 10, MaxPerRun: 1000, ProcessedTotal: 10, Run: 2}, continuedWith(t, env))
}

func TestLongRunningProcessingStatus(t *testing.T) {
	env, _ := newEnv(t)
	var got LongRunningStatus
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&got))
	}, 3*batchInterval+batchInterval/2)

	env.ExecuteWorkflow(longRunningProcessingName, LongRunningInput{BatchSize: 10, MaxPerRun: 100, ProcessedTotal: 5, Run: 2})

	continuedWith(t, env)
	require.Equal(t, LongRunningStatus{Run: 2, ProcessedThisRun: 30, ProcessedTotal: 35}, got)
}

func TestLongRunningProcessingValidation(t *testing.T) {
	tests := []struct {
		name string
		in   LongRunningInput
	}{
		{name: "zero batch", in: LongRunningInput{BatchSize: 0, MaxPerRun: 10}},
		{name: "max below batch", in: LongRunningInput{BatchSize: 10, MaxPerRun: 9}},
		{name: "negative total", in: LongRunningInput{BatchSize: 1, MaxPerRun: 1, ProcessedTotal: -1}},
		{name: "negative run", in: LongRunningInput{BatchSize: 1, MaxPerRun: 1, Run: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			env.ExecuteWorkflow(longRunningProcessingName, tt.in)
			appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeValidation)
			require.True(t, appErr.NonRetryable())
		})
	}
}

func TestLongRunningProcessingCancel(t *testing.T) {
	env, _ := newEnv(t)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)
	env.ExecuteWorkflow(longRunningProcessingName, LongRunningInput{BatchSize: 1, MaxPerRun: 1000})
	err := env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "want canceled, got %v", err)
}
