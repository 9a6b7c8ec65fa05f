package workflows

import (
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

func TestSyncPropertyDataResumesFromHeartbeat(t *testing.T) {
	const pages = 5
	tests := []struct {
		name        string
		details     any // nil means a first attempt with no heartbeat
		wantResumed int
	}{
		{name: "fresh start", details: nil, wantResumed: 0},
		{name: "resume mid way", details: 3, wantResumed: 3},
		{name: "already done", details: pages, wantResumed: pages},
		{name: "beyond the end is clamped", details: 99, wantResumed: pages},
		{name: "negative is ignored", details: -2, wantResumed: 0},
		{name: "unreadable restarts", details: "garbage", wantResumed: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			props := services.NewProperties()
			acts := NewActivitiesWith(Services{Properties: props})
			env.RegisterActivity(acts)
			if tt.details != nil {
				env.SetHeartbeatDetails(tt.details)
			}
			var mu sync.Mutex
			var heartbeats []int
			env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
				var page int
				require.NoError(t, d.Get(&page))
				mu.Lock()
				defer mu.Unlock()
				heartbeats = append(heartbeats, page)
			})

			in := PropertyDataSyncInput{PropertyID: "p-1", Pages: pages, PageDelayMs: 1}
			v, err := env.ExecuteActivity(acts.SyncPropertyData, in)
			require.NoError(t, err)

			var res PropertyDataSyncResult
			require.NoError(t, v.Get(&res))
			require.Equal(t, PropertyDataSyncResult{PropertyID: "p-1", PagesSynced: pages, ResumedFrom: tt.wantResumed}, res)
			require.Equal(t, pages-tt.wantResumed, props.PagesFetched("p-1"), "pages fetched by this attempt")
			// The SDK throttles heartbeats, so only the first is sure to be
			// seen here: the resume point, recorded again before the first
			// fetch of this attempt.
			mu.Lock()
			defer mu.Unlock()
			if tt.wantResumed == pages {
				require.Empty(t, heartbeats)
				return
			}
			require.NotEmpty(t, heartbeats)
			require.Equal(t, tt.wantResumed, heartbeats[0])
		})
	}
}

func TestSyncPropertyDataRejectsBadInput(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := NewActivities()
	env.RegisterActivity(acts)

	_, err := env.ExecuteActivity(acts.SyncPropertyData, PropertyDataSyncInput{})
	requireAppError(t, err, ErrTypeValidation)
}

func TestPropertyDataSyncWorkflow(t *testing.T) {
	env, f := newEnv(t)

	env.ExecuteWorkflow(propertyDataSyncName, PropertyDataSyncInput{PropertyID: "p-9", Pages: 3, PageDelayMs: 1})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res PropertyDataSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, PropertyDataSyncResult{PropertyID: "p-9", PagesSynced: 3}, res)
	require.Equal(t, "completed", queryString(t, env, QueryStatus))
	require.Equal(t, 3, f.properties.PagesFetched("p-9"))
}

func TestPropertyDataSyncInputDefaultsAndLimits(t *testing.T) {
	tests := []struct {
		name    string
		in      PropertyDataSyncInput
		want    PropertyDataSyncInput
		wantErr bool
	}{
		{
			name: "defaults",
			in:   PropertyDataSyncInput{PropertyID: "p"},
			want: PropertyDataSyncInput{PropertyID: "p", Pages: defaultSyncPages, PageDelayMs: defaultPageDelayMs},
		},
		{
			name: "explicit values kept",
			in:   PropertyDataSyncInput{PropertyID: "p", Pages: 3, PageDelayMs: 7},
			want: PropertyDataSyncInput{PropertyID: "p", Pages: 3, PageDelayMs: 7},
		},
		{name: "missing property", in: PropertyDataSyncInput{}, wantErr: true},
		{name: "negative pages", in: PropertyDataSyncInput{PropertyID: "p", Pages: -1}, wantErr: true},
		{name: "too many pages", in: PropertyDataSyncInput{PropertyID: "p", Pages: maxSyncPages + 1}, wantErr: true},
		{name: "page slower than heartbeat allows", in: PropertyDataSyncInput{PropertyID: "p", PageDelayMs: maxPageDelayMs + 1}, wantErr: true},
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

func TestPropertyDataSyncCancel(t *testing.T) {
	env, _ := newEnv(t)
	// The activity runs in real time, so the test clock does too.
	env.RegisterDelayedCallback(env.CancelWorkflow, 200*time.Millisecond)

	env.ExecuteWorkflow(propertyDataSyncName, PropertyDataSyncInput{PropertyID: "p-9", Pages: 100, PageDelayMs: 1000})

	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), "want canceled, got %v", env.GetWorkflowError())
	require.Equal(t, "canceled", queryString(t, env, QueryStatus))
}
