// Package recordsbench measures the routing-records stores at volume: claims, size, memory and the retention sweep with millions of records already stored.
package recordsbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
	"github.com/regiongate/regiongate/regions"
)

// The stores measured.
const (
	StoreBolt     = "bolt"
	StoreConsul   = "consul"
	StorePostgres = "postgres"
)

// Stores are the stores measured when Options.Stores is empty, in order.
var Stores = []string{StoreBolt, StorePostgres, StoreConsul}

// Options tune Run. A zero value takes the default named beside it.
type Options struct {
	Stores []string // of Stores; empty: all of them
	Sizes  []int    // records in a store before it is measured; empty: 0, 1e6, 1e7
	// Claims is how many claims one caller makes, one after another, for
	// the latency percentiles (5,000).
	Claims int
	// Concurrency is how many callers claim at once for the throughput at
	// saturation (64), until SaturationClaims (20,000) or SaturationTime
	// (15s), whichever comes first.
	Concurrency      int
	SaturationClaims int
	SaturationTime   time.Duration
	// SweepBatch is the batch of each RemoveExpired call, as the config's
	// records.sweepBatch (500, its default).
	SweepBatch int
	// FillTimeout stops a fill that takes longer (20m); SweepTimeout the
	// measured sweep (5m); PhaseTimeout each phase of claims (2m).
	FillTimeout, SweepTimeout, PhaseTimeout time.Duration
	// MaxServerRSS stops a store's measurement, in whichever phase, when
	// its server's resident memory passes it (8 GiB): the machine's, and
	// other work's, safety.
	MaxServerRSS uint64
	// Dir holds the bbolt files and the servers' data; empty: a temporary
	// directory, removed afterwards.
	Dir string
	// Progress hears what is going on; nil: nothing is said.
	Progress io.Writer
}

func (o Options) withDefaults() Options {
	if len(o.Stores) == 0 {
		o.Stores = Stores
	}
	if len(o.Sizes) == 0 {
		o.Sizes = []int{0, 1_000_000, 10_000_000}
	}
	o.Claims = cmpOr(o.Claims, 5000)
	o.Concurrency = cmpOr(o.Concurrency, 64)
	o.SaturationClaims = cmpOr(o.SaturationClaims, 20_000)
	o.SaturationTime = cmpOr(o.SaturationTime, 15*time.Second)
	o.SweepBatch = cmpOr(o.SweepBatch, 500)
	o.FillTimeout = cmpOr(o.FillTimeout, 20*time.Minute)
	o.SweepTimeout = cmpOr(o.SweepTimeout, 5*time.Minute)
	o.PhaseTimeout = cmpOr(o.PhaseTimeout, 2*time.Minute)
	o.MaxServerRSS = cmpOr(o.MaxServerRSS, 8<<30)
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

func cmpOr[T int | time.Duration | uint64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Validate reports options Run cannot use.
func (o Options) Validate() error {
	for _, s := range o.Stores {
		if !slices.Contains(Stores, s) {
			return fmt.Errorf("unknown store %q: want one of %v", s, Stores)
		}
	}
	for _, n := range o.Sizes {
		if n < 0 {
			return fmt.Errorf("size %d: want 0 or more records", n)
		}
	}
	return nil
}

// target is one store at one size, on a server or file of its own.
type target interface {
	records() regions.Records
	// fill writes records [0, n) of d in bulk, bypassing Claim, in the
	// store's own format. It returns how many it wrote when it stops early.
	fill(ctx context.Context, d dataset, n int) (int, error)
	// footprint is the store's size on disk, and in memory with what that
	// figure is.
	footprint(ctx context.Context) (Footprint, error)
	// serverPid is the server process whose memory may stop the
	// measurement; 0: none.
	serverPid() int
	close()
}

// Footprint is a store's size after the measurements, in bytes.
type Footprint struct {
	Disk int64 `json:"disk"`
	// Memory is the store's resident memory (what it is differs by store:
	// Report.Markdown says); PeakMemory a server's peak, when known.
	Memory     int64 `json:"memory"`
	PeakMemory int64 `json:"peak_memory,omitempty"`
	// Snapshot is a Consul snapshot's size (what a backup holds); 0 elsewhere.
	Snapshot int64 `json:"snapshot,omitempty"`
}

// open starts store's server (or creates its file) under dir, empty.
func open(ctx context.Context, store, dir string) (target, error) {
	switch store {
	case StoreBolt:
		return openBolt(dir)
	case StorePostgres:
		return openPostgres(ctx)
	case StoreConsul:
		return openConsul(ctx, dir)
	}
	return nil, fmt.Errorf("unknown store %q", store)
}

// Run measures every store at every size, each size on a fresh server or
// file, and returns what it measured. A store that stops short (a fill
// too slow, a server too big) is not measured at larger sizes; the report
// says why. An error is returned only for what stops the whole run.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "regiongate-recordsbench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	r := newReport(o)
	d := dataset{keys: regions.RandomRecordKeys(), now: time.Now().Unix()}
	for _, store := range o.Stores {
		var last *Result
		for _, size := range o.Sizes {
			res := Result{Store: store, Size: size}
			if why := skipReason(o, last, size); why != "" {
				res.Stopped = why
			} else if err := measureCell(ctx, o, d, cellDir(dir, store, size), &res); err != nil {
				if ctx.Err() != nil {
					return r, err
				}
				res.Stopped = err.Error()
			}
			fmt.Fprintf(o.Progress, "%s\n", res.line())
			r.Results = append(r.Results, res)
			last = &r.Results[len(r.Results)-1]
		}
	}
	r.finish()
	return r, nil
}

func cellDir(dir, store string, size int) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%d", store, size))
}

// skipReason says why size is not measured, given the store's last
// result: it stopped, or its fill rate says this size's fill would pass
// the fill timeout. (Memory is not predicted: a server past the limit is
// stopped where it gets to, which says where it stops.)
func skipReason(o Options, last *Result, size int) string {
	switch {
	case last == nil:
		return ""
	case last.Stopped != "":
		return fmt.Sprintf("not measured: %s records already stopped", countText(float64(last.Size)))
	case last.Records == 0 || last.FillPerSecond == 0:
		return ""
	}
	if eta := time.Duration(float64(size) / last.FillPerSecond * float64(time.Second)); eta > o.FillTimeout {
		return fmt.Sprintf("not measured: filling at %s records/s (as %s records did) would take about %s, over the %s limit",
			countText(last.FillPerSecond), countText(float64(last.Records)), eta.Round(time.Minute), o.FillTimeout)
	}
	return ""
}

// errStopped marks a stop at a limit rather than a failure.
var errStopped = errors.New("stopped")

// limitErr is a stop at a limit (errors.Is errStopped), saying which.
type limitErr struct{ why string }

func (e *limitErr) Error() string        { return e.why }
func (e *limitErr) Is(target error) bool { return target == errStopped }

func atLimit(format string, args ...any) error { return &limitErr{fmt.Sprintf(format, args...)} }

// measureCell opens store, fills it to res.Size and measures it. A
// server whose memory passes the limit stops the cell in whichever phase
// it is.
func measureCell(ctx context.Context, o Options, d dataset, dir string, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(o.Progress, "%s, %d records: starting\n", res.Store, res.Size)
	t, err := open(ctx, res.Store, dir)
	if err != nil {
		return fmt.Errorf("starting %s: %w", res.Store, err)
	}
	defer t.close()
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if pid := t.serverPid(); pid != 0 {
		go watchRSS(cctx, pid, o.MaxServerRSS, cancel)
	}
	if err := fillTo(cctx, o, t, d, res); err != nil {
		return err
	}
	err = measure(cctx, o, t, d, res)
	if cause := context.Cause(cctx); err != nil && cause != nil && ctx.Err() == nil {
		return fmt.Errorf("stopped while measuring %s records: %w", countText(float64(res.Records)), cause)
	}
	return err
}

// fillTo fills t to res.Size within the fill timeout, and counts what the
// store holds then.
func fillTo(ctx context.Context, o Options, t target, d dataset, res *Result) error {
	fctx, cancel := context.WithTimeoutCause(ctx, o.FillTimeout,
		atLimit("the fill took over %s", o.FillTimeout))
	defer cancel()
	start := time.Now()
	n, err := t.fill(fctx, d, res.Size)
	res.FillSeconds = round3(time.Since(start).Seconds())
	if res.FillSeconds > 0 {
		res.FillPerSecond = round3(float64(n) / res.FillSeconds)
	}
	if err != nil {
		if cause := context.Cause(fctx); errors.Is(cause, errStopped) {
			err = cause // the limit, not the cancelled call it caused
		}
		return fmt.Errorf("fill stopped at %s of %s records after %.0f s: %w", countText(float64(n)), countText(float64(res.Size)), res.FillSeconds, err)
	}
	fmt.Fprintf(o.Progress, "%s: filled %d records in %.1f s\n", res.Store, n, res.FillSeconds)
	if pid := t.serverPid(); pid != 0 {
		if m, err := bench.ReadProcMemory(pid); err == nil {
			res.FilledRSS = int64(m.RSS)
		}
	}
	count, err := t.records().Count(ctx)
	if err != nil {
		return fmt.Errorf("counting: %w", err)
	}
	res.Records = count
	if count != res.Size {
		return fmt.Errorf("the store holds %d records after a fill of %d", count, res.Size)
	}
	return nil
}

// watchRSS cancels once pid's resident memory passes limit.
func watchRSS(ctx context.Context, pid int, limit uint64, cancel context.CancelCauseFunc) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if m, err := bench.ReadProcMemory(pid); err == nil && m.RSS > limit {
			cancel(atLimit("the server's RSS reached %s, over the %s limit", bytesText(int64(m.RSS)), bytesText(int64(limit))))
			return
		}
	}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
