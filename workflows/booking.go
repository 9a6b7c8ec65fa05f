package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ErrTypeBookingFailed is the error type of a booking that failed for a
// reason other than a declined card or an unavailable property.
const ErrTypeBookingFailed = "BookingFailed"

// Booking stages reported by the getStatus query.
const (
	bookingStarted      = "started"
	bookingCharging     = "charging"
	bookingReserving    = "reserving"
	bookingConfirming   = "confirming"
	bookingCompensating = "compensating"
	bookingConfirmed    = "confirmed"
	bookingFailed       = "failed"
	bookingCanceled     = "canceled"
)

// BookingInput is the input of the PropertyBooking workflow.
type BookingInput struct {
	PropertyID  string `json:"propertyId"`
	Nights      int    `json:"nights"`
	AmountCents int    `json:"amountCents"`
	CardToken   string `json:"cardToken"`
}

// BookingResult is the result of a successful PropertyBooking workflow.
type BookingResult struct {
	BookingID     string `json:"bookingId"`
	ChargeID      string `json:"chargeId"`
	ReservationID string `json:"reservationId"`
	Status        string `json:"status"`
}

func (in BookingInput) validate() error {
	switch {
	case in.PropertyID == "":
		return validationError("propertyId is required")
	case in.CardToken == "":
		return validationError("cardToken is required")
	case in.Nights <= 0:
		return validationError("nights must be positive, got %d", in.Nights)
	case in.AmountCents <= 0:
		return validationError("amountCents must be positive, got %d", in.AmountCents)
	}
	return nil
}

// rejectionTypes are errors a service returns when it refused a request
// outright. A refused request had no side effect, so it needs no undo.
var rejectionTypes = []string{ErrTypeValidation, ErrTypePaymentDeclined, ErrTypePropertyUnavailable}

func forwardActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		// Without this a cancel resolves the future while the activity may
		// still be running, and a compensation could run before the step it
		// undoes has finished.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: rejectionTypes,
		},
	}
}

func compensationActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		// Unlimited attempts: giving up on a refund would leave the guest
		// charged for nothing, so keep trying until the provider recovers.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    0,
		},
	}
}

// compensation undoes one step. The activity takes no input and returns the
// id it undid, or "" when the step had left nothing behind.
type compensation struct {
	name     string
	activity any
	done     string // format for the id that was undone
	none     string // said when there was nothing to undo
}

// bookingSaga carries the state the query handler reads and the undo stack.
type bookingSaga struct {
	status string
	undo   []compensation
}

// PropertyBooking charges the card, reserves the property and sends a
// confirmation, undoing finished steps in reverse order if a later one fails.
func PropertyBooking(ctx workflow.Context, in BookingInput) (BookingResult, error) {
	s := &bookingSaga{status: bookingStarted}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return s.status, nil }); err != nil {
		return BookingResult{}, fmt.Errorf("register status query: %w", err)
	}
	if err := in.validate(); err != nil {
		s.status = bookingFailed
		return BookingResult{}, err
	}
	res, err := s.run(ctx, in)
	if err != nil {
		return BookingResult{}, err
	}
	s.status = bookingConfirmed
	res.Status = bookingConfirmed
	return res, nil
}

func (s *bookingSaga) run(ctx workflow.Context, in BookingInput) (BookingResult, error) {
	var a *Activities
	ctx = workflow.WithActivityOptions(ctx, forwardActivityOptions())
	// The workflow id is the booking's identity: the activities key their
	// side effects on it too, so the two can never disagree.
	res := BookingResult{BookingID: workflow.GetInfo(ctx).WorkflowExecution.ID}

	s.status = bookingCharging
	charge := ChargeRequest{CardToken: in.CardToken, AmountCents: in.AmountCents}
	err := workflow.ExecuteActivity(ctx, a.ChargeCard, charge).Get(ctx, &res.ChargeID)
	if isRejection(err) {
		s.status = bookingFailed
		return res, chargeRejected(err)
	}
	// Pushed even when the charge failed some other way (e.g. timed out):
	// the money may have been taken, and the refund is a no-op if it was not.
	s.undo = append(s.undo, compensation{
		name: "refund charge", activity: a.RefundCharge, done: "charge %s was refunded", none: "nothing was charged",
	})
	if err != nil {
		return res, s.fail(ctx, err)
	}

	s.status = bookingReserving
	reserve := ReserveRequest{PropertyID: in.PropertyID, Nights: in.Nights}
	err = workflow.ExecuteActivity(ctx, a.ReserveProperty, reserve).Get(ctx, &res.ReservationID)
	// A refused reservation left nothing to release; anything else might have.
	if !isRejection(err) {
		s.undo = append(s.undo, compensation{
			name: "release reservation", activity: a.ReleaseReservation,
			done: "reservation %s was released", none: "nothing was reserved",
		})
	}
	if err != nil {
		return res, s.fail(ctx, err)
	}

	s.status = bookingConfirming
	err = workflow.ExecuteActivity(ctx, a.SendConfirmation, ConfirmRequest{
		BookingID: res.BookingID, ChargeID: res.ChargeID, ReservationID: res.ReservationID,
	}).Get(ctx, nil)
	if err != nil {
		return res, s.fail(ctx, err)
	}
	return res, nil
}

// fail runs the compensations and builds the workflow error. It is called
// with the stage that failed still in s.status.
func (s *bookingSaga) fail(ctx workflow.Context, cause error) error {
	stage := s.status
	summary, undoErr := s.compensate(ctx)
	if undoErr != nil {
		summary += "; compensation failed: " + undoErr.Error()
	}
	if ctx.Err() != nil {
		s.status = bookingCanceled
		workflow.GetLogger(ctx).Info("booking canceled", "stage", stage, "undo", summary)
		// Wrapping a CanceledError makes the execution end CANCELED.
		return fmt.Errorf("booking canceled while %s; %s: %w", stage, summary, temporal.NewCanceledError(summary))
	}
	s.status = bookingFailed
	var appErr *temporal.ApplicationError
	if errors.As(cause, &appErr) && appErr.Type() == ErrTypePropertyUnavailable {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("booking failed: property was unavailable; %s", summary), ErrTypePropertyUnavailable, cause)
	}
	// Non-retryable because a workflow-level retry would reuse the idempotency
	// keys and find the charge this run just refunded.
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("booking failed while %s; %s", stage, summary), ErrTypeBookingFailed, cause)
}

// compensate runs the undo stack in reverse and describes what it undid.
func (s *bookingSaga) compensate(ctx workflow.Context) (string, error) {
	s.status = bookingCompensating
	// Disconnected so that the undo still runs when the workflow was canceled.
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, compensationActivityOptions())

	var notes []string
	var errs []error
	for _, c := range slices.Backward(s.undo) {
		var id string
		if err := workflow.ExecuteActivity(dctx, c.activity).Get(dctx, &id); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			continue
		}
		if id == "" {
			notes = append(notes, c.none)
			continue
		}
		notes = append(notes, fmt.Sprintf(c.done, id))
	}
	return strings.Join(notes, ", "), errors.Join(errs...)
}

// chargeRejected builds the workflow error for a refused charge. Nothing was
// taken, so unlike fail it has nothing to undo.
func chargeRejected(cause error) error {
	var appErr *temporal.ApplicationError
	if errors.As(cause, &appErr) && appErr.Type() == ErrTypePaymentDeclined {
		return temporal.NewNonRetryableApplicationError("booking failed: card was declined", ErrTypePaymentDeclined, cause)
	}
	return temporal.NewNonRetryableApplicationError("booking failed: charge was rejected", ErrTypeBookingFailed, cause)
}

// isRejection reports whether err is a service refusing the request outright.
func isRejection(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && slices.Contains(rejectionTypes, appErr.Type())
}
