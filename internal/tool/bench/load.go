package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Load is a closed-loop load: Concurrency goroutines each start, wait for
// the answer, and start again, for Warmup (not measured) and then
// Duration, or until MaxRequests measured starts. Zero values take the
// defaults below.
type Load struct {
	Concurrency int           // default 16
	Duration    time.Duration // measured; default 10s
	Warmup      time.Duration // before measuring; default 1s, negative for none
	MaxRequests int           // measured starts at most; default 200,000
	// Progress, when set, gets a line a second.
	Progress io.Writer
	// Label names the run in progress lines.
	Label string
}

// Defaults for zero values in Load.
const (
	DefaultConcurrency = 16
	DefaultDuration    = 10 * time.Second
	DefaultWarmup      = time.Second
	DefaultMaxRequests = 200_000
)

func (l Load) withDefaults() Load {
	if l.Concurrency <= 0 {
		l.Concurrency = DefaultConcurrency
	}
	if l.Duration <= 0 {
		l.Duration = DefaultDuration
	}
	if l.Warmup == 0 {
		l.Warmup = DefaultWarmup // a negative one stays: none, also after a second call
	}
	if l.MaxRequests <= 0 {
		l.MaxRequests = DefaultMaxRequests
	}
	return l
}

// Op is one start; seq is unique within the run.
type Op func(ctx context.Context, seq int64) error

// counters are shared by the workers of one run, for progress lines.
type counters struct {
	seq, issued, ok, failed atomic.Int64
	errOnce                 sync.Once
	firstErr                string
}

// Run drives op under l until its duration or request bound is reached or
// ctx ends, and returns what the measured part saw.
func Run(ctx context.Context, l Load, op Op) Sample {
	l = l.withDefaults()
	var c counters
	began := time.Now()
	warmup := max(l.Warmup, 0)
	from, until := began.Add(warmup), began.Add(warmup+l.Duration)
	per := make([][]time.Duration, l.Concurrency)
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		wg.Go(func() { per[w] = c.work(ctx, op, from, until, int64(l.MaxRequests)) })
	}
	stop := c.report(l, began, from)
	// The runtime's scheduling latencies count from the end of the warm-up.
	_ = Sleep(ctx, time.Until(from))
	sched := readSched()
	wg.Wait()
	elapsed := time.Since(from)
	stop()
	s := Sample{Errors: int(c.failed.Load()), Elapsed: max(elapsed, 0), FirstError: c.firstErr, sched: readSched().since(sched)}
	for _, p := range per {
		s.Latencies = append(s.Latencies, p...)
	}
	return s
}

// work is one worker's loop; it returns the latencies it measured.
func (c *counters) work(ctx context.Context, op Op, from, until time.Time, maxReq int64) []time.Duration {
	var lat []time.Duration
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(until) {
			break
		}
		measured := !t0.Before(from)
		if measured && c.issued.Add(1) > maxReq {
			break
		}
		err := op(ctx, c.seq.Add(1))
		if !measured {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break // interrupted: not the target's error
			}
			c.failed.Add(1)
			c.errOnce.Do(func() { c.firstErr = err.Error() })
			continue
		}
		lat = append(lat, time.Since(t0))
		c.ok.Add(1)
	}
	return lat
}

// report prints a progress line every second until the returned func is
// called.
func (c *counters) report(l Load, began, from time.Time) (stop func()) {
	if l.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				ok := c.ok.Load()
				if now.Before(from) {
					fmt.Fprintf(l.Progress, "  %-22s warming up (%s)\n", l.Label, now.Sub(began).Round(time.Second))
					continue
				}
				fmt.Fprintf(l.Progress, "  %-22s %5s/%s  ok %7d  errors %5d  %7.0f starts/s\n", l.Label,
					now.Sub(from).Round(time.Second), l.Duration, ok, c.failed.Load(), float64(ok-last))
				last = ok
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
