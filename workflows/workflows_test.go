package workflows

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/regiongate/regiongate/workflows/services"
)

// fixture is the in-memory services behind a test environment's
// activities, for injecting faults and checking effects.
type fixture struct {
	acts       *Activities
	payments   *services.Payments
	properties *services.Properties
	notifier   *services.Notifier
}

// newEnv returns a test environment with everything registered through
// Register, so the tests also prove the registration names work.
func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fixture) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	f := &fixture{payments: services.NewPayments(), properties: services.NewProperties(), notifier: services.NewNotifier()}
	f.acts = NewActivitiesWith(Services{Payments: f.payments, Properties: f.properties, Notifier: f.notifier})
	Register(env, f.acts)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env, f
}

// activityLog records, for each activity started, its type and what the
// workflow's getStatus query said at that moment.
type activityLog struct {
	mu       sync.Mutex
	started  []string
	statuses map[string]string
}

func recordActivities(t *testing.T, env *testsuite.TestWorkflowEnvironment) *activityLog {
	t.Helper()
	log := &activityLog{statuses: make(map[string]string)}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		log.mu.Lock()
		defer log.mu.Unlock()
		name := info.ActivityType.Name
		log.started = append(log.started, name)
		// The listener runs on the environment's main loop, where the
		// workflow is parked waiting for this activity, so querying is safe.
		if v, err := env.QueryWorkflow(QueryStatus); err == nil {
			var s string
			if v.Get(&s) == nil {
				log.statuses[name] = s
			}
		}
	})
	return log
}

func (l *activityLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.started)
}

// uniqueNames is names without the repeats of retried attempts.
func (l *activityLog) uniqueNames() []string {
	return slices.Compact(l.names())
}

// queryAs runs a query and decodes its answer as a T.
func queryAs[T any](t *testing.T, env *testsuite.TestWorkflowEnvironment, name string) T {
	t.Helper()
	v, err := env.QueryWorkflow(name)
	require.NoError(t, err)
	var out T
	require.NoError(t, v.Get(&out))
	return out
}

func queryString(t *testing.T, env *testsuite.TestWorkflowEnvironment, name string) string {
	t.Helper()
	return queryAs[string](t, env, name)
}

func requireAppError(t *testing.T, err error, wantType string) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an application error, got %v", err)
	require.Equal(t, wantType, appErr.Type(), "error: %v", err)
	return appErr
}

func TestRegisterMatchesNames(t *testing.T) {
	got := make([]string, 0, len(registrations))
	for _, r := range registrations {
		got = append(got, r.name)
	}
	require.Equal(t, Names, got)
}

func TestRegisterRegistersEveryWorkflowByName(t *testing.T) {
	inputs := map[string]any{
		propertyBookingName:       BookingInput{},
		dataProcessingName:        DataProcessingInput{Items: -1},
		propertyDataSyncName:      PropertyDataSyncInput{},
		longRunningProcessingName: LongRunningInput{},
		resilientDataSyncName:     DataSyncInput{},
	}
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			env, _ := newEnv(t)
			// Invalid input keeps this test about lookup: each type must be
			// found by name and fail in its own validation.
			env.ExecuteWorkflow(name, inputs[name])
			require.True(t, env.IsWorkflowCompleted())
			requireAppError(t, env.GetWorkflowError(), ErrTypeValidation)
		})
	}
}
