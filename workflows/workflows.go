// Package workflows holds the dev workflows and activities every regional worker runs.
package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Workflow type names. They are spelled out rather than derived from the Go
// function names so that renaming a function can never silently change the
// type that clients start.
const (
	propertyBookingName       = "PropertyBooking"
	dataProcessingName        = "DataProcessing"
	propertyDataSyncName      = "PropertyDataSync"
	longRunningProcessingName = "LongRunningProcessing"
	resilientDataSyncName     = "ResilientDataSync"
)

// Names lists the workflow types every worker registers, in a stable order.
var Names = []string{propertyBookingName, dataProcessingName, propertyDataSyncName, longRunningProcessingName,
	resilientDataSyncName}

// Query names served by the workflows in this package.
const (
	// QueryStatus is served by every workflow here.
	QueryStatus = "getStatus"
	// QueryProgress is served by DataProcessing and ResilientDataSync (an
	// int in 0..100).
	QueryProgress = "getProgress"
	// QueryNotes is served by DataProcessing: the texts of the note
	// signals, oldest first.
	QueryNotes = "getNotes"
	// QueryUpdates is served by PropertyDataSync: a PropertyUpdates.
	QueryUpdates = "getUpdates"
)

// Signal names the workflows in this package handle.
const (
	// SignalNote to DataProcessing carries a Note, which it keeps.
	SignalNote = "note"
	// SignalPropertyUpdated to PropertyDataSync carries a PropertyUpdate:
	// fields of the property changed at the source while it was syncing.
	SignalPropertyUpdated = "propertyUpdated"
)

// Update names the workflows in this package handle.
const (
	// UpdateSetItemDelay to DataProcessing carries an ItemDelay, the delay
	// of the items not yet started, and returns the previous delay (an
	// int, in milliseconds). A value outside 0..60000 is rejected by the
	// update's validator with a ValidationError.
	UpdateSetItemDelay = "setItemDelay"
)

// Application error types returned by the workflows and activities. Callers
// can match on them with temporal.ApplicationError.Type().
const (
	ErrTypeValidation          = "ValidationError"
	ErrTypeAuthentication      = "AuthenticationError"
	ErrTypePaymentDeclined     = "PaymentDeclined"
	ErrTypePropertyUnavailable = "PropertyUnavailable"
	// ErrTypeBookingFailed is a booking that failed for another reason
	// after its finished steps were undone.
	ErrTypeBookingFailed = "BookingFailed"
	// ErrTypeRiskRejected is a booking whose payment the risk check
	// refused; nothing was charged. Its detail is the risk score.
	ErrTypeRiskRejected = "RiskRejected"
)

// registrations pairs each workflow type with its function. Register walks
// this table instead of Names so that a caller mutating the exported slice
// cannot change what gets registered.
var registrations = []struct {
	name string
	fn   any
}{
	{propertyBookingName, PropertyBooking},
	{dataProcessingName, DataProcessing},
	{propertyDataSyncName, PropertyDataSync},
	{longRunningProcessingName, LongRunningProcessing},
	{resilientDataSyncName, ResilientDataSync},
}

// Register registers every workflow (under the names in Names) and the
// activities on w. Activities are registered under their method names:
// AssessRisk, ChargeCard, RefundCharge, ReserveProperty, ReleaseReservation,
// SendConfirmation, SyncPropertyData, SyncPropertyFields and SyncRecords.
func Register(w worker.Registry, acts *Activities) {
	RegisterWorkflows(w)
	w.RegisterActivity(acts)
}

// WorkflowRegistry is the part of a worker, a test environment or a
// worker.WorkflowReplayer that registers workflows.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// RegisterWorkflows registers every workflow under the names in Names,
// without activities: what a replayer needs.
func RegisterWorkflows(r WorkflowRegistry) {
	for _, reg := range registrations {
		r.RegisterWorkflowWithOptions(reg.fn, workflow.RegisterOptions{Name: reg.name})
	}
}

// validationError reports bad input. It is non-retryable because retrying the
// same input can never succeed.
func validationError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeValidation, nil)
}
