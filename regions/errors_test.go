package regions

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/sony/gobreaker/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/regiongate/regiongate/configs"
)

// connRefused is what gRPC reports when a region's port is closed.
var connRefused = status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused\"")

// check is a health check's result: nil when it passed.
func check(pass bool) error {
	if pass {
		return nil
	}
	return connRefused
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		sick, isCaller bool
	}{
		{"nil", nil, false, false},
		{"unavailable", serviceerror.NewUnavailable("frontend is shutting down"), true, false},
		{"deadline exceeded from the server", serviceerror.NewDeadlineExceeded("timed out"), true, false},
		{"resource exhausted", serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_SYSTEM_OVERLOADED, "overloaded"), true, false},
		{"context deadline", context.DeadlineExceeded, true, false},
		{"wrapped context deadline", fmt.Errorf("describing wf-1: %w", context.DeadlineExceeded), true, false},
		{"wrapped unavailable", fmt.Errorf("starting: %w", serviceerror.NewUnavailable("down")), true, false},
		{"connection refused", connRefused, true, false},
		{"wrapped connection refused", fmt.Errorf("failed reaching server: %w", connRefused), true, false},
		{"unknown host", status.Error(codes.Unavailable, "dial tcp: lookup temporal.eu.invalid: no such host"), true, false},
		{"region unreachable", &unreachableError{region: "r", cause: connRefused}, true, false},
		{"wrapped ErrUnavailable", fmt.Errorf("locating wf-1: %w", ErrUnavailable), true, false},
		{"API key refused", status.Error(codes.Unauthenticated, "invalid API key"), true, false},
		{"credentials without the permission", serviceerror.NewPermissionDenied("not allowed", "namespace"), true, false},
		{"invalid argument", serviceerror.NewInvalidArgument("bad task queue"), false, true},
		{"wrapped invalid argument", fmt.Errorf("starting: %w", serviceerror.NewInvalidArgument("bad")), false, true},
		{"failed precondition", serviceerror.NewFailedPrecondition("workflow already closed"), false, true},
		{"query failed", serviceerror.NewQueryFailed("unknown queryType nope"), false, true},
		{"wrapped query failed", fmt.Errorf("querying: %w", serviceerror.NewQueryFailed("handler panicked")), false, true},
		{"not found", serviceerror.NewNotFound("workflow not found for ID: wf-1"), false, false},
		{"already started", serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "req-1", "run-1"), false, false},
		{"wrapped already started", fmt.Errorf("x: %w", serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "req-1", "run-1")), false, false},
		{"caller cancelled", context.Canceled, false, false},
		{"wrapped caller cancelled", fmt.Errorf("request: %w", context.Canceled), false, false},
		{"caller gave up while the region was slow", &callerGoneError{cause: context.DeadlineExceeded}, false, false},
		{"caller gave up before anything was sent", &callerGoneError{cause: connRefused, notSent: true}, false, false},
		{"plain error", errors.New("something odd"), false, false},
		// The message is the caller's (a workflow id, a query handler's
		// error): words in it must not make the region look sick.
		{"not found for an id that reads like a dial error", serviceerror.NewNotFound("workflow not found for ID: connection refused"), false, false},
		{"query failing with a dial error of its own", serviceerror.NewQueryFailed("dial tcp 10.0.0.9:5432: connect: connection refused"), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sick(tt.err); got != tt.sick {
				t.Errorf("sick = %v, want %v", got, tt.sick)
			}
			if got := IsCallerError(tt.err); got != tt.isCaller {
				t.Errorf("IsCallerError = %v, want %v", got, tt.isCaller)
			}
		})
	}
}

func TestUnavailableErrorsSayNothingWasSent(t *testing.T) {
	tests := []struct {
		name            string
		err             error
		wantUnavailable bool
	}{
		{"unreachable region", &unreachableError{region: "r", cause: connRefused}, true},
		{"caller gone before sending", &callerGoneError{cause: context.Canceled, notSent: true}, true},
		{"caller gone after sending", &callerGoneError{cause: context.Canceled}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, ErrUnavailable); got != tt.wantUnavailable {
				t.Errorf("errors.Is(ErrUnavailable) = %v, want %v", got, tt.wantUnavailable)
			}
			if errors.Unwrap(tt.err) == nil {
				t.Error("the cause is not unwrappable")
			}
		})
	}
}

// drive runs err through the breaker n times and returns how many calls
// got through (were not refused because the breaker was open).
func drive(cb *gobreaker.CircuitBreaker[any], err error, n int) (ran int) {
	for range n {
		_, got := cb.Execute(func() (any, error) { ran++; return nil, err })
		if errors.Is(got, gobreaker.ErrOpenState) {
			return ran
		}
	}
	return ran
}

func TestBreakerOpensAfterConsecutiveSickErrors(t *testing.T) {
	tests := []struct {
		name     string
		breaker  configs.Breaker
		err      error
		wantTrip uint32
	}{
		{"default threshold, unavailable", configs.Breaker{}, serviceerror.NewUnavailable("down"), DefaultConsecutiveFailures},
		{"default threshold, connection refused", configs.Breaker{}, connRefused, DefaultConsecutiveFailures},
		{"configured threshold 2, deadline", configs.Breaker{ConsecutiveFailures: 2}, context.DeadlineExceeded, 2},
		{"configured threshold 2, resource exhausted", configs.Breaker{ConsecutiveFailures: 2},
			serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_SYSTEM_OVERLOADED, "busy"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := gobreaker.NewCircuitBreaker[any](breakerSettings(configs.Region{Name: "r", Breaker: tt.breaker}))
			for i := uint32(1); i < tt.wantTrip; i++ {
				drive(cb, tt.err, 1)
				if cb.State() != gobreaker.StateClosed {
					t.Fatalf("open after %d failures, want %d", i, tt.wantTrip)
				}
			}
			drive(cb, tt.err, 1)
			if cb.State() != gobreaker.StateOpen {
				t.Fatalf("still %s after %d failures", cb.State(), tt.wantTrip)
			}
			ran := false
			_, err := cb.Execute(func() (any, error) { ran = true; return nil, nil })
			if !errors.Is(err, gobreaker.ErrOpenState) || ran {
				t.Fatalf("open breaker let a call through: ran=%v err=%v", ran, err)
			}
		})
	}
}

func TestBreakerSuccessResetsTheFailureStreak(t *testing.T) {
	cb := gobreaker.NewCircuitBreaker[any](breakerSettings(configs.Region{Name: "r", Breaker: configs.Breaker{ConsecutiveFailures: 3}}))
	for range 10 {
		drive(cb, serviceerror.NewUnavailable("down"), 2)
		drive(cb, nil, 1)
	}
	if cb.State() != gobreaker.StateClosed {
		t.Fatalf("breaker %s after failure streaks shorter than the threshold", cb.State())
	}
}

func TestBreakerIgnoresCallerErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"invalid argument", serviceerror.NewInvalidArgument("bad")},
		{"not found", serviceerror.NewNotFound("workflow not found for ID: wf-1")},
		{"already started", serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "req", "run")},
		{"query failed", serviceerror.NewQueryFailed("no such query")},
		{"caller cancelled", context.Canceled},
		{"wrapped caller cancelled", fmt.Errorf("client went away: %w", context.Canceled)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := gobreaker.NewCircuitBreaker[any](breakerSettings(configs.Region{Name: "r", Breaker: configs.Breaker{ConsecutiveFailures: 2}}))
			if ran := drive(cb, tt.err, 100); ran != 100 {
				t.Fatalf("only %d of 100 calls ran", ran)
			}
			if cb.State() != gobreaker.StateClosed {
				t.Fatalf("breaker %s after 100 caller errors", cb.State())
			}
			if c := cb.Counts(); c.ConsecutiveFailures != 0 || c.TotalFailures != 0 {
				t.Fatalf("caller errors counted as failures: %+v", c)
			}
		})
	}
}

func TestBreakerSettingsDefaults(t *testing.T) {
	tests := []struct {
		name        string
		breaker     configs.Breaker
		wantHalf    uint32
		wantTimeout configs.Duration
	}{
		{"zero values take defaults", configs.Breaker{}, DefaultHalfOpenRequests, configs.Duration(DefaultOpenFor)},
		{"configured values win", configs.Breaker{HalfOpenRequests: 3, OpenFor: configs.Duration(42e9)}, 3, configs.Duration(42e9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := breakerSettings(configs.Region{Name: "eu-west", Breaker: tt.breaker})
			if s.Name != "eu-west" || s.MaxRequests != tt.wantHalf || configs.Duration(s.Timeout) != tt.wantTimeout {
				t.Fatalf("got name %q maxRequests %d timeout %s", s.Name, s.MaxRequests, s.Timeout)
			}
		})
	}
}

func testRegion(t *testing.T, onChange func(StateChange)) *Region {
	t.Helper()
	r, err := newRegion(configs.Region{Name: "r", Endpoint: "127.0.0.1:1", Namespace: "ns"}, client.Options{}, nil, onChange)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.client.Close)
	return r
}

func TestHealthHysteresis(t *testing.T) {
	opts := HealthOptions{FailThreshold: 2, PassThreshold: 2}
	const (
		pass = true
		fail = false
	)
	tests := []struct {
		name    string
		checks  []bool
		healthy []bool // Healthy() after each check
	}{
		{"passes keep it healthy", []bool{pass, pass, pass}, []bool{true, true, true}},
		{"one failure is a blip", []bool{fail, pass, fail, pass}, []bool{true, true, true, true}},
		{"two failures in a row mark it unhealthy", []bool{fail, fail}, []bool{true, false}},
		{"failures after unhealthy keep it so", []bool{fail, fail, fail, fail}, []bool{true, false, false, false}},
		{"one pass while unhealthy is a blip", []bool{fail, fail, pass, fail, pass, fail}, []bool{true, false, false, false, false, false}},
		{"two passes in a row bring it back", []bool{fail, fail, pass, pass}, []bool{true, false, false, true}},
		{"the streak restarts after a flip", []bool{fail, fail, pass, pass, fail, pass, fail, fail}, []bool{true, false, false, true, true, true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRegion(t, nil)
			if !r.Healthy() || r.Reachable() {
				t.Fatalf("new region: healthy=%v reachable=%v, want healthy and not yet reachable", r.Healthy(), r.Reachable())
			}
			for i, ok := range tt.checks {
				r.recordHealth(check(ok), opts)
				if r.Healthy() != tt.healthy[i] {
					t.Fatalf("after check %d (%v): healthy=%v, want %v", i+1, ok, r.Healthy(), tt.healthy[i])
				}
				if r.Reachable() != ok {
					t.Fatalf("after check %d (%v): reachable=%v, want the last result", i+1, ok, r.Reachable())
				}
				if r.State().Unhealthy == r.Healthy() {
					t.Fatalf("State().Unhealthy=%v disagrees with Healthy()=%v", r.State().Unhealthy, r.Healthy())
				}
			}
		})
	}
}

func TestHealthThresholdsAreConfigurable(t *testing.T) {
	r := testRegion(t, nil)
	opts := HealthOptions{FailThreshold: 3, PassThreshold: 1}
	for i, want := range []bool{true, true, false} {
		r.recordHealth(check(false), opts)
		if r.Healthy() != want {
			t.Fatalf("after failure %d: healthy=%v, want %v", i+1, r.Healthy(), want)
		}
	}
	r.recordHealth(check(true), opts)
	if !r.Healthy() {
		t.Fatal("one pass with PassThreshold 1 did not restore the region")
	}
}

func TestNewRegionAppliesDefaults(t *testing.T) {
	r := testRegion(t, nil)
	if got := r.settings.Load().timeout; got != DefaultCallTimeout {
		t.Errorf("timeout %s, want %s", got, DefaultCallTimeout)
	}
	if r.Name() != "r" || r.Config().Namespace != "ns" || r.Breaker() != "closed" || r.Drained() {
		t.Errorf("name %q namespace %q breaker %q drained %v", r.Name(), r.Config().Namespace, r.Breaker(), r.Drained())
	}
}

func TestStateChangesAreReported(t *testing.T) {
	var got []StateChange
	r := testRegion(t, func(c StateChange) { got = append(got, c) })
	opts := HealthOptions{FailThreshold: 2, PassThreshold: 2}
	for _, ok := range []bool{false, true, false, false, false, true, true} {
		r.recordHealth(check(ok), opts)
	}
	for range DefaultConsecutiveFailures {
		_, _ = r.settings.Load().breaker.Execute(func() (any, error) { return nil, connRefused })
	}
	want := []StateChange{
		{Region: "r", What: "health", From: "healthy", To: "unhealthy", Reason: "unreachable: " + connRefused.Error()},
		{Region: "r", What: "health", From: "unhealthy", To: "healthy"},
		{Region: "r", What: "breaker", From: "closed", To: "open"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got %+v\nwant %+v", got, want)
	}
}
