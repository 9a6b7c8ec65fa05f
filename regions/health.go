package regions

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
)

// Defaults for zero values in HealthOptions.
const (
	DefaultHealthInterval      = 2 * time.Second
	DefaultHealthTimeout       = time.Second
	DefaultHealthFailThreshold = 2
	DefaultHealthPassThreshold = 2
)

// HealthOptions tune the active health checks. Zero values take the
// defaults above.
type HealthOptions struct {
	Interval time.Duration // between rounds of checks
	Timeout  time.Duration // per check
	// FailThreshold consecutive failures mark a region unhealthy.
	FailThreshold int
	// PassThreshold consecutive passes mark it healthy again.
	PassThreshold int
}

func (o HealthOptions) withDefaults() HealthOptions {
	if o.Interval <= 0 {
		o.Interval = DefaultHealthInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultHealthTimeout
	}
	if o.FailThreshold <= 0 {
		o.FailThreshold = DefaultHealthFailThreshold
	}
	if o.PassThreshold <= 0 {
		o.PassThreshold = DefaultHealthPassThreshold
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
			began := time.Now()
			_, err := r.client.CheckHealth(cctx, &client.CheckHealthRequest{})
			if ctx.Err() != nil {
				return // shutting down: the check says nothing about the region
			}
			m.inst.healthCheck(r.Name(), time.Since(began), err == nil)
			r.recordHealth(r.transport.Explain(err), opts)
		}()
	}
	for range regions {
		<-done
	}
}

// recordHealth applies one check result (nil: passed) with hysteresis, so
// one slow check does not flap the region. The change to unhealthy says
// why: the failed check's Reason and error.
func (r *Region) recordHealth(err error, opts HealthOptions) {
	ok := err == nil
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
		change := StateChange{Region: r.name, What: "health", From: healthName(unhealthy), To: healthName(!unhealthy)}
		if err != nil {
			change.Reason = Reason(err) + ": " + err.Error()
		}
		r.onChange(change)
	}
}

func healthName(unhealthy bool) string {
	if unhealthy {
		return "unhealthy"
	}
	return "healthy"
}
