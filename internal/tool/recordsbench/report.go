package recordsbench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

// Report is what Run measured.
type Report struct {
	Date    string        `json:"date"`
	Machine bench.Machine `json:"machine"`
	// LoadAverage is the one-minute load average at the start and the end:
	// how busy the machine was with other work too.
	LoadAverage [2]float64 `json:"load_average"`
	// Command is the command line that ran it (set by the caller).
	Command  string   `json:"command,omitempty"`
	Settings Settings `json:"settings"`
	Results  []Result `json:"results"`
	Goals    []Goal   `json:"goals"`
}

// Settings are the options the numbers were measured with.
type Settings struct {
	Claims            int     `json:"claims"`
	Rounds            int     `json:"rounds"`
	Concurrency       int     `json:"concurrency"`
	SaturationClaims  int     `json:"saturation_claims"`
	SaturationSeconds float64 `json:"saturation_seconds"`
	SweepBatch        int     `json:"sweep_batch"`
	SweepTimeoutSec   float64 `json:"sweep_timeout_seconds"`
	FillTimeoutSec    float64 `json:"fill_timeout_seconds"`
	MaxServerRSS      int64   `json:"max_server_rss"`
}

// Result is one store at one size.
type Result struct {
	Store string `json:"store"`
	Size  int    `json:"size"` // records asked for
	// Records is what the store counted after the fill.
	Records       int     `json:"records"`
	FillSeconds   float64 `json:"fill_seconds"`
	FillPerSecond float64 `json:"fill_per_second"`
	// FilledRSS is a server's resident memory right after the fill.
	FilledRSS int64         `json:"filled_rss,omitempty"`
	Claim     bench.Summary `json:"claim"`     // one caller
	Saturated bench.Summary `json:"saturated"` // Settings.Concurrency callers
	Sweep     SweepResult   `json:"sweep"`
	Footprint Footprint     `json:"footprint"`
	// Stopped says why this size was not measured, or not to the end.
	Stopped string `json:"stopped,omitempty"`
}

// Goal is issue #20's: claim p99 within 2x from an empty store to 10
// million records.
type Goal struct {
	Store      string  `json:"store"`
	EmptyP99Ms float64 `json:"empty_p99_ms"`
	FullP99Ms  float64 `json:"full_p99_ms"`
	Ratio      float64 `json:"ratio"`
	// Met is nil when either size was not measured.
	Met *bool `json:"met"`
}

const goalSize = 10_000_000

func newReport(o Options) *Report {
	return &Report{
		Date:        time.Now().UTC().Format("2006-01-02"),
		Machine:     bench.ThisMachine(),
		LoadAverage: [2]float64{bench.LoadAverage()},
		Settings: Settings{Claims: o.Claims, Rounds: o.Rounds, Concurrency: o.Concurrency, SaturationClaims: o.SaturationClaims,
			SaturationSeconds: o.SaturationTime.Seconds(), SweepBatch: o.SweepBatch,
			SweepTimeoutSec: o.SweepTimeout.Seconds(), FillTimeoutSec: o.FillTimeout.Seconds(), MaxServerRSS: int64(o.MaxServerRSS)},
	}
}

// finish reads the load at the end and judges the goals.
func (r *Report) finish() {
	r.LoadAverage[1] = bench.LoadAverage()
	for _, store := range []string{StoreBolt, StorePostgres} {
		empty, full := r.result(store, 0), r.result(store, goalSize)
		if empty == nil && full == nil {
			continue
		}
		g := Goal{Store: store}
		if empty != nil && full != nil && empty.measured() && full.measured() {
			g.EmptyP99Ms, g.FullP99Ms = empty.Claim.P99Ms, full.Claim.P99Ms
			g.Ratio = round3(g.FullP99Ms / g.EmptyP99Ms)
			met := g.Ratio <= 2
			g.Met = &met
		}
		r.Goals = append(r.Goals, g)
	}
}

func (r *Report) result(store string, size int) *Result {
	for i := range r.Results {
		if res := &r.Results[i]; res.Store == store && res.Size == size {
			return res
		}
	}
	return nil
}

func (res *Result) measured() bool { return res.Stopped == "" && res.Claim.Requests > 0 }

// line is a one-line summary, for progress.
func (res *Result) line() string {
	if !res.measured() {
		return fmt.Sprintf("%s, %d records: %s", res.Store, res.Size, res.Stopped)
	}
	return fmt.Sprintf("%s, %d records: claim p50 %.2f ms p99 %.2f ms, %.0f claims/s, disk %s, memory %s, sweep %s",
		res.Store, res.Records, res.Claim.P50Ms, res.Claim.P99Ms, res.Saturated.RPS,
		bytesText(res.Footprint.Disk), bytesText(res.Footprint.Memory), res.sweepText())
}

// WriteText prints the results as a table.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "store\trecords\tfill\tclaim p50 ms\tclaim p99 ms\tclaims/s (%d callers)\tp99 ms at saturation\ton disk\tmemory\tidle sweep pass\tsweep of the expired 1%%\n", r.Settings.Concurrency)
	for _, res := range r.Results {
		if !res.measured() {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", res.Store, res.Size, res.Stopped)
			continue
		}
		c := res.cells()
		fmt.Fprintf(tw, "%s\n", strings.Join(c[:], "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, g := range r.Goals {
		fmt.Fprintf(w, "goal, %s: %s\n", g.Store, g.text())
	}
	return nil
}

// cells are a measured result's columns, as both tables show them.
func (res *Result) cells() [11]string {
	s := res.Saturated
	return [11]string{
		res.Store, fmt.Sprintf("%d", res.Records),
		fmt.Sprintf("%.1f s (%s/s)", res.FillSeconds, countText(res.FillPerSecond)),
		fmt.Sprintf("%.2f", res.Claim.P50Ms), fmt.Sprintf("%.2f", res.Claim.P99Ms),
		countText(s.RPS), fmt.Sprintf("%.2f", s.P99Ms),
		res.diskText(), res.memoryText(),
		fmtMs(res.Sweep.IdleMs) + " ms", res.sweepText(),
	}
}

func (res *Result) diskText() string {
	if res.Footprint.Snapshot > 0 {
		return fmt.Sprintf("%s (snapshot %s)", bytesText(res.Footprint.Disk), bytesText(res.Footprint.Snapshot))
	}
	return bytesText(res.Footprint.Disk)
}

func (res *Result) memoryText() string {
	fp := res.Footprint
	switch {
	case fp.PeakMemory > 0 && res.FilledRSS > 0:
		return fmt.Sprintf("%s after the fill, %s at the end (peak %s)", bytesText(res.FilledRSS), bytesText(fp.Memory), bytesText(fp.PeakMemory))
	case fp.PeakMemory > 0:
		return fmt.Sprintf("%s (peak %s)", bytesText(fp.Memory), bytesText(fp.PeakMemory))
	}
	return bytesText(fp.Memory)
}

func (res *Result) sweepText() string {
	sw := res.Sweep
	s := fmt.Sprintf("%s in %.1f s (%s/s, %d calls)", countText(float64(sw.Removed)), sw.Seconds, countText(sw.PerSecond), sw.Calls)
	if sw.Cut != "" {
		s = fmt.Sprintf("cut: %s of %s removed, %s", countText(float64(sw.Removed)), countText(float64(sw.Expired)), s)
	}
	return s
}

func (g Goal) text() string {
	if g.Met == nil {
		return "not measured (needs an empty store and 10,000,000 records)"
	}
	return fmt.Sprintf("p99 %.2f ms empty, %.2f ms at 10,000,000 records: %.2fx, %s", g.EmptyP99Ms, g.FullP99Ms, g.Ratio, map[bool]string{true: "met", false: "not met"}[*g.Met])
}

// bytesText is n in B, KiB, MiB or GiB.
func bytesText(n int64) string {
	f, units := float64(n), []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for ; (f >= 1024 || f <= -1024) && i < len(units)-1; i++ {
		f /= 1024
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// countText is a count with thousands separated by commas.
func countText(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtMs(v float64) string {
	if v >= 100 {
		return countText(v)
	}
	return fmt.Sprintf("%.2f", v)
}
