package workflows

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/regiongate/regiongate/workflows/services"
)

// PaymentService takes and refunds payments. Calls with the same
// idempotency key must have one effect, however often they are repeated.
// Refusals are reported with the errors of package services
// (ErrDeclined, ErrUnauthenticated).
type PaymentService interface {
	Charge(ctx context.Context, key, cardToken string, amountCents int) (chargeID string, err error)
	// Refund returns "" when nothing was charged under key.
	Refund(ctx context.Context, key string) (chargeID string, err error)
	// AssessRisk scores a payment from 0 (safe) to 100 (certainly fraud).
	AssessRisk(ctx context.Context, cardToken string, amountCents int) (score int, err error)
}

// PropertyService reserves properties and serves their data, idempotent
// by key like PaymentService. An unavailable property is
// services.ErrUnavailable.
type PropertyService interface {
	Reserve(ctx context.Context, key, propertyID string, nights int) (reservationID string, err error)
	// Release returns "" when nothing was reserved under key.
	Release(ctx context.Context, key string) (reservationID string, err error)
	FetchPage(ctx context.Context, propertyID string, page int) error
	FetchFields(ctx context.Context, propertyID string, fields []string) error
}

// NotificationService sends a message at most once per key.
type NotificationService interface {
	Send(ctx context.Context, key, message string) error
}

// RecordSource serves the records of a dataset, a page at a time.
type RecordSource interface {
	FetchRecords(ctx context.Context, datasetID string, offset, limit int) ([]services.Record, error)
}

// RecordSink stores records, once per idempotency key: writing again under
// a key returns the first write's count.
type RecordSink interface {
	WriteRecords(ctx context.Context, key, datasetID string, records []services.Record) (written int, err error)
}

// Services are what the activities talk to. A nil field means a fresh
// in-memory service from package services. Every service reports a refusal
// with the errors of package services: ErrUnauthenticated and ErrRejected
// (and the service's own, such as ErrDeclined) are never retried by the
// forward steps; any other error is.
type Services struct {
	Payments   PaymentService
	Properties PropertyService
	Notifier   NotificationService
	// Source and Destination are the two ends of ResilientDataSync.
	Source      RecordSource
	Destination RecordSink
}

// Activities holds the services the activities talk to. Every exported
// method is registered as an activity, so helpers must stay unexported.
// Use NewActivities or NewActivitiesWith; the zero value has no services.
type Activities struct {
	payments    PaymentService
	properties  PropertyService
	notifier    NotificationService
	source      RecordSource
	destination RecordSink
}

// NewActivities returns activities backed by in-memory services (dev only).
func NewActivities() *Activities { return NewActivitiesWith(Services{}) }

// NewActivitiesWith returns activities backed by s.
func NewActivitiesWith(s Services) *Activities {
	a := &Activities{payments: s.Payments, properties: s.Properties, notifier: s.Notifier,
		source: s.Source, destination: s.Destination}
	if a.payments == nil {
		a.payments = services.NewPayments()
	}
	if a.properties == nil {
		a.properties = services.NewProperties()
	}
	if a.notifier == nil {
		a.notifier = services.NewNotifier()
	}
	if a.source == nil {
		a.source = services.NewRecordSource()
	}
	if a.destination == nil {
		a.destination = services.NewRecordStore()
	}
	return a
}

// refusal makes a service's refusal of the request non-retryable, typed so
// that callers can match it: refused credentials are an
// AuthenticationError, a request refused as invalid a ValidationError.
// Other errors are returned as they are, and retried. The message is the
// error's own, which never holds input values.
func refusal(err error) error {
	switch {
	case errors.Is(err, services.ErrUnauthenticated):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAuthentication, err)
	case errors.Is(err, services.ErrRejected):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeValidation, err)
	}
	return err
}

// ChargeRequest is the input of ChargeCard.
type ChargeRequest struct {
	IdempotencyKey string `json:"idempotencyKey"`
	CardToken      string `json:"cardToken"`
	AmountCents    int    `json:"amountCents"`
}

// ReserveRequest is the input of ReserveProperty.
type ReserveRequest struct {
	IdempotencyKey string `json:"idempotencyKey"`
	PropertyID     string `json:"propertyId"`
	Nights         int    `json:"nights"`
}

// UndoRequest is the input of the compensations RefundCharge and
// ReleaseReservation: the key of the step to undo. It carries no charge or
// reservation id on purpose: a compensation must also run when the step
// timed out and the workflow never learnt whether it took effect.
type UndoRequest struct {
	IdempotencyKey string `json:"idempotencyKey"`
}

// ConfirmRequest is the input of SendConfirmation.
type ConfirmRequest struct {
	IdempotencyKey string `json:"idempotencyKey"`
	BookingID      string `json:"bookingId"`
	ChargeID       string `json:"chargeId"`
	ReservationID  string `json:"reservationId"`
}

// RiskRequest is the input of AssessRisk.
type RiskRequest struct {
	CardToken   string `json:"cardToken"`
	AmountCents int    `json:"amountCents"`
}

// RiskAssessment is the result of AssessRisk.
type RiskAssessment struct {
	Score    int  `json:"score"`
	Approved bool `json:"approved"`
}

// riskThreshold is the lowest score AssessRisk refuses.
const riskThreshold = 80

// AssessRisk scores the payment and approves it below riskThreshold. It has
// no effect, so it needs no idempotency key.
func (a *Activities) AssessRisk(ctx context.Context, req RiskRequest) (RiskAssessment, error) {
	if req.CardToken == "" || req.AmountCents <= 0 {
		return RiskAssessment{}, validationError("a risk assessment needs a card token and a positive amount")
	}
	score, err := a.payments.AssessRisk(ctx, req.CardToken, req.AmountCents)
	if err != nil {
		return RiskAssessment{}, refusal(fmt.Errorf("assessing risk: %w", err))
	}
	return RiskAssessment{Score: score, Approved: score < riskThreshold}, nil
}

// ChargeCard charges the card and returns the charge id. A declined card is
// a non-retryable PaymentDeclined error, refused credentials a
// non-retryable AuthenticationError; anything else is retried.
func (a *Activities) ChargeCard(ctx context.Context, req ChargeRequest) (string, error) {
	if req.IdempotencyKey == "" || req.CardToken == "" || req.AmountCents <= 0 {
		return "", validationError("a charge needs an idempotency key, a card token and a positive amount")
	}
	id, err := a.payments.Charge(ctx, req.IdempotencyKey, req.CardToken, req.AmountCents)
	switch {
	case errors.Is(err, services.ErrDeclined):
		return "", temporal.NewNonRetryableApplicationError("card was declined", ErrTypePaymentDeclined, err)
	case errors.Is(err, services.ErrUnauthenticated):
		return "", temporal.NewNonRetryableApplicationError(
			"payment provider authentication failed", ErrTypeAuthentication, err)
	case err != nil:
		return "", refusal(fmt.Errorf("charging card: %w", err))
	}
	return id, nil
}

// RefundCharge refunds the charge made under the key, if there is one, and
// returns its id ("" when nothing was charged). Every error is retried, a
// refusal too: the compensations never give up (an operator can fix the
// credentials meanwhile), see compensationActivityOptions.
func (a *Activities) RefundCharge(ctx context.Context, req UndoRequest) (string, error) {
	if req.IdempotencyKey == "" {
		return "", validationError("a refund needs the idempotency key of the charge")
	}
	id, err := a.payments.Refund(ctx, req.IdempotencyKey)
	if err != nil {
		return "", fmt.Errorf("refunding charge: %w", err)
	}
	activity.GetLogger(ctx).Info("refund processed", "chargeId", id)
	return id, nil
}

// ReserveProperty reserves the property and returns the reservation id. An
// unavailable property is a non-retryable PropertyUnavailable error.
func (a *Activities) ReserveProperty(ctx context.Context, req ReserveRequest) (string, error) {
	if req.IdempotencyKey == "" || req.PropertyID == "" || req.Nights <= 0 {
		return "", validationError("a reservation needs an idempotency key, a property id and a positive number of nights")
	}
	id, err := a.properties.Reserve(ctx, req.IdempotencyKey, req.PropertyID, req.Nights)
	if errors.Is(err, services.ErrUnavailable) {
		// The message leaves the property id out: failure messages are
		// stored in the history in plain text.
		return "", temporal.NewNonRetryableApplicationError("property is unavailable", ErrTypePropertyUnavailable, err)
	}
	if err != nil {
		return "", refusal(fmt.Errorf("reserving property: %w", err))
	}
	return id, nil
}

// ReleaseReservation releases the reservation made under the key, if there
// is one, and returns its id ("" when nothing was reserved).
func (a *Activities) ReleaseReservation(ctx context.Context, req UndoRequest) (string, error) {
	if req.IdempotencyKey == "" {
		return "", validationError("a release needs the idempotency key of the reservation")
	}
	id, err := a.properties.Release(ctx, req.IdempotencyKey)
	if err != nil {
		return "", fmt.Errorf("releasing reservation: %w", err)
	}
	activity.GetLogger(ctx).Info("reservation released", "reservationId", id)
	return id, nil
}

// SendConfirmation tells the guest the booking is confirmed, once.
func (a *Activities) SendConfirmation(ctx context.Context, req ConfirmRequest) error {
	if req.IdempotencyKey == "" {
		return validationError("a confirmation needs an idempotency key")
	}
	msg := fmt.Sprintf("booking %s confirmed: charge %s, reservation %s", req.BookingID, req.ChargeID, req.ReservationID)
	if err := a.notifier.Send(ctx, req.IdempotencyKey, msg); err != nil {
		return refusal(fmt.Errorf("sending confirmation: %w", err))
	}
	return nil
}
