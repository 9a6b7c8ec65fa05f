package regions

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	// ErrConflict: the workflow id is held by a region this request may not use.
	ErrConflict = errors.New("workflow id already belongs to another region")
)

// sick reports whether err means the region itself is failing, as opposed
// to the caller having asked for something wrong. Only sick errors count
// against a region's circuit breaker.
func sick(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || neverSent(err) {
		return true
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return true
	}
	return false
}

// neverSent reports whether err proves the request never left this
// process: the connection to the region could not be made.
func neverSent(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "Error while dialing") ||
		strings.Contains(msg, "no such host")
}

// attempts records, for one logical call, whether any gRPC attempt may
// have reached the server. The SDK retries internally, so the final error
// alone cannot tell: an early attempt may have been sent before the region
// died and later attempts were refused.
type attempts struct{ maybeSent atomic.Bool }

type attemptsKey struct{}

func withAttempts(ctx context.Context) (context.Context, *attempts) {
	a := &attempts{}
	return context.WithValue(ctx, attemptsKey{}, a), a
}

// attemptInterceptor sits inside the SDK's retry interceptor, so it sees
// every attempt of a call.
func attemptInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if a, ok := ctx.Value(attemptsKey{}).(*attempts); ok {
		if err == nil || !(status.Code(err) == codes.Unavailable && neverSent(err)) {
			a.maybeSent.Store(true)
		}
	}
	return err
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
