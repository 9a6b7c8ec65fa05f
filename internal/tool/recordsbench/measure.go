package recordsbench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
	"github.com/regiongate/regiongate/regions"
)

// callTimeout bounds one call to a store: a hung server cannot hold a
// phase past its own limit by more than this.
const callTimeout = 10 * time.Second

// measure runs the phases on a filled store, through the Records
// interface a gateway uses: claims one at a time, claims at saturation, a
// sweep pass that finds nothing, the sweep of the expired share; then it
// reads the store's footprint.
func measure(ctx context.Context, o Options, t target, d dataset, res *Result) error {
	rs := t.records()
	res.Claim = claimSerial(ctx, o, rs, d)
	fmt.Fprintf(o.Progress, "%s: one caller: p50 %.2f ms, p99 %.2f ms\n", res.Store, res.Claim.P50Ms, res.Claim.P99Ms)
	res.Saturated = claimSaturated(ctx, o, rs, d)
	fmt.Fprintf(o.Progress, "%s: %d callers: %.0f claims/s\n", res.Store, o.Concurrency, res.Saturated.RPS)
	var err error
	if res.Sweep, err = sweep(ctx, o, rs, d, expiredIn(res.Records)); err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "%s: sweep removed %d in %.1f s\n", res.Store, res.Sweep.Removed, res.Sweep.Seconds)
	if res.Footprint, err = t.footprint(ctx); err != nil {
		return fmt.Errorf("reading the footprint: %w", err)
	}
	return ctx.Err()
}

// claim makes one claim and says how long it took.
func claim(ctx context.Context, rs regions.Records, key string, at regions.Placement) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	start := time.Now()
	_, err := rs.Claim(ctx, key, at)
	return time.Since(start), err
}

func note(s *bench.Sample, took time.Duration, err error) {
	if err != nil {
		s.Errors++
		if s.FirstError == "" {
			s.FirstError = err.Error()
		}
		return
	}
	s.Latencies = append(s.Latencies, took)
}

// claimSerial is o.Claims claims of new keys, one after another.
func claimSerial(ctx context.Context, o Options, rs regions.Records, d dataset) bench.Summary {
	var s bench.Sample
	start := time.Now()
	deadline := start.Add(o.PhaseTimeout)
	for j := 0; j < o.Claims && time.Now().Before(deadline) && ctx.Err() == nil; j++ {
		took, err := claim(ctx, rs, d.claimKey("claim", j), placements[j%len(placements)])
		note(&s, took, err)
	}
	s.Elapsed = time.Since(start)
	return s.Summarize("one caller")
}

// claimSaturated is o.Concurrency callers claiming new keys in a closed
// loop until o.SaturationClaims or o.SaturationTime. Claims cut off by
// the time limit are not counted.
func claimSaturated(ctx context.Context, o Options, rs regions.Records, d dataset) bench.Summary {
	ctx, cancel := context.WithTimeout(ctx, o.SaturationTime)
	defer cancel()
	var next atomic.Int64
	samples := make([]bench.Sample, o.Concurrency)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range samples {
		wg.Go(func() {
			for {
				j := int(next.Add(1)) - 1
				if j >= o.SaturationClaims || ctx.Err() != nil {
					return
				}
				took, err := claim(ctx, rs, d.claimKey("saturation", j), placements[j%len(placements)])
				if err != nil && ctx.Err() != nil {
					return
				}
				note(&samples[c], took, err)
			}
		})
	}
	wg.Wait()
	var all bench.Sample
	for _, s := range samples {
		all.Add(s)
	}
	all.Elapsed = time.Since(start)
	return all.Summarize(fmt.Sprintf("%d callers", o.Concurrency))
}

// SweepResult is the retention sweep's cost at one size.
type SweepResult struct {
	// IdleMs is one RemoveExpired call that finds nothing to remove: what
	// every sweep interval costs the store at least.
	IdleMs float64 `json:"idle_ms"`
	// Expired is how many records had expired (the fill's 1%); Removed how
	// many the sweep removed, in Calls calls of the configured batch, in
	// Seconds.
	Expired   int     `json:"expired"`
	Removed   int     `json:"removed"`
	Calls     int     `json:"calls"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	// Cut says why the sweep stopped before removing every expired record.
	Cut string `json:"cut,omitempty"`
}

// sweep times an idle RemoveExpired pass, then removes the expired
// records as Manager.Sweep does: batches until one comes back short.
func sweep(ctx context.Context, o Options, rs regions.Records, d dataset, expired int) (SweepResult, error) {
	res := SweepResult{Expired: expired}
	start := time.Now()
	n, err := rs.RemoveExpired(ctx, time.Unix(d.now-2*expiredWithin, 0), o.SweepBatch)
	switch {
	case err != nil:
		return res, fmt.Errorf("idle sweep: %w", err)
	case n != 0:
		return res, fmt.Errorf("idle sweep removed %d records: none had expired then", n)
	}
	res.IdleMs = ms(time.Since(start))

	sctx, cancel := context.WithTimeoutCause(ctx, o.SweepTimeout, fmt.Errorf("stopped after %s", o.SweepTimeout))
	defer cancel()
	start = time.Now()
	for {
		n, err := rs.RemoveExpired(sctx, time.Unix(d.now, 0), o.SweepBatch)
		res.Removed += n
		res.Calls++
		if err != nil {
			if ctx.Err() != nil || sctx.Err() == nil {
				return res, fmt.Errorf("sweep: %w", err)
			}
			res.Cut = context.Cause(sctx).Error()
			break
		}
		if n < o.SweepBatch {
			break
		}
		if sctx.Err() != nil { // bbolt's RemoveExpired does not look at its context
			if ctx.Err() != nil {
				return res, fmt.Errorf("sweep: %w", context.Cause(ctx))
			}
			res.Cut = context.Cause(sctx).Error()
			break
		}
	}
	elapsed := time.Since(start)
	res.Seconds = round3(elapsed.Seconds())
	if elapsed > 0 {
		res.PerSecond = round3(float64(res.Removed) / elapsed.Seconds())
	}
	if res.Cut == "" && res.Removed != expired {
		return res, fmt.Errorf("the sweep removed %d records, %d had expired", res.Removed, expired)
	}
	return res, nil
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }
