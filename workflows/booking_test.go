package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

const testWorkflowID = "default-test-workflow-id"

func validBooking() BookingInput {
	return BookingInput{PropertyID: "p-123", Nights: 2, AmountCents: 25000, CardToken: "tok_visa"}
}

func TestPropertyBookingHappyPath(t *testing.T) {
	env, acts := newEnv(t)
	log := recordActivities(t, env)

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res BookingResult
	require.NoError(t, env.GetWorkflowResult(&res))

	charge, ok := acts.payments.lookup(testWorkflowID + "/" + chargeStep)
	require.True(t, ok)
	reservation, ok := acts.properties.lookup(testWorkflowID + "/" + reserveStep)
	require.True(t, ok)
	require.Equal(t, BookingResult{
		BookingID: testWorkflowID, ChargeID: charge.id, ReservationID: reservation.id, Status: "confirmed",
	}, res)
	require.False(t, charge.refunded)
	require.False(t, reservation.released)
	_, sent := acts.notifier.lookup(testWorkflowID + "/" + confirmStep)
	require.True(t, sent)

	require.Equal(t, []string{"ChargeCard", "ReserveProperty", "SendConfirmation"}, log.names())
	require.Equal(t, map[string]string{
		"ChargeCard": "charging", "ReserveProperty": "reserving", "SendConfirmation": "confirming",
	}, log.statuses)
	require.Equal(t, "confirmed", queryString(t, env, QueryStatus))
}

func TestPropertyBookingFailures(t *testing.T) {
	tests := []struct {
		name         string
		mutate       func(*BookingInput)
		wantType     string
		wantMessage  []string
		wantStarted  []string
		wantRefunded bool
	}{
		{
			name:        "declined card undoes nothing",
			mutate:      func(in *BookingInput) { in.CardToken = declinedCardToken },
			wantType:    ErrTypePaymentDeclined,
			wantMessage: []string{"card was declined"},
			wantStarted: []string{"ChargeCard"},
		},
		{
			name:         "unavailable property refunds the charge",
			mutate:       func(in *BookingInput) { in.PropertyID = unavailablePropertyID },
			wantType:     ErrTypePropertyUnavailable,
			wantMessage:  []string{"unavailable", "refunded"},
			wantStarted:  []string{"ChargeCard", "ReserveProperty", "RefundCharge"},
			wantRefunded: true,
		},
		{name: "zero nights", mutate: func(in *BookingInput) { in.Nights = 0 }, wantType: ErrTypeValidation, wantMessage: []string{"nights"}},
		{name: "negative amount", mutate: func(in *BookingInput) { in.AmountCents = -1 }, wantType: ErrTypeValidation, wantMessage: []string{"amountCents"}},
		{name: "missing property", mutate: func(in *BookingInput) { in.PropertyID = "" }, wantType: ErrTypeValidation, wantMessage: []string{"propertyId"}},
		{name: "missing card", mutate: func(in *BookingInput) { in.CardToken = "" }, wantType: ErrTypeValidation, wantMessage: []string{"cardToken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, acts := newEnv(t)
			log := recordActivities(t, env)
			in := validBooking()
			tt.mutate(&in)

			env.ExecuteWorkflow(propertyBookingName, in)

			require.True(t, env.IsWorkflowCompleted())
			appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
			require.True(t, appErr.NonRetryable())
			for _, want := range tt.wantMessage {
				require.Contains(t, appErr.Message(), want)
			}
			require.Equal(t, tt.wantStarted, log.names())
			charge, charged := acts.payments.lookup(testWorkflowID + "/" + chargeStep)
			require.Equal(t, tt.wantRefunded, charged && charge.refunded)
			if tt.wantRefunded {
				require.Equal(t, "compensating", log.statuses["RefundCharge"])
			}
			require.Equal(t, "failed", queryString(t, env, QueryStatus))
		})
	}
}

func TestPropertyBookingCompensatesInReverseOrder(t *testing.T) {
	env, acts := newEnv(t)
	log := recordActivities(t, env)
	env.OnActivity(acts.SendConfirmation, mock.Anything, mock.Anything).
		Return(temporal.NewNonRetryableApplicationError("mail server rejected the message", "MailRejected", nil))

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeBookingFailed)
	charge, _ := acts.payments.lookup(testWorkflowID + "/" + chargeStep)
	reservation, _ := acts.properties.lookup(testWorkflowID + "/" + reserveStep)
	require.True(t, charge.refunded)
	require.True(t, reservation.released)
	require.Equal(t, "booking failed while confirming; reservation "+reservation.id+
		" was released, charge "+charge.id+" was refunded", appErr.Message())
	require.Equal(t, []string{
		"ChargeCard", "ReserveProperty", "SendConfirmation", "ReleaseReservation", "RefundCharge",
	}, log.names())
}

func TestPropertyBookingCanceledStillCompensates(t *testing.T) {
	env, acts := newEnv(t)
	log := recordActivities(t, env)
	// A slow reservation gives the cancel something to interrupt.
	env.OnActivity(acts.ReserveProperty, mock.Anything, mock.Anything).After(time.Minute).Return("rs_slow", nil)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Second)

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "want canceled, got %v", err)
	charge, _ := acts.payments.lookup(testWorkflowID + "/" + chargeStep)
	require.True(t, charge.refunded)
	require.Equal(t, []string{"ChargeCard", "ReserveProperty", "ReleaseReservation", "RefundCharge"}, log.names())
	require.Equal(t, "canceled", queryString(t, env, QueryStatus))
}
