package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// serviceTimes pairs each start with the time the stub frontend spent in
// it, so the latency a start adds is the client's latency minus the
// stub's own time (as Overhead does against a real cluster).
type serviceTimes struct {
	mu sync.Mutex
	m  map[string]time.Duration
}

func newServiceTimes() *serviceTimes { return &serviceTimes{m: map[string]time.Duration{}} }

// observe is the stub's ObserveStart.
func (s *serviceTimes) observe(id string, took time.Duration) {
	s.mu.Lock()
	s.m[id] += took // a retried start counts both attempts
	s.mu.Unlock()
}

func (s *serviceTimes) take(id string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	delete(s.m, id)
	return d, ok
}

// reset forgets what no start took (the closed loop's, which only counts).
func (s *serviceTimes) reset() {
	s.mu.Lock()
	s.m = map[string]time.Duration{}
	s.mu.Unlock()
}

// loadSample is what one phase saw at the load generator.
type loadSample struct {
	latencies  []time.Duration // of successful starts, client side
	added      []time.Duration // the same minus the stub's time in each
	late       []time.Duration // open loop: how late each start left against its schedule
	errors     int
	firstError string
	skipped    int // open loop: not sent, MaxInFlight already in flight
	elapsed    time.Duration
}

func (s *loadSample) ok() int { return len(s.latencies) }

// openLoop sends starts at rate for d (open loop: a slow answer does not
// slow the sending), at most maxInFlight at once; a start due while that
// many are in flight is skipped and counted. Starts go out on schedule:
// each is due at began + i/rate, and whatever is due when the sender
// wakes is sent at once, so a late wake-up does not lower the rate.
func openLoop(ctx context.Context, rate float64, d time.Duration, maxInFlight int,
	start func(ctx context.Context, id string) error, id func(seq int) string, st *serviceTimes) loadSample {
	interval := time.Duration(float64(time.Second) / rate)
	total := int(rate * d.Seconds())
	var (
		mu       sync.Mutex
		out      loadSample
		inflight sync.WaitGroup
		sem      = make(chan struct{}, maxInFlight)
		skipped  atomic.Int64
	)
	began := time.Now()
	for seq := 0; seq < total && ctx.Err() == nil; {
		now := time.Now()
		for ; seq < total && !began.Add(time.Duration(seq)*interval).After(now); seq++ {
			select {
			case sem <- struct{}{}:
			default:
				skipped.Add(1)
				continue
			}
			n, due := seq, began.Add(time.Duration(seq)*interval) // seq moves on under the goroutine
			inflight.Go(func() {
				defer func() { <-sem }()
				wid := id(n)
				t0 := time.Now()
				err := start(ctx, wid)
				took := time.Since(t0)
				stub, seen := st.take(wid)
				mu.Lock()
				defer mu.Unlock()
				out.late = append(out.late, t0.Sub(due))
				if err != nil {
					out.errors++
					if out.firstError == "" {
						out.firstError = err.Error()
					}
					return
				}
				out.latencies = append(out.latencies, took)
				if seen {
					out.added = append(out.added, max(took-stub, 0))
				}
			})
		}
		_ = Sleep(ctx, time.Until(began.Add(time.Duration(seq)*interval)))
	}
	inflight.Wait()
	out.elapsed = time.Since(began)
	out.skipped = int(skipped.Load())
	return out
}

// closedLoop runs concurrency workers that each start, wait for the
// answer and start again, for d: the saturation ladder's steps.
func closedLoop(ctx context.Context, concurrency int, d time.Duration, start func(ctx context.Context, id string) error, id func(seq int) string) loadSample {
	s := Run(ctx, Load{Concurrency: concurrency, Duration: d, Warmup: -1, MaxRequests: 1 << 30},
		func(ctx context.Context, seq int64) error { return start(ctx, id(int(seq))) })
	return loadSample{latencies: s.Latencies, errors: s.Errors, firstError: s.FirstError, elapsed: s.Elapsed}
}
