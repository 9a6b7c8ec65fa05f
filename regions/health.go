package regions

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
)

// HealthOptions tune the active health checks. Zero values take defaults.
type HealthOptions struct {
	Interval time.Duration // between checks; default 2s
	Timeout  time.Duration // per check; default 1s
	// FailThreshold consecutive failures mark a region unhealthy; default 2.
	FailThreshold int
	// PassThreshold consecutive passes mark it healthy again; default 2.
	PassThreshold int
}

func (o HealthOptions) withDefaults() HealthOptions {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.FailThreshold <= 0 {
		o.FailThreshold = 2
	}
	if o.PassThreshold <= 0 {
		o.PassThreshold = 2
	}
	return o
}

// RunHealthChecks checks every region with the SDK's CheckHealth until ctx
// ends. Health checks bypass the breaker: they are how an unhealthy region
// is noticed to be back.
func (m *Manager) RunHealthChecks(ctx context.Context, opts HealthOptions) {
	opts = opts.withDefaults()
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	for {
		m.CheckHealthOnce(ctx, opts)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckHealthOnce runs one round of checks, all regions in parallel.
func (m *Manager) CheckHealthOnce(ctx context.Context, opts HealthOptions) {
	opts = opts.withDefaults()
	regions := m.All()
	done := make(chan struct{}, len(regions))
	for _, r := range regions {
		go func() {
			defer func() { done <- struct{}{} }()
			cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
			defer cancel()
			_, err := r.client.CheckHealth(cctx, &client.CheckHealthRequest{})
			r.recordHealth(err == nil, opts)
		}()
	}
	for range regions {
		<-done
	}
}

// recordHealth applies one check result with hysteresis, so one slow check
// does not flap the region.
func (r *Region) recordHealth(ok bool, opts HealthOptions) {
	r.reachable.Store(ok)
	r.healthMu.Lock()
	defer r.healthMu.Unlock()
	unhealthy := r.unhealthy.Load()
	if ok != unhealthy { // result agrees with the current state
		r.healthStreak = 0
		return
	}
	r.healthStreak++
	threshold := opts.FailThreshold
	if unhealthy {
		threshold = opts.PassThreshold
	}
	if r.healthStreak >= threshold {
		r.unhealthy.Store(!unhealthy)
		r.healthStreak = 0
	}
}
