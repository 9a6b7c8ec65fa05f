package recordsbench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
	"github.com/regiongate/regiongate/regions"
)

// callTimeout bounds one call to a store: a hung server cannot hold a
// phase past its own limit by more than this.
const callTimeout = 10 * time.Second

// measureCells runs the phases on filled stores, through the Records
// interface a gateway uses: claims one at a time, then claims at
// saturation, each in o.Rounds rounds that take every cell in turn (the
// order reversed every other round); then, cell by cell, a sweep pass
// that finds nothing, the sweep of the expired share, and the footprint.
// A cell stopped by its limit, or failing, says so in its result.
func measureCells(ctx context.Context, o Options, d dataset, cells []*cell) error {
	for round := range o.Rounds {
		for _, c := range inTurn(cells, round) {
			lo, hi := share(o.Claims, o.Rounds, round)
			c.claims.Add(claimSerial(c.ctx, c.t.records(), d, lo, hi, o.PhaseTimeout/time.Duration(o.Rounds)))
		}
		fmt.Fprintf(o.Progress, "one caller, round %d of %d done\n", round+1, o.Rounds)
	}
	for round := range o.Rounds {
		for _, c := range inTurn(cells, round) {
			lo, hi := share(o.SaturationClaims, o.Rounds, round)
			c.saturated.Add(claimSaturated(c.ctx, o.Concurrency, c.t.records(), d, lo, hi, o.SaturationTime/time.Duration(o.Rounds)))
		}
		fmt.Fprintf(o.Progress, "%d callers, round %d of %d done\n", o.Concurrency, round+1, o.Rounds)
	}
	for _, c := range cells {
		res := c.res
		res.Claim = c.claims.Summarize("one caller")
		res.Saturated = c.saturated.Summarize(fmt.Sprintf("%d callers", o.Concurrency))
		err := sweepAndWeigh(c.ctx, o, c.t, d, res)
		if limit := c.limit(); limit != nil {
			err = fmt.Errorf("stopped while measuring %s records: %w", countText(float64(res.Records)), limit)
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			res.Stopped = err.Error()
		}
	}
	return nil
}

// inTurn is the cells in round's order: as given, or reversed.
func inTurn(cells []*cell, round int) []*cell {
	out := slices.Clone(cells)
	if round%2 == 1 {
		slices.Reverse(out)
	}
	return out
}

// share is round's part [lo, hi) of n split into rounds.
func share(n, rounds, round int) (lo, hi int) { return n * round / rounds, n * (round + 1) / rounds }

// sweepAndWeigh sweeps a measured store and reads its footprint.
func sweepAndWeigh(ctx context.Context, o Options, t target, d dataset, res *Result) error {
	var err error
	if res.Sweep, err = sweep(ctx, o, t.records(), d, expiredIn(res.Records)); err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "%s, %d records: sweep removed %d in %.1f s\n", res.Store, res.Records, res.Sweep.Removed, res.Sweep.Seconds)
	if res.Footprint, err = t.footprint(ctx); err != nil {
		return fmt.Errorf("reading the footprint: %w", err)
	}
	return nil
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

// claimSerial claims new keys [lo, hi) one after another, for at most
// limit.
func claimSerial(ctx context.Context, rs regions.Records, d dataset, lo, hi int, limit time.Duration) bench.Sample {
	var s bench.Sample
	start := time.Now()
	deadline := start.Add(limit)
	for j := lo; j < hi && time.Now().Before(deadline) && ctx.Err() == nil; j++ {
		took, err := claim(ctx, rs, d.claimKey("claim", j), placements[j%len(placements)])
		note(&s, took, err)
	}
	s.Elapsed = time.Since(start)
	return s
}

// claimSaturated is callers claiming new keys [lo, hi) in a closed loop,
// for at most limit. Claims cut off by the limit are not counted.
func claimSaturated(ctx context.Context, callers int, rs regions.Records, d dataset, lo, hi int, limit time.Duration) bench.Sample {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var next atomic.Int64
	next.Store(int64(lo))
	samples := make([]bench.Sample, callers)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range samples {
		wg.Go(func() {
			for {
				j := int(next.Add(1)) - 1
				if j >= hi || ctx.Err() != nil {
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
	return all
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
