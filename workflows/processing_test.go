package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

func queryProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) int {
	t.Helper()
	return queryAs[int](t, env, QueryProgress)
}

func TestDataProcessingCompletes(t *testing.T) {
	tests := []struct {
		name       string
		in         DataProcessingInput
		wantTimers int
	}{
		{name: "timer per item", in: DataProcessingInput{Items: 10, ItemDelayMs: 1000}, wantTimers: 10},
		{name: "no items", in: DataProcessingInput{Items: 0, ItemDelayMs: 1000}, wantTimers: 0},
		{name: "no delay", in: DataProcessingInput{Items: 7, ItemDelayMs: 0}, wantTimers: 0},
		// 1200 items in chunks of 3 keeps the history bounded.
		{name: "chunked", in: DataProcessingInput{Items: 1200, ItemDelayMs: 10}, wantTimers: 400},
		{name: "item limit", in: DataProcessingInput{Items: maxProcessingItems, ItemDelayMs: 1}, wantTimers: maxProcessingTimers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			timers := 0
			var slept time.Duration
			env.SetOnTimerScheduledListener(func(_ string, d time.Duration) {
				timers++
				slept += d
			})

			env.ExecuteWorkflow(dataProcessingName, tt.in)

			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var res DataProcessingResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, tt.in.Items, res.Processed)
			require.Equal(t, tt.wantTimers, timers)
			if timers > 0 {
				require.Equal(t, time.Duration(tt.in.Items*tt.in.ItemDelayMs)*time.Millisecond, slept)
			}
			require.Equal(t, "completed", queryString(t, env, QueryStatus))
			require.Equal(t, 100, queryProgress(t, env))
		})
	}
}

func TestDataProcessingReportsProgress(t *testing.T) {
	env, _ := newEnv(t)
	var status string
	var progress int
	env.RegisterDelayedCallback(func() {
		status = queryString(t, env, QueryStatus)
		progress = queryProgress(t, env)
	}, 5500*time.Millisecond)

	env.ExecuteWorkflow(dataProcessingName, DataProcessingInput{Items: 10, ItemDelayMs: 1000})

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, "processing", status)
	require.Equal(t, 50, progress)
}

func TestDataProcessingCancel(t *testing.T) {
	env, _ := newEnv(t)
	env.RegisterDelayedCallback(env.CancelWorkflow, 10500*time.Millisecond)

	env.ExecuteWorkflow(dataProcessingName, DataProcessingInput{Items: 100, ItemDelayMs: 1000})

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "want canceled, got %v", err)
	require.Equal(t, "canceled", queryString(t, env, QueryStatus))
	require.Equal(t, 10, queryProgress(t, env))
}

func TestDataProcessingValidation(t *testing.T) {
	tests := []struct {
		name string
		in   DataProcessingInput
	}{
		{name: "negative items", in: DataProcessingInput{Items: -1}},
		{name: "too many items", in: DataProcessingInput{Items: maxProcessingItems + 1}},
		{name: "negative delay", in: DataProcessingInput{Items: 1, ItemDelayMs: -1}},
		{name: "delay too long", in: DataProcessingInput{Items: 1, ItemDelayMs: maxItemDelayMs + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			env.ExecuteWorkflow(dataProcessingName, tt.in)
			appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeValidation)
			require.True(t, appErr.NonRetryable())
		})
	}
}
