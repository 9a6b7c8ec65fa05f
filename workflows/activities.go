package workflows

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Activities holds the services the activities talk to. Every exported
// method is registered as an activity, so helpers must stay unexported.
// Use NewActivities; the zero value has no services.
type Activities struct {
	payments   *fakePayments
	properties *fakeProperties
	notifier   *fakeNotifier
}

// NewActivities returns activities backed by in-memory fake payment/property/notification services (dev only).
func NewActivities() *Activities {
	return &Activities{
		payments:   newFakePayments(),
		properties: newFakeProperties(),
		notifier:   newFakeNotifier(),
	}
}

// ChargeRequest is the input of ChargeCard.
type ChargeRequest struct {
	CardToken   string `json:"cardToken"`
	AmountCents int    `json:"amountCents"`
}

// ReserveRequest is the input of ReserveProperty.
type ReserveRequest struct {
	PropertyID string `json:"propertyId"`
	Nights     int    `json:"nights"`
}

// ConfirmRequest is the input of SendConfirmation.
type ConfirmRequest struct {
	BookingID     string `json:"bookingId"`
	ChargeID      string `json:"chargeId"`
	ReservationID string `json:"reservationId"`
}

// Idempotency key suffixes, one per side-effecting step.
const (
	chargeStep  = "charge"
	reserveStep = "reserve"
	confirmStep = "confirm"
)

// idempotencyKey derives the key for a step from the workflow id. Every
// attempt of the activity, and its compensation, sees the same workflow id,
// so a retry after a lost response finds the original result instead of
// repeating the side effect.
func idempotencyKey(ctx context.Context, step string) string {
	return activity.GetInfo(ctx).WorkflowExecution.ID + "/" + step
}

// ChargeCard charges the card and returns the charge id. A declined card is
// a non-retryable PaymentDeclined error.
func (a *Activities) ChargeCard(ctx context.Context, req ChargeRequest) (string, error) {
	if req.CardToken == "" || req.AmountCents <= 0 {
		return "", validationError("charge needs a card token and a positive amount")
	}
	id, err := a.payments.charge(idempotencyKey(ctx, chargeStep), req.CardToken, req.AmountCents)
	if errors.Is(err, errCardDeclined) {
		return "", temporal.NewNonRetryableApplicationError("card was declined", ErrTypePaymentDeclined, err)
	}
	if err != nil {
		return "", fmt.Errorf("charge card: %w", err)
	}
	return id, nil
}

// RefundCharge refunds this workflow's charge, if there is one. It takes no
// charge id on purpose: it must also be safe to run when ChargeCard timed out
// and the workflow never learnt whether money was taken.
func (a *Activities) RefundCharge(ctx context.Context) (string, error) {
	id := a.payments.refund(idempotencyKey(ctx, chargeStep))
	activity.GetLogger(ctx).Info("refund processed", "chargeId", id)
	return id, nil
}

// ReserveProperty reserves the property and returns the reservation id. An
// unavailable property is a non-retryable PropertyUnavailable error.
func (a *Activities) ReserveProperty(ctx context.Context, req ReserveRequest) (string, error) {
	if req.PropertyID == "" || req.Nights <= 0 {
		return "", validationError("reservation needs a property id and a positive number of nights")
	}
	id, err := a.properties.reserve(idempotencyKey(ctx, reserveStep), req.PropertyID, req.Nights)
	if errors.Is(err, errPropertyUnavailable) {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("property %s is unavailable", req.PropertyID), ErrTypePropertyUnavailable, err)
	}
	if err != nil {
		return "", fmt.Errorf("reserve property: %w", err)
	}
	return id, nil
}

// ReleaseReservation releases this workflow's reservation, if there is one,
// for the same reason RefundCharge takes no id.
func (a *Activities) ReleaseReservation(ctx context.Context) (string, error) {
	id := a.properties.release(idempotencyKey(ctx, reserveStep))
	activity.GetLogger(ctx).Info("reservation released", "reservationId", id)
	return id, nil
}

// SendConfirmation tells the guest the booking is confirmed.
func (a *Activities) SendConfirmation(ctx context.Context, req ConfirmRequest) error {
	msg := fmt.Sprintf("booking %s confirmed: charge %s, reservation %s", req.BookingID, req.ChargeID, req.ReservationID)
	a.notifier.send(idempotencyKey(ctx, confirmStep), msg)
	return nil
}
