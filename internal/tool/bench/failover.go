package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FailoverOptions measure what clients see when a region dies under
// steady load: Kill it, keep it down for Outage, Restart it, and watch
// where the paced starts land. Zero values take the defaults below.
type FailoverOptions struct {
	Rate        float64       // paced starts per second; default 50
	Steady      time.Duration // load before the kill; default 3s
	Outage      time.Duration // from the kill until the restart begins; default 8s
	After       time.Duration // load after recovery; default 2s
	Timeout     time.Duration // bound on waiting for recovery; default 60s
	MaxInFlight int           // starts in flight at most; default 256
	// Home is the region the starts go to while it is up; Fallback the
	// one they should fail over to.
	Home, Fallback string
	// Start sends one start (through the gateway) and says where it went.
	Start func(ctx context.Context, id string) (Started, error)
	// Kill ends the home region's server (kill -9) and returns once its
	// process is gone; Restart starts it again and returns once it
	// answers.
	Kill    func()
	Restart func(ctx context.Context) error
	// Progress, when set, gets a line a second.
	Progress io.Writer
	// Trace, when set, gets every attempt as a CSV line, for analysis.
	Trace    io.Writer
	IDPrefix string
}

func (o FailoverOptions) withDefaults() FailoverOptions {
	if o.Rate <= 0 {
		o.Rate = 50
	}
	if o.Steady <= 0 {
		o.Steady = 3 * time.Second
	}
	if o.Outage <= 0 {
		o.Outage = 8 * time.Second
	}
	if o.After <= 0 {
		o.After = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 256
	}
	return o
}

// attempt is one paced start.
type attempt struct {
	sent, done time.Time
	status     int    // HTTP status; 0 when none came back
	region     string // where it started, for a 2xx
	err        string
}

func (a attempt) ok() bool { return a.status/100 == 2 }

// Failover runs the experiment and reports its timings.
func Failover(ctx context.Context, o FailoverOptions) (FailoverResult, error) {
	o = o.withDefaults()
	p := &pacer{o: o}
	pctx, stopPacing := context.WithCancel(ctx)
	defer stopPacing()
	paced := make(chan struct{}) // closed when run has sent its last start
	go func() { defer close(paced); p.run(pctx, ctx) }()
	defer p.report()()

	if err := Sleep(ctx, o.Steady); err != nil {
		return FailoverResult{}, err
	}
	if !p.seen(time.Time{}, o.Home) {
		return FailoverResult{}, fmt.Errorf("no start reached %s before the kill: %s", o.Home, p.firstError())
	}
	var m marks
	m.kill = time.Now()
	o.Kill()
	m.dead = time.Now()
	p.note(fmt.Sprintf("killed %s (kill -9); its process was gone after %.2fs", o.Home, m.dead.Sub(m.kill).Seconds()))
	if err := Sleep(ctx, time.Until(m.kill.Add(o.Outage))); err != nil {
		return FailoverResult{}, err
	}
	m.restart = time.Now()
	p.note(fmt.Sprintf("restarting %s", o.Home))
	if err := o.Restart(ctx); err != nil {
		return FailoverResult{}, fmt.Errorf("restarting %s: %w", o.Home, err)
	}
	m.ready = time.Now()
	p.note(fmt.Sprintf("%s answers again after %.1fs", o.Home, m.ready.Sub(m.restart).Seconds()))
	deadline := m.ready.Add(o.Timeout)
	for !p.seen(m.ready, o.Home) && time.Now().Before(deadline) {
		if err := Sleep(ctx, 20*time.Millisecond); err != nil { // polling interval
			return FailoverResult{}, err
		}
	}
	if err := Sleep(ctx, o.After); err != nil {
		return FailoverResult{}, err
	}
	stopPacing()
	<-paced // no start is added once Wait begins
	p.inflight.Wait()
	atts := p.attempts()
	r := analyze(atts, m, o.Home, o.Fallback)
	r.Rate, r.Skipped = o.Rate, int(p.skipped.Load())
	if o.Trace != nil {
		writeTrace(o.Trace, atts, m)
	}
	return r, nil
}

// marks are the moments of the experiment: SIGKILL sent, the process
// gone, the restart begun, the restarted server answering.
type marks struct{ kill, dead, restart, ready time.Time }

// pacer sends starts at a fixed rate (open loop: a slow answer does not
// slow the sending) and keeps every attempt.
type pacer struct {
	o        FailoverOptions
	mu       sync.Mutex
	atts     []attempt
	inflight sync.WaitGroup
	skipped  atomic.Int64
}

// run paces until pctx ends; requests run under rctx, so the ones in
// flight when pacing stops still finish.
func (p *pacer) run(pctx, rctx context.Context) {
	t := time.NewTicker(time.Duration(float64(time.Second) / p.o.Rate))
	defer t.Stop()
	sem := make(chan struct{}, p.o.MaxInFlight)
	for seq := 1; ; seq++ {
		select {
		case <-pctx.Done():
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			p.skipped.Add(1) // bounded: never more than MaxInFlight at once
			continue
		}
		id := p.o.IDPrefix + "-failover-" + strconv.Itoa(seq)
		p.inflight.Go(func() {
			defer func() { <-sem }()
			a := attempt{sent: time.Now()}
			st, err := p.o.Start(rctx, id)
			a.done, a.status, a.region = time.Now(), st.Status, st.Region
			if err != nil {
				a.err = err.Error()
				var se *StatusError
				if errors.As(err, &se) {
					a.status, a.err = se.Status, se.Summary()
				}
				a.err = strings.ReplaceAll(a.err, id, "<id>")
			}
			p.mu.Lock()
			p.atts = append(p.atts, a)
			p.mu.Unlock()
		})
	}
}

func (p *pacer) attempts() []attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.atts)
}

// seen reports whether a start sent at or after since succeeded in region.
func (p *pacer) seen(since time.Time, region string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.atts {
		if a.ok() && a.region == region && !a.sent.Before(since) {
			return true
		}
	}
	return false
}

func (p *pacer) firstError() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.atts {
		if a.err != "" {
			return a.err
		}
	}
	return "no start finished"
}

func (p *pacer) note(s string) {
	if p.o.Progress != nil {
		fmt.Fprintf(p.o.Progress, "  failover: %s\n", s)
	}
}

// report prints where the last second's starts went, every second, until
// stop is called.
func (p *pacer) report() (stop func()) {
	if p.o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		seen := 0
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			atts := p.attempts()
			where, failed := map[string]int{}, 0
			for _, a := range atts[seen:] {
				if a.ok() {
					where[a.region]++
				} else {
					failed++
				}
			}
			seen = len(atts)
			fmt.Fprintf(p.o.Progress, "  failover: last second %s %d, %s %d, errors %d\n",
				p.o.Home, where[p.o.Home], p.o.Fallback, where[p.o.Fallback], failed)
		}
	})
	return func() { close(done); wg.Wait() }
}

// Sleep waits d, or until ctx ends, which it then reports.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
