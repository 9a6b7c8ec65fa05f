package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/regiongate/regiongate/workflows/services"
)

// Both sides of the add-risk-check change: runs recorded before it (no
// version marker) skip the check, new runs make it.
func TestPropertyBookingRiskCheckVersions(t *testing.T) {
	fraud := validBooking()
	fraud.CardToken = services.FraudCard
	tests := []struct {
		name        string
		version     workflow.Version
		in          BookingInput
		wantStarted []string
		wantErrType string // "" means confirmed
	}{
		{
			name: "old runs skip the check", version: workflow.DefaultVersion, in: validBooking(),
			wantStarted: []string{"ChargeCard", "ReserveProperty", "SendConfirmation"},
		},
		{
			name: "old runs let a fraud card through as they always did", version: workflow.DefaultVersion, in: fraud,
			wantStarted: []string{"ChargeCard", "ReserveProperty", "SendConfirmation"},
		},
		{
			name: "new runs check first", version: 1, in: validBooking(),
			wantStarted: []string{"AssessRisk", "ChargeCard", "ReserveProperty", "SendConfirmation"},
		},
		{
			name: "new runs refuse a fraud card before charging", version: 1, in: fraud,
			wantStarted: []string{"AssessRisk"}, wantErrType: ErrTypeRiskRejected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, f := newEnv(t)
			log := recordActivities(t, env)
			env.OnGetVersion(riskCheckChange, workflow.DefaultVersion, 1).Return(tt.version)

			env.ExecuteWorkflow(propertyBookingName, tt.in)

			require.True(t, env.IsWorkflowCompleted())
			require.Equal(t, tt.wantStarted, log.names())
			if tt.wantErrType == "" {
				require.NoError(t, env.GetWorkflowError())
				require.Equal(t, "confirmed", queryString(t, env, QueryStatus))
				return
			}
			appErr := requireAppError(t, env.GetWorkflowError(), tt.wantErrType)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, "booking failed: payment refused by the risk check", appErr.Message())
			var score int
			require.NoError(t, appErr.Details(&score))
			require.Equal(t, services.FraudScore, score)
			require.Zero(t, f.payments.Charges())
			require.Equal(t, "failed", queryString(t, env, QueryStatus))
		})
	}
}

func TestPropertyBookingRiskCheckOutage(t *testing.T) {
	env, f := newEnv(t)
	f.payments.Inject(services.Fault{Op: services.OpAssess, Times: 5})

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeBookingFailed)
	require.Equal(t, "booking failed while checking risk; nothing to undo", appErr.Message())
	require.Equal(t, 5, f.payments.Calls(services.OpAssess))
	require.Zero(t, f.payments.Calls(services.OpCharge))
}

func TestPropertyBookingCanceledWhileCheckingRisk(t *testing.T) {
	env, f := newEnv(t)
	log := recordActivities(t, env)
	env.OnActivity(f.acts.AssessRisk, mock.Anything, mock.Anything).After(time.Minute).Return(RiskAssessment{Approved: true}, nil)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Second)

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	err := env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "want canceled, got %v", err)
	require.Equal(t, []string{"AssessRisk"}, log.names())
	require.Zero(t, f.payments.Calls(services.OpCharge))
	require.Equal(t, "canceled", queryString(t, env, QueryStatus))
}

func TestCompensationsNeverGiveUp(t *testing.T) {
	o := compensationActivityOptions()
	require.Zero(t, o.RetryPolicy.MaximumAttempts, "unlimited attempts")
	require.Zero(t, o.ScheduleToCloseTimeout, "no overall deadline")
	require.Empty(t, o.RetryPolicy.NonRetryableErrorTypes)
}
