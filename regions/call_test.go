package regions

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/regiongate/regiongate/configs"
)

// TestCallClassifiesWhatReachedTheRegion drives call() through simulated
// gRPC attempts and checks what it concludes: whether anything may have
// reached the region (ErrUnavailable means provably nothing did) and
// whether the breaker counted a failure.
func TestCallClassifiesWhatReachedTheRegion(t *testing.T) {
	then := func(steps ...func(ctx context.Context) error) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			var err error
			for _, s := range steps {
				err = s(ctx)
			}
			return err
		}
	}
	tests := []struct {
		name            string
		f               func(ctx context.Context) error
		failFast        bool
		wantUnavailable bool // provably never sent
		wantFailure     bool // counted against the breaker
	}{
		{"success", accept, false, false, false},
		{"every attempt refused until the deadline", refuse, false, true, true},
		{"first attempt refused, fail fast", refuse, true, true, true},
		{"sent, then no answer before the deadline", hang, false, false, true},
		{"sent, then the connection broke", reset, false, false, true},
		{"sent once, then refused: may have arrived", then(reset, refuse), false, false, true},
		{"sent once, then refused, fail fast", then(reset, refuse), true, false, true},
		{"no connection before the deadline", func(ctx context.Context) error {
			return attempt(ctx, false, func() error { <-ctx.Done(); return ctx.Err() }())
		}, false, true, true},
		{"the region says the id exists", duplicate, false, false, false},
		{"the region rejects the argument", func(ctx context.Context) error {
			return attempt(ctx, true, serviceerror.NewInvalidArgument("bad task queue"))
		}, false, false, false},
		{"failed before any attempt (caller's input)", func(context.Context) error {
			return errors.New("encoding input: unsupported type")
		}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := fakeRegion(t, configs.Region{Name: "r", CallTimeout: configs.Duration(100 * time.Millisecond)}, nil)
			err := r.call(context.Background(), tt.failFast, tt.f)
			if got := errors.Is(err, ErrUnavailable); got != tt.wantUnavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tt.wantUnavailable)
			}
			if got := r.settings.Load().breaker.Counts().TotalFailures == 1; got != tt.wantFailure {
				t.Errorf("breaker counts %+v, want a failure: %v", r.settings.Load().breaker.Counts(), tt.wantFailure)
			}
		})
	}
}

func TestCallFailFastStopsTheRetries(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failFast bool
		want     func(n int) bool
	}{
		{"fail fast: one attempt", true, func(n int) bool { return n == 1 }},
		{"otherwise: retried until the deadline", false, func(n int) bool { return n > 1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := fakeRegion(t, configs.Region{Name: "r", CallTimeout: configs.Duration(50 * time.Millisecond)}, nil)
			var n int
			_ = r.call(context.Background(), tt.failFast, func(ctx context.Context) error {
				err := refuse(ctx)
				n = int(ctx.Value(attemptsKey{}).(*attempts).tried.Load())
				return err
			})
			if !tt.want(n) {
				t.Fatalf("%d attempts", n)
			}
		})
	}
}

func TestCallerGoingAwayIsNotTheRegionsFault(t *testing.T) {
	r, _ := fakeRegion(t, configs.Region{Name: "r", Breaker: configs.Breaker{ConsecutiveFailures: 1}}, nil)
	for _, tt := range []struct {
		name            string
		f               func(ctx context.Context) error
		wantUnavailable bool
	}{
		{"after sending", hang, false},
		{"before sending", func(ctx context.Context) error {
			return attempt(ctx, false, func() error { <-ctx.Done(); return ctx.Err() }())
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			err := r.call(ctx, false, func(cctx context.Context) error {
				cancel() // the HTTP client went away mid-call
				return tt.f(cctx)
			})
			var gone *callerGoneError
			if !errors.As(err, &gone) || errors.Is(err, ErrUnavailable) != tt.wantUnavailable {
				t.Fatalf("got %v", err)
			}
			if c := r.settings.Load().breaker.Counts(); c.TotalFailures != 0 || r.Breaker() != "closed" {
				t.Fatalf("caller's cancellation counted against the region: %+v %s", c, r.Breaker())
			}
		})
	}
}

func TestOpenBreakerIsUnavailableWithoutCalling(t *testing.T) {
	r, _ := fakeRegion(t, configs.Region{Name: "r", Breaker: configs.Breaker{ConsecutiveFailures: 2}}, nil)
	var changes []StateChange
	r.onChange = func(c StateChange) { changes = append(changes, c) }
	r.settings.Load().breaker = newBreaker(r.Config(), r.onChange)
	for range 2 {
		_ = r.call(context.Background(), true, refuse)
	}
	ran := false
	err := r.call(context.Background(), false, func(context.Context) error { ran = true; return nil })
	if ran || !errors.Is(err, ErrUnavailable) || r.Breaker() != "open" {
		t.Fatalf("open breaker: ran=%v err=%v state=%s", ran, err, r.Breaker())
	}
	if len(changes) != 1 || changes[0] != (StateChange{Region: "r", What: "breaker", From: "closed", To: "open"}) {
		t.Fatalf("state changes %+v", changes)
	}
}
