// Package regions holds one long-lived Temporal client per region, with its breaker, health and drain state.
package regions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// Defaults for zero values in configs.Region.
const (
	DefaultCallTimeout         = 5 * time.Second
	DefaultConsecutiveFailures = 5
	DefaultOpenFor             = 10 * time.Second
	DefaultHalfOpenRequests    = 1
)

// Region is one regional Temporal cluster as the gateway sees it.
type Region struct {
	cfg     configs.Region
	client  client.Client
	breaker *gobreaker.CircuitBreaker[any]
	timeout time.Duration

	drained   atomic.Bool
	unhealthy atomic.Bool
	reachable atomic.Bool // the last health check passed
	healthMu  sync.Mutex
	// healthStreak counts consecutive health results that disagree with
	// the current state.
	healthStreak int
}

// newRegion creates the region's client once. The client is lazy: it
// connects on first use, so a region that is down at start-up does not stop
// the gateway, and it reconnects by itself when the region returns.
func newRegion(cfg configs.Region, opts client.Options) (*Region, error) {
	opts.HostPort = cfg.Endpoint
	opts.Namespace = cfg.Namespace
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions,
		grpc.WithChainUnaryInterceptor(attemptInterceptor))
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("creating client for region %s: %w", cfg.Name, err)
	}
	r := &Region{cfg: cfg, client: c, timeout: time.Duration(cfg.CallTimeout)}
	if r.timeout <= 0 {
		r.timeout = DefaultCallTimeout
	}
	r.breaker = gobreaker.NewCircuitBreaker[any](breakerSettings(cfg))
	return r, nil
}

func breakerSettings(cfg configs.Region) gobreaker.Settings {
	b := cfg.Breaker
	failures := b.ConsecutiveFailures
	if failures == 0 {
		failures = DefaultConsecutiveFailures
	}
	openFor := time.Duration(b.OpenFor)
	if openFor <= 0 {
		openFor = DefaultOpenFor
	}
	half := b.HalfOpenRequests
	if half == 0 {
		half = DefaultHalfOpenRequests
	}
	return gobreaker.Settings{
		Name:        cfg.Name,
		MaxRequests: half,
		Timeout:     openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// What the caller caused (bad arguments, unknown ids, an id already
		// started, its own cancellation) says nothing about the region.
		IsExcluded: func(err error) bool { return err != nil && !sick(err) },
	}
}

// Reachable reports whether the last health check passed.
func (r *Region) Reachable() bool { return r.reachable.Load() }

// Healthy reports whether the health checks consider the region healthy.
func (r *Region) Healthy() bool { return !r.unhealthy.Load() }

// Drained reports whether the region is drained.
func (r *Region) Drained() bool { return r.drained.Load() }

// Breaker returns the breaker state: "closed", "open" or "half-open".
func (r *Region) Breaker() string { return r.breaker.State().String() }

// Name returns the region's name.
func (r *Region) Name() string { return r.cfg.Name }

// Config returns the region's config.
func (r *Region) Config() configs.Region { return r.cfg }

// Client returns the region's long-lived Temporal client.
func (r *Region) Client() client.Client { return r.client }

// State returns the region's state as the router sees it.
func (r *Region) State() router.RegionState {
	return router.RegionState{
		Drained:   r.drained.Load(),
		Unhealthy: r.unhealthy.Load(),
		Breaker:   r.breaker.State().String(),
	}
}

// call runs f through the region's breaker with the per-call timeout. The
// returned error wraps ErrUnavailable when nothing can have reached the
// region (breaker open, connection refused on every attempt).
func (r *Region) call(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ctx, att := withAttempts(ctx)
	_, err := r.breaker.Execute(func() (any, error) { return nil, f(ctx) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return fmt.Errorf("region %s: %w: %w", r.cfg.Name, ErrUnavailable, err)
	case sick(err) && !att.maybeSent.Load():
		return fmt.Errorf("region %s: %w: %w", r.cfg.Name, ErrUnavailable, err)
	}
	return err
}
