package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/regiongate/regiongate/workflows/services"
)

const testWorkflowID = "default-test-workflow-id"

// testKey is the idempotency key of a step in the test environment, whose
// run id is fixed.
func testKey(step string) string { return testWorkflowID + "/default-test-run-id/" + step }

func validBooking() BookingInput {
	return BookingInput{PropertyID: "p-123", Nights: 2, AmountCents: 25000, CardToken: "tok_visa"}
}

func TestPropertyBookingHappyPath(t *testing.T) {
	env, f := newEnv(t)
	log := recordActivities(t, env)

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res BookingResult
	require.NoError(t, env.GetWorkflowResult(&res))

	charge, ok := f.payments.Lookup(testKey(stepCharge))
	require.True(t, ok)
	reservation, ok := f.properties.Lookup(testKey(stepReserve))
	require.True(t, ok)
	require.Equal(t, BookingResult{
		BookingID: testWorkflowID, ChargeID: charge.ID, ReservationID: reservation.ID, Status: "confirmed",
	}, res)
	require.Equal(t, 25000, charge.AmountCents)
	require.False(t, charge.Refunded)
	require.Equal(t, services.Reservation{ID: reservation.ID, Key: testKey(stepReserve), PropertyID: "p-123", Nights: 2}, reservation)
	msg, sent := f.notifier.Sent(testKey(stepConfirm))
	require.True(t, sent)
	require.Contains(t, msg, charge.ID)

	require.Equal(t, []string{"AssessRisk", "ChargeCard", "ReserveProperty", "SendConfirmation"}, log.names())
	require.Equal(t, map[string]string{
		"AssessRisk": "checking risk", "ChargeCard": "charging", "ReserveProperty": "reserving", "SendConfirmation": "confirming",
	}, log.statuses)
	require.Equal(t, "confirmed", queryString(t, env, QueryStatus))
}

func TestPropertyBookingRefusals(t *testing.T) {
	tests := []struct {
		name         string
		mutate       func(*BookingInput)
		wantType     string
		wantMessage  string
		wantStarted  []string
		wantRefunded bool
	}{
		{
			name:        "declined card undoes nothing",
			mutate:      func(in *BookingInput) { in.CardToken = services.DeclinedCard },
			wantType:    ErrTypePaymentDeclined,
			wantMessage: "booking failed: card was declined",
			wantStarted: []string{"AssessRisk", "ChargeCard"},
		},
		{
			name:        "authentication failure undoes nothing",
			mutate:      func(in *BookingInput) { in.CardToken = services.AuthFailedCard },
			wantType:    ErrTypeAuthentication,
			wantMessage: "booking failed: payment provider authentication failed",
			wantStarted: []string{"AssessRisk", "ChargeCard"},
		},
		{
			name:         "unavailable property refunds the charge",
			mutate:       func(in *BookingInput) { in.PropertyID = services.UnavailableProperty },
			wantType:     ErrTypePropertyUnavailable,
			wantMessage:  "booking failed: property was unavailable; charge ch_000001 was refunded",
			wantStarted:  []string{"AssessRisk", "ChargeCard", "ReserveProperty", "RefundCharge"},
			wantRefunded: true,
		},
		{name: "zero nights", mutate: func(in *BookingInput) { in.Nights = 0 }, wantType: ErrTypeValidation, wantMessage: "nights must be between 1 and 365"},
		{name: "too many nights", mutate: func(in *BookingInput) { in.Nights = 366 }, wantType: ErrTypeValidation, wantMessage: "nights must be between 1 and 365"},
		{name: "negative amount", mutate: func(in *BookingInput) { in.AmountCents = -1 }, wantType: ErrTypeValidation, wantMessage: "amountCents must be positive"},
		{name: "missing property", mutate: func(in *BookingInput) { in.PropertyID = "" }, wantType: ErrTypeValidation, wantMessage: "propertyId is required"},
		{name: "missing card", mutate: func(in *BookingInput) { in.CardToken = "" }, wantType: ErrTypeValidation, wantMessage: "cardToken is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, f := newEnv(t)
			log := recordActivities(t, env)
			in := validBooking()
			tt.mutate(&in)

			env.ExecuteWorkflow(propertyBookingName, in)

			require.True(t, env.IsWorkflowCompleted())
			appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tt.wantMessage, appErr.Message())
			require.Equal(t, tt.wantStarted, log.names())
			charge, charged := f.payments.Lookup(testKey(stepCharge))
			require.Equal(t, tt.wantRefunded, charged && charge.Refunded)
			require.Equal(t, tt.wantRefunded, charged, "only a refunded charge may exist")
			if tt.wantRefunded {
				require.Equal(t, "compensating", log.statuses["RefundCharge"])
			}
			require.Equal(t, "failed", queryString(t, env, QueryStatus))
		})
	}
}

// Each step that fails for good after its retries undoes, in reverse, every
// step that may have taken effect, itself included.
func TestPropertyBookingCompensations(t *testing.T) {
	tests := []struct {
		name        string
		fault       services.Fault
		wantStarted []string
		wantMessage string
		wantCharged bool
	}{
		{
			name:        "charge outage refunds a charge that never happened",
			fault:       services.Fault{Op: services.OpCharge, Times: 5},
			wantStarted: []string{"AssessRisk", "ChargeCard", "RefundCharge"},
			wantMessage: "booking failed while charging; nothing was charged",
		},
		{
			name:        "charge whose responses were lost is refunded",
			fault:       services.Fault{Op: services.OpCharge, Times: 5, AfterEffect: true},
			wantStarted: []string{"AssessRisk", "ChargeCard", "RefundCharge"},
			wantMessage: "booking failed while charging; charge ch_000001 was refunded",
			wantCharged: true,
		},
		{
			name:        "reservation outage releases nothing and refunds",
			fault:       services.Fault{Op: services.OpReserve, Times: 5},
			wantStarted: []string{"AssessRisk", "ChargeCard", "ReserveProperty", "ReleaseReservation", "RefundCharge"},
			wantMessage: "booking failed while reserving; nothing was reserved, charge ch_000001 was refunded",
			wantCharged: true,
		},
		{
			name:        "confirmation outage releases and refunds in reverse",
			fault:       services.Fault{Op: services.OpSend, Times: 5},
			wantStarted: []string{"AssessRisk", "ChargeCard", "ReserveProperty", "SendConfirmation", "ReleaseReservation", "RefundCharge"},
			wantMessage: "booking failed while confirming; reservation rs_000001 was released, charge ch_000001 was refunded",
			wantCharged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, f := newEnv(t)
			log := recordActivities(t, env)
			injectAll(f, tt.fault)

			env.ExecuteWorkflow(propertyBookingName, validBooking())

			appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeBookingFailed)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tt.wantMessage, appErr.Message())
			require.Equal(t, tt.wantStarted, log.uniqueNames())
			charge, charged := f.payments.Lookup(testKey(stepCharge))
			require.Equal(t, tt.wantCharged, charged)
			require.Equal(t, tt.wantCharged, charge.Refunded)
			if r, ok := f.properties.Lookup(testKey(stepReserve)); ok {
				require.True(t, r.Released)
			}
			require.Equal(t, "failed", queryString(t, env, QueryStatus))
		})
	}
}

func injectAll(f *fixture, fault services.Fault) {
	switch fault.Op {
	case services.OpCharge, services.OpRefund, services.OpAssess:
		f.payments.Inject(fault)
	case services.OpSend:
		f.notifier.Inject(fault)
	default:
		f.properties.Inject(fault)
	}
}

func TestPropertyBookingCompensationRetriedUntilItSucceeds(t *testing.T) {
	env, f := newEnv(t)
	// More failures than a forward step tolerates (5 attempts). The test
	// environment turns "unlimited attempts" into 10, so 9 is the most
	// that can be shown here.
	f.payments.Inject(services.Fault{Op: services.OpRefund, Times: 9})

	env.ExecuteWorkflow(propertyBookingName, BookingInput{
		PropertyID: services.UnavailableProperty, Nights: 1, AmountCents: 100, CardToken: "tok_visa",
	})

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypePropertyUnavailable)
	require.Contains(t, appErr.Message(), "charge ch_000001 was refunded")
	require.Equal(t, 10, f.payments.Calls(services.OpRefund))
	charge, _ := f.payments.Lookup(testKey(stepCharge))
	require.True(t, charge.Refunded)
}

// A step whose response is lost is retried under the same idempotency key,
// so the retry finds the first result instead of repeating the effect.
func TestPropertyBookingRetriesAreIdempotent(t *testing.T) {
	env, f := newEnv(t)
	f.payments.Inject(services.Fault{Op: services.OpCharge, Times: 2, AfterEffect: true})
	f.properties.Inject(services.Fault{Op: services.OpReserve, Times: 2, AfterEffect: true})
	f.notifier.Inject(services.Fault{Op: services.OpSend, Times: 2, AfterEffect: true})

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	require.NoError(t, env.GetWorkflowError())
	var res BookingResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "ch_000001", res.ChargeID)
	require.Equal(t, "rs_000001", res.ReservationID)
	require.Equal(t, 1, f.payments.Charges(), "one charge despite three attempts")
	require.Equal(t, 3, f.payments.Calls(services.OpCharge))
	require.Equal(t, 3, f.properties.Calls(services.OpReserve))
	require.Equal(t, 3, f.notifier.Calls(services.OpSend))
}

func TestPropertyBookingCanceledStillCompensates(t *testing.T) {
	tests := []struct {
		name        string
		slow        func(f *fixture) any // the activity the cancel interrupts
		wantStarted []string
	}{
		{
			name:        "while charging",
			slow:        func(f *fixture) any { return f.acts.ChargeCard },
			wantStarted: []string{"AssessRisk", "ChargeCard", "RefundCharge"},
		},
		{
			name:        "while reserving",
			slow:        func(f *fixture) any { return f.acts.ReserveProperty },
			wantStarted: []string{"AssessRisk", "ChargeCard", "ReserveProperty", "ReleaseReservation", "RefundCharge"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, f := newEnv(t)
			log := recordActivities(t, env)
			env.OnActivity(tt.slow(f), mock.Anything, mock.Anything).After(time.Minute).Return("slow", nil)
			env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Second)

			env.ExecuteWorkflow(propertyBookingName, validBooking())

			require.True(t, env.IsWorkflowCompleted())
			err := env.GetWorkflowError()
			require.True(t, temporal.IsCanceledError(err), "want canceled, got %v", err)
			require.Equal(t, tt.wantStarted, log.names())
			require.Equal(t, "canceled", queryString(t, env, QueryStatus))
		})
	}
}

func TestWithoutCancelKeepsFailuresFailed(t *testing.T) {
	plain := temporal.NewApplicationError("boom", "X")
	require.Same(t, plain, withoutCancel(plain))
	flat := withoutCancel(temporal.NewApplicationErrorWithCause("step", "X", temporal.NewCanceledError()))
	require.False(t, temporal.IsCanceledError(flat))
	require.Contains(t, flat.Error(), "step")
}
