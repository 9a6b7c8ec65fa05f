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

// Booking stages reported by the getStatus query.
const (
	bookingStarted      = "started"
	bookingCheckingRisk = "checking risk"
	bookingCharging     = "charging"
	bookingReserving    = "reserving"
	bookingConfirming   = "confirming"
	bookingCompensating = "compensating"
	bookingConfirmed    = "confirmed"
	bookingFailed       = "failed"
	bookingCanceled     = "canceled"
)

// Booking steps, each with its own idempotency key.
const (
	stepCharge  = "charge"
	stepReserve = "reserve"
	stepConfirm = "confirm"
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

// maxNights bounds a stay; longer ones are surely a typo.
const maxNights = 365

// validate keeps input values out of its messages: failure messages are
// stored in the history in plain text.
func (in BookingInput) validate() error {
	switch {
	case in.PropertyID == "":
		return validationError("propertyId is required")
	case in.CardToken == "":
		return validationError("cardToken is required")
	case in.Nights <= 0 || in.Nights > maxNights:
		return validationError("nights must be between 1 and %d", maxNights)
	case in.AmountCents <= 0:
		return validationError("amountCents must be positive")
	}
	return nil
}

// rejectionTypes are errors a service returns when it refused a request
// outright. A refused request had no effect, so it needs no undo, and
// retrying it cannot help.
var rejectionTypes = []string{ErrTypeValidation, ErrTypeAuthentication, ErrTypePaymentDeclined, ErrTypePropertyUnavailable}

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
		// Unlimited attempts and no overall deadline: giving up on a refund
		// would leave the guest charged for nothing, so keep trying until
		// the provider recovers. The undo activities report "nothing to
		// undo" as success, so only an outage makes them fail.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    0,
		},
	}
}

// compensation undoes one step. Its activity takes an UndoRequest and
// returns the id it undid, or "" when the step had left nothing behind.
type compensation struct {
	name     string
	activity any
	key      string
	done     string // format for the id that was undone
	none     string // said when there was nothing to undo
}

// bookingSaga carries the state the query handler reads and the undo stack.
type bookingSaga struct {
	status string
	undo   []compensation
}

// PropertyBooking charges the card, reserves the property and sends a
// confirmation, undoing finished steps in reverse order if a later one fails
// or the workflow is canceled.
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

// stepKey is the idempotency key of one step of this run. Every attempt of
// the step and its compensation use it, so a retry after a lost response
// finds the first result instead of repeating the effect. The run id makes a
// later booking under the same workflow id a new booking.
func stepKey(ctx workflow.Context, step string) string {
	e := workflow.GetInfo(ctx).WorkflowExecution
	return e.ID + "/" + e.RunID + "/" + step
}

func (s *bookingSaga) run(ctx workflow.Context, in BookingInput) (BookingResult, error) {
	var a *Activities
	ctx = workflow.WithActivityOptions(ctx, forwardActivityOptions())
	res := BookingResult{BookingID: workflow.GetInfo(ctx).WorkflowExecution.ID}

	if err := s.checkRisk(ctx, in); err != nil {
		return res, err
	}

	s.status = bookingCharging
	charge := ChargeRequest{IdempotencyKey: stepKey(ctx, stepCharge), CardToken: in.CardToken, AmountCents: in.AmountCents}
	err := workflow.ExecuteActivity(ctx, a.ChargeCard, charge).Get(ctx, &res.ChargeID)
	if isRejection(err) {
		s.status = bookingFailed
		return res, rejected("booking failed", err)
	}
	// Pushed even when the charge failed some other way (e.g. timed out):
	// the money may have been taken, and the refund is a no-op if it was not.
	s.undo = append(s.undo, compensation{
		name: "refund charge", activity: a.RefundCharge, key: charge.IdempotencyKey,
		done: "charge %s was refunded", none: "nothing was charged",
	})
	if err != nil {
		return res, s.fail(ctx, err)
	}

	s.status = bookingReserving
	reserve := ReserveRequest{IdempotencyKey: stepKey(ctx, stepReserve), PropertyID: in.PropertyID, Nights: in.Nights}
	err = workflow.ExecuteActivity(ctx, a.ReserveProperty, reserve).Get(ctx, &res.ReservationID)
	// A refused reservation left nothing to release; anything else might have.
	if !isRejection(err) {
		s.undo = append(s.undo, compensation{
			name: "release reservation", activity: a.ReleaseReservation, key: reserve.IdempotencyKey,
			done: "reservation %s was released", none: "nothing was reserved",
		})
	}
	if err != nil {
		return res, s.fail(ctx, err)
	}

	s.status = bookingConfirming
	err = workflow.ExecuteActivity(ctx, a.SendConfirmation, ConfirmRequest{
		IdempotencyKey: stepKey(ctx, stepConfirm),
		BookingID:      res.BookingID, ChargeID: res.ChargeID, ReservationID: res.ReservationID,
	}).Get(ctx, nil)
	if err != nil {
		return res, s.fail(ctx, err)
	}
	return res, nil
}

// riskCheckChange names the change that added the risk check before the
// charge. Runs started before it have no marker in their history, get
// workflow.DefaultVersion here and go on as they were; new runs get 1.
const riskCheckChange = "add-risk-check"

// checkRisk refuses the payment before anything is charged if the risk
// assessment does not approve it.
func (s *bookingSaga) checkRisk(ctx workflow.Context, in BookingInput) error {
	if workflow.GetVersion(ctx, riskCheckChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	var a *Activities
	s.status = bookingCheckingRisk
	var risk RiskAssessment
	err := workflow.ExecuteActivity(ctx, a.AssessRisk, RiskRequest{CardToken: in.CardToken, AmountCents: in.AmountCents}).Get(ctx, &risk)
	if err != nil {
		return s.fail(ctx, err) // nothing to undo yet, but a cancel must end CANCELED
	}
	if !risk.Approved {
		s.status = bookingFailed
		return temporal.NewNonRetryableApplicationError(
			"booking failed: payment refused by the risk check", ErrTypeRiskRejected, nil, risk.Score)
	}
	return nil
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
		// A CanceledError makes the execution end CANCELED.
		return temporal.NewCanceledError(fmt.Sprintf("booking canceled while %s; %s", stage, summary))
	}
	s.status = bookingFailed
	cause = withoutCancel(cause)
	var appErr *temporal.ApplicationError
	if errors.As(cause, &appErr) && appErr.Type() == ErrTypePropertyUnavailable {
		return temporal.NewNonRetryableApplicationError(
			"booking failed: property was unavailable; "+summary, ErrTypePropertyUnavailable, cause)
	}
	// Non-retryable: this run has undone its steps, and a workflow retry is
	// a new run with new idempotency keys, i.e. a new booking nobody asked for.
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
		err := workflow.ExecuteActivity(dctx, c.activity, UndoRequest{IdempotencyKey: c.key}).Get(dctx, &id)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		case id == "":
			notes = append(notes, c.none)
		default:
			notes = append(notes, fmt.Sprintf(c.done, id))
		}
	}
	if len(notes) == 0 && len(errs) == 0 {
		return "nothing to undo", nil
	}
	return strings.Join(notes, ", "), errors.Join(errs...)
}

// rejected builds the workflow error for a step that was refused outright
// ("<what>: <the refusal>"): nothing was done, so unlike fail it has nothing
// to undo. The error keeps the refusal's type (PaymentDeclined,
// AuthenticationError, ...). cause must satisfy isRejection.
func rejected(what string, cause error) error {
	var appErr *temporal.ApplicationError
	errors.As(cause, &appErr)
	return temporal.NewNonRetryableApplicationError(what+": "+appErr.Message(), appErr.Type(), cause)
}

// isRejection reports whether err is a service refusing the request outright.
func isRejection(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && slices.Contains(rejectionTypes, appErr.Type())
}

// withoutCancel flattens err to its message if a CanceledError is in its
// chain. The SDK ends an execution CANCELED when the workflow's error wraps
// one anywhere, and a booking that was not canceled must end FAILED.
func withoutCancel(err error) error {
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return errors.New(err.Error())
	}
	return err
}
