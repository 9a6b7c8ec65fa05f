package regions

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
)

// Errors callers test with errors.Is.
var (
	// ErrUnknownOutcome: a start may or may not have reached the region; it
	// must not be tried elsewhere. The client retries with the same id.
	ErrUnknownOutcome = errors.New("outcome unknown: the region may or may not have the workflow")
	// ErrUnavailable: the region could not be reached and nothing was sent.
	ErrUnavailable = errors.New("region unavailable")
	// ErrNotFound: no region holds the workflow id.
	ErrNotFound = errors.New("workflow not found")
	// ErrNotLawful: since the decision, a config change took away the
	// region's right to hold this data (or the region); nothing was sent.
	ErrNotLawful = errors.New("no longer lawful for this data")
	// ErrConflict: the workflow id is held by a region this request may not use.
	ErrConflict = errors.New("workflow id already belongs to another region")
	// ErrNoCandidates: the decision offered no region and the workflow id
	// has none recorded, so there is nowhere to start it. It wraps
	// ErrUnavailable.
	ErrNoCandidates = fmt.Errorf("%w: no candidate regions and no recorded one", ErrUnavailable)
)

// unreachableError says that no attempt of a call got onto a connection to
// the region: the dial was refused, the connection was in backoff, or none
// could be made before the call's timeout. Nothing can have reached the
// region, so it is ErrUnavailable.
type unreachableError struct {
	region string
	cause  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("region %s: %v: %v", e.region, ErrUnavailable, e.cause)
}

func (e *unreachableError) Is(target error) bool { return target == ErrUnavailable }
func (e *unreachableError) Unwrap() error        { return e.cause }

// callerGoneError marks a call that ended because the caller's own context
// ended (the HTTP client went away, or its deadline was shorter than the
// region's timeout). It says nothing about the region. When no attempt got
// onto a connection it is also ErrUnavailable: nothing was sent.
type callerGoneError struct {
	cause   error
	notSent bool
}

func (e *callerGoneError) Error() string        { return "caller gave up: " + e.cause.Error() }
func (e *callerGoneError) Unwrap() error        { return e.cause }
func (e *callerGoneError) Is(target error) bool { return e.notSent && target == ErrUnavailable }

// sick reports whether err means the region itself is failing, as opposed
// to the caller having asked for something wrong or having gone away. Only
// sick errors count against a region's circuit breaker.
func sick(err error) bool {
	var gone *callerGoneError
	switch {
	case err == nil, errors.As(err, &gone):
		return false
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return true
	case codes.Unauthenticated, codes.PermissionDenied:
		// Every call goes with the gateway's own credentials for the
		// region, never the caller's: a refusal says those are wrong or
		// revoked, and every other call will be refused too.
		return true
	}
	return false
}

// IsCallerError reports whether the region refused the call because of what
// the caller asked (bad argument, failed query, workflow already closed).
func IsCallerError(err error) bool {
	if err == nil {
		return false
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.InvalidArgument, codes.FailedPrecondition:
		return true
	}
	var qf *serviceerror.QueryFailed
	return errors.As(err, &qf)
}
