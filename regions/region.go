// Package regions holds one long-lived Temporal client per region, with its breaker, health and drain state.
package regions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

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

// reconnect is how the client redials a region it lost. The SDK's own
// backoff grows to 10s, so a region restarted after a minute's outage
// could wait 10s more to be noticed; redialling a dead region once a
// second costs nothing.
var reconnect = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 200 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
	MinConnectTimeout: 20 * time.Second, // the SDK's
}

// Region is one regional Temporal cluster as the gateway sees it.
type Region struct {
	// name, namespace and conn never change: a new connection is a new
	// Region (Manager.Apply).
	name, namespace string
	conn            configs.Connection
	client          client.Client
	onChange        func(StateChange)
	// settings are the rest of the region's config, swapped whole when a
	// config change edits them.
	settings atomic.Pointer[regionSettings]

	drained   atomic.Bool
	unhealthy atomic.Bool
	reachable atomic.Bool // the last health check passed
	healthMu  sync.Mutex
	// healthStreak counts consecutive health results that disagree with
	// the current state.
	healthStreak int

	opts      client.Options // the region client's, for namespace clients
	nsMu      sync.Mutex
	nsClients map[string]client.Client // isolated tenants' namespaces
	transport *Transport
	stopFiles context.CancelFunc // ends the watch of the transport's files
}

// newRegion creates the region's client once, secured by tr (nil: plain
// text). The client is lazy: it connects on first use, so a region that is
// down at start-up does not stop the gateway, and it reconnects by itself
// when the region returns. onChange may be nil.
func newRegion(cfg configs.Region, opts client.Options, tr *Transport, onChange func(StateChange)) (*Region, error) {
	opts.HostPort = cfg.Endpoint
	opts.Namespace = cfg.Namespace
	if tr == nil {
		tr = &Transport{}
	}
	tr.Apply(&opts)
	// A copy: the base options are shared by every region.
	opts.ConnectionOptions.DialOptions = append(slices.Clip(opts.ConnectionOptions.DialOptions),
		grpc.WithChainUnaryInterceptor(attemptInterceptor, replyInterceptor),
		grpc.WithConnectParams(reconnect))
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("creating client for region %s: %w", cfg.Name, err)
	}
	if onChange == nil {
		onChange = func(StateChange) {}
	}
	r := &Region{name: cfg.Name, namespace: cfg.Namespace, conn: cfg.Connection(), client: c, opts: opts, onChange: onChange, transport: tr}
	r.reconfigure(cfg)
	// The watch lives as long as the region's client: close ends it.
	watch, stop := context.WithCancel(context.Background())
	r.stopFiles = stop
	go tr.Watch(watch)
	return r, nil
}

// regionSettings are what a config change may edit in a region without a
// new client.
type regionSettings struct {
	cfg     configs.Region
	timeout time.Duration
	breaker *gobreaker.CircuitBreaker[any]
}

// keepsClient says whether cfg can apply to this region in place: nothing
// that shapes the connection changed, so the same client.
func (r *Region) keepsClient(cfg configs.Region) bool {
	return r.conn == cfg.Connection()
}

// reconfigure takes cfg's settings (same name and connection). The
// breaker, and its state, is kept unless its settings changed.
func (r *Region) reconfigure(cfg configs.Region) {
	next := &regionSettings{cfg: cfg, timeout: time.Duration(cfg.CallTimeout)}
	if next.timeout <= 0 {
		next.timeout = DefaultCallTimeout
	}
	if old := r.settings.Load(); old != nil && old.cfg.Breaker == cfg.Breaker {
		next.breaker = old.breaker
	} else {
		next.breaker = newBreaker(cfg, r.onChange)
	}
	r.settings.Store(next)
}

func newBreaker(cfg configs.Region, onChange func(StateChange)) *gobreaker.CircuitBreaker[any] {
	s := breakerSettings(cfg)
	s.OnStateChange = func(name string, from, to gobreaker.State) {
		onChange(StateChange{Region: name, What: "breaker", From: from.String(), To: to.String()})
	}
	return gobreaker.NewCircuitBreaker[any](s)
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
func (r *Region) Breaker() string { return r.settings.Load().breaker.State().String() }

// Name returns the region's name.
func (r *Region) Name() string { return r.name }

// Config returns the region's config.
func (r *Region) Config() configs.Region { return r.settings.Load().cfg }

// Client returns the region's long-lived Temporal client.
func (r *Region) Client() client.Client { return r.client }

// State returns the region's state as the router sees it.
func (r *Region) State() router.RegionState {
	return router.RegionState{
		Drained:   r.drained.Load(),
		Unhealthy: r.unhealthy.Load(),
		Breaker:   r.Breaker(),
	}
}

// call runs f through the region's breaker with the per-call timeout. The
// returned error wraps ErrUnavailable when nothing can have reached the
// region: the breaker refused the call, or no attempt got onto a
// connection. With failFast the call ends at the first refused attempt
// rather than letting the SDK retry until the timeout; a start that has
// another region to go to uses it.
func (r *Region) call(ctx context.Context, failFast bool, f func(ctx context.Context) error) error {
	set := r.settings.Load()
	tctx, cancel := context.WithTimeout(ctx, set.timeout)
	defer cancel()
	c := &callCtx{Context: tctx}
	if failFast {
		c.att.stop = cancel
	}
	_, err := set.breaker.Execute(func() (any, error) {
		return nil, r.classify(ctx, c, f(c))
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &unreachableError{region: r.name, cause: err}
	}
	return err
}

// classify says what a failed call means for the region and the caller.
func (r *Region) classify(parent context.Context, c *callCtx, err error) error {
	if err == nil {
		return nil
	}
	refusal := c.att.refused()
	if refusal != nil && c.att.stop != nil {
		err = refusal // we ended the call there; what followed is our cancel
	}
	sent := c.att.sent.Load()
	switch {
	case !sent && refusal != nil:
		return &unreachableError{region: r.name, cause: err}
	case parent.Err() != nil:
		return &callerGoneError{cause: err, notSent: !sent}
	case !sent && c.att.tried.Load() > 0 && errors.Is(c.Err(), context.DeadlineExceeded):
		// Waited the whole timeout for a connection that never came.
		return &unreachableError{region: r.name, cause: err}
	}
	return err
}
