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
	// Rounds split the claims: each round claims at every size in turn
	// (5).
	Rounds int
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
	// measured sweep (5m); PhaseTimeout the claims of one caller at one
	// size (2m).
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
	o.Rounds = cmpOr(o.Rounds, 5)
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
		results, err := runStore(ctx, o, d, dir, store)
		r.Results = append(r.Results, results...)
		if err != nil {
			return r, err
		}
	}
	r.finish()
	return r, nil
}

// runStore fills one store of every size, each on a server or file of its
// own, then measures them together: the claims in interleaved rounds, so
// whatever else the machine does meanwhile falls on every size alike;
// then each one's sweep and footprint.
func runStore(ctx context.Context, o Options, d dataset, dir, store string) ([]Result, error) {
	results := make([]Result, len(o.Sizes))
	var cells []*cell
	defer func() {
		for _, c := range cells {
			c.close()
		}
	}()
	var last *Result
	for i, size := range o.Sizes {
		res := &results[i]
		*res = Result{Store: store, Size: size}
		if why := skipReason(o, last, size); why != "" {
			res.Stopped = why
		} else if c, err := openCell(ctx, o, d, cellDir(dir, store, size), res); err != nil {
			if ctx.Err() != nil {
				return results, err
			}
			res.Stopped = err.Error()
		} else {
			cells = append(cells, c)
		}
		if res.Stopped != "" {
			fmt.Fprintf(o.Progress, "%s\n", res.line())
		}
		last = res
	}
	if err := measureCells(ctx, o, d, cells); err != nil {
		return results, err
	}
	for _, c := range cells {
		fmt.Fprintf(o.Progress, "%s\n", c.res.line())
	}
	return results, nil
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

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
