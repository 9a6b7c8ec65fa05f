package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/regiongate/regiongate/workflows/services"
)

// fieldSyncs records the SyncPropertyFields calls of a test whose page
// sync takes pagesTake and each field sync fieldsTake, in test time.
type fieldSyncs struct {
	mu    sync.Mutex
	calls [][]string
}

func mockSyncs(env *testsuite.TestWorkflowEnvironment, f *fixture, pagesTake, fieldsTake time.Duration) *fieldSyncs {
	fs := &fieldSyncs{}
	env.OnActivity(f.acts.SyncPropertyData, mock.Anything, mock.Anything).After(pagesTake).
		Return(PropertyDataSyncResult{PropertyID: "p-9", PagesSynced: 3}, nil)
	env.OnActivity(f.acts.SyncPropertyFields, mock.Anything, mock.Anything).After(fieldsTake).Maybe().
		Return(func(_ context.Context, req PropertyFieldsRequest) (int, error) {
			fs.mu.Lock()
			defer fs.mu.Unlock()
			fs.calls = append(fs.calls, req.Fields)
			return len(req.Fields), nil
		})
	return fs
}

func (fs *fieldSyncs) all() [][]string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.calls
}

func queryUpdates(t *testing.T, env *testsuite.TestWorkflowEnvironment) PropertyUpdates {
	t.Helper()
	return queryAs[PropertyUpdates](t, env, QueryUpdates)
}

func signalAt(env *testsuite.TestWorkflowEnvironment, at time.Duration, u any) {
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalPropertyUpdated, u) }, at)
}

func TestPropertyDataSyncResyncsUpdatedFieldsWhileItRuns(t *testing.T) {
	env, f := newEnv(t)
	fs := mockSyncs(env, f, 10*time.Second, 2*time.Second)
	signalAt(env, 1*time.Second, PropertyUpdate{PropertyID: "p-9", Fields: []string{"price", "title"}})
	// While the first re-sync runs: batched into the next one, deduplicated.
	signalAt(env, 1500*time.Millisecond, PropertyUpdate{PropertyID: "p-9", Fields: []string{"title", "rating", "rating"}})
	signalAt(env, 2*time.Second, PropertyUpdate{PropertyID: "p-other", Fields: []string{"price"}})
	signalAt(env, 2200*time.Millisecond, PropertyUpdate{PropertyID: "p-9"})
	signalAt(env, 2300*time.Millisecond, "not an update")
	var mid PropertyUpdates
	env.RegisterDelayedCallback(func() { mid = queryUpdates(t, env) }, 2500*time.Millisecond)

	env.ExecuteWorkflow(propertyDataSyncName, PropertyDataSyncInput{PropertyID: "p-9", Pages: 3, PageDelayMs: 1})

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, PropertyUpdates{
		Received: 4, Ignored: 2, Resyncing: []string{"price", "title"}, Pending: []string{"title", "rating"},
	}, mid)
	require.Equal(t, [][]string{{"price", "title"}, {"title", "rating"}}, fs.all())
	var res PropertyDataSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, PropertyDataSyncResult{PropertyID: "p-9", PagesSynced: 3, FieldsResynced: 4}, res)
	end := queryUpdates(t, env)
	require.Equal(t, 4, end.FieldsResynced)
	require.Empty(t, end.Pending)
	require.Empty(t, end.Resyncing)
	require.Equal(t, "completed", queryString(t, env, QueryStatus))
}

func TestPropertyDataSyncWaitsForAResyncStartedNearTheEnd(t *testing.T) {
	env, f := newEnv(t)
	fs := mockSyncs(env, f, 10*time.Second, 5*time.Second)
	signalAt(env, 9*time.Second, PropertyUpdate{PropertyID: "p-9", Fields: []string{"price"}})
	var statusAfterPages string
	env.RegisterDelayedCallback(func() { statusAfterPages = queryString(t, env, QueryStatus) }, 12*time.Second)

	env.ExecuteWorkflow(propertyDataSyncName, PropertyDataSyncInput{PropertyID: "p-9", Pages: 3, PageDelayMs: 1})

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, "syncing", statusAfterPages, "still re-syncing after the pages are done")
	require.Equal(t, [][]string{{"price"}}, fs.all())
}

func TestPropertyDataSyncWithTheRealActivities(t *testing.T) {
	env, f := newEnv(t)
	// The page sync runs in real time (about 300ms); the signal comes at once.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalPropertyUpdated, PropertyUpdate{PropertyID: "p-9", Fields: []string{"price"}})
	}, time.Millisecond)

	env.ExecuteWorkflow(propertyDataSyncName, PropertyDataSyncInput{PropertyID: "p-9", Pages: 3, PageDelayMs: 100})

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"price"}, f.properties.FieldsFetched("p-9"))
	require.Equal(t, 3, f.properties.PagesFetched("p-9"))
}

func TestPropertyDataSyncFailsWhenAResyncIsRefused(t *testing.T) {
	env, f := newEnv(t)
	env.OnActivity(f.acts.SyncPropertyData, mock.Anything, mock.Anything).After(10*time.Second).
		Return(PropertyDataSyncResult{}, nil)
	env.OnActivity(f.acts.SyncPropertyFields, mock.Anything, mock.Anything).
		Return(0, refusal(services.ErrUnauthenticated)).Once()
	signalAt(env, time.Second, PropertyUpdate{PropertyID: "p-9", Fields: []string{"price"}})

	env.ExecuteWorkflow(propertyDataSyncName, PropertyDataSyncInput{PropertyID: "p-9"})

	err := env.GetWorkflowError()
	requireAppErrorInChain(t, err, ErrTypeAuthentication)
	require.Contains(t, err.Error(), "re-syncing updated fields")
	require.Equal(t, "failed", queryString(t, env, QueryStatus))
}

// Runs started before the react-to-property-updates change ignore the
// signal, as they always did: their histories have no field syncs.
func TestPropertyDataSyncOldRunsIgnoreUpdates(t *testing.T) {
	env, f := newEnv(t)
	env.OnGetVersion(propertyUpdatesChange, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	fs := mockSyncs(env, f, 10*time.Second, time.Second)
	signalAt(env, time.Second, PropertyUpdate{PropertyID: "p-9", Fields: []string{"price"}})

	env.ExecuteWorkflow(propertyDataSyncName, PropertyDataSyncInput{PropertyID: "p-9"})

	require.NoError(t, env.GetWorkflowError())
	require.Empty(t, fs.all())
	require.Zero(t, queryUpdates(t, env).Received)
}

func TestPropertyUpdateBounds(t *testing.T) {
	many := make([]string, maxFieldsPerUpdate+1)
	for i := range many {
		many[i] = strings.Repeat("f", i+1)
	}
	tests := []struct {
		name    string
		pending int // fields already pending
		u       PropertyUpdate
		want    bool
	}{
		{name: "accepted", u: PropertyUpdate{PropertyID: "p", Fields: []string{"price"}}, want: true},
		{name: "another property", u: PropertyUpdate{PropertyID: "q", Fields: []string{"price"}}},
		{name: "no fields", u: PropertyUpdate{PropertyID: "p"}},
		{name: "too many fields", u: PropertyUpdate{PropertyID: "p", Fields: many}},
		{name: "empty field name", u: PropertyUpdate{PropertyID: "p", Fields: []string{"price", ""}}},
		{name: "long field name", u: PropertyUpdate{PropertyID: "p", Fields: []string{strings.Repeat("x", maxFieldNameBytes+1)}}},
		{name: "pending full", pending: maxPendingFields, u: PropertyUpdate{PropertyID: "p", Fields: []string{"new"}}},
		{name: "pending full, nothing new", pending: maxPendingFields, u: PropertyUpdate{PropertyID: "p", Fields: []string{"f1"}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newPropertySync()
			for i := range tt.pending {
				s.updates.Pending = append(s.updates.Pending, fmt.Sprintf("f%d", i))
			}
			before := len(s.updates.Pending)
			require.Equal(t, tt.want, s.accept(tt.u, "p"))
			if !tt.want {
				require.Len(t, s.updates.Pending, before, "a refused update adds nothing")
			}
		})
	}
}

// requireAppErrorInChain finds an application error of type want anywhere
// in err's chain (a workflow that wraps an activity's error with fmt.Errorf
// fails with an outer error of another type).
func requireAppErrorInChain(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	for e := err; e != nil; e = errors.Unwrap(e) {
		var appErr *temporal.ApplicationError
		if errors.As(e, &appErr) && appErr.Type() == want {
			return
		}
	}
	t.Fatalf("no %s in %v", want, err)
}
