package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// CeilingResult is what the ceiling measurement saw.
type CeilingResult struct {
	Settings CeilingSettings `json:"settings"`
	Modes    []CeilingMode   `json:"modes"`
	Goals    []Goal          `json:"goals"`
	Notes    []string        `json:"notes,omitempty"`
}

// CeilingSettings are the load's settings.
type CeilingSettings struct {
	Rates        []float64 `json:"rates"`
	PhaseSeconds float64   `json:"phase_seconds"`
	StepSeconds  float64   `json:"step_seconds"`
	Ladder       []int     `json:"ladder"`
	Rounds       int       `json:"rounds"`
	MaxInFlight  int       `json:"max_in_flight"`
	Workload     string    `json:"workload"`
}

// CeilingMode is one process measured, round by round, and its summary
// over the rounds (medians; the largest RSS).
type CeilingMode struct {
	Mode   string         `json:"mode"`
	Rounds []CeilingRound `json:"rounds"`

	// CeilingRPS is the most starts/s of the ladder, with the CPU the
	// process had there and how long it waited for more; PerCoreRPS the
	// starts per second of the process's CPU time over the saturated
	// steps (CeilingRound.saturatedSteps: what one whole core would
	// carry), SaturationCPUUs its inverse.
	CeilingRPS       float64         `json:"ceiling_rps"`
	CeilingCores     float64         `json:"ceiling_cores"` // CPU the process had at saturation
	CeilingRunWait   float64         `json:"ceiling_run_wait"`
	PerCoreRPS       float64         `json:"per_core_rps"`
	SaturationCPUUs  float64         `json:"saturation_cpu_us_per_start"`
	SaturationAllocs float64         `json:"saturation_allocs_per_start"`
	AtRates          []CeilingAtRate `json:"at_rates"`
	Half             CeilingAtRate   `json:"half"`
	SaturationRSSMB  float64         `json:"saturation_rss_max_mb"` // the largest sample of the saturated steps
	HWMMB            float64         `json:"rss_peak_mb"`           // VmHWM over each process's life
}

// CeilingAtRate summarises the open-loop phases at one rate.
type CeilingAtRate struct {
	Rate           float64 `json:"rate"`
	RPS            float64 `json:"rps"`
	CPUUsPerStart  float64 `json:"cpu_us_per_start"`
	AllocsPerStart float64 `json:"allocs_per_start"`
	BytesPerStart  float64 `json:"alloc_bytes_per_start"`
	RSSMaxMB       float64 `json:"rss_max_mb"`
	RSSAnonMaxMB   float64 `json:"rss_anon_max_mb"` // of it, heap and stacks
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	AddedP50Ms     float64 `json:"added_p50_ms"`
	AddedP99Ms     float64 `json:"added_p99_ms"`
	RunWait        float64 `json:"run_wait"` // see CeilingPhase
	Errors         int     `json:"errors"`
	Skipped        int     `json:"skipped"`
	// KeptUp of Rounds phases held the rate; the figures are theirs, or
	// every phase's when none did.
	KeptUp int `json:"kept_up"`
	Rounds int `json:"rounds"`
}

// CeilingRound is one fresh process's run.
type CeilingRound struct {
	Round      int            `json:"round"`
	GOMAXPROCS int            `json:"gomaxprocs"`
	Rates      []CeilingPhase `json:"rates"`
	Ladder     []CeilingPhase `json:"ladder"`
	Saturation int            `json:"saturation"` // the ladder step with the most starts/s
	Half       *CeilingPhase  `json:"half"`
	HWMMB      float64        `json:"rss_peak_mb"`
}

// CeilingPhase is one phase: an open-loop rate or a step of the ladder.
type CeilingPhase struct {
	Phase       string  `json:"phase"`
	Rate        float64 `json:"rate,omitempty"`        // asked, open loop
	Concurrency int     `json:"concurrency,omitempty"` // closed loop
	Starts      int     `json:"starts"`                // successful
	Errors      int     `json:"errors"`
	Skipped     int     `json:"skipped,omitempty"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	// The measured process: CPU time (/proc/<pid>/stat), the cores it
	// used, per start; its runtime's allocations per start; RSS sampled
	// every 100 ms (/proc/<pid>/status).
	CPUSeconds     float64 `json:"cpu_seconds"`
	Cores          float64 `json:"cores"`
	CPUUsPerStart  float64 `json:"cpu_us_per_start"`
	AllocsPerStart float64 `json:"allocs_per_start"`
	BytesPerStart  float64 `json:"alloc_bytes_per_start"`
	GCs            uint64  `json:"gcs"`
	RSSMaxMB       float64 `json:"rss_max_mb"`
	RSSAnonMaxMB   float64 `json:"rss_anon_max_mb"`
	RSSEndMB       float64 `json:"rss_end_mb"`
	// Client-side latency, and added: latency minus the stub's own time.
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	AddedP50Ms float64 `json:"added_p50_ms"`
	AddedP99Ms float64 `json:"added_p99_ms"`
	// LateP99Ms is how late the open loop's starts left (the generator's
	// own lag); GenCores the CPU the generator and stubs used; the busy
	// shares how busy the measured process's CPU and theirs were with
	// every process on the machine (0 when not pinned).
	LateP99Ms float64 `json:"late_p99_ms,omitempty"`
	// RunWait is how long the process's threads waited, runnable, for a
	// CPU, per second (/proc/<pid>/task/*/schedstat): CPU contention.
	RunWait      float64 `json:"run_wait"`
	GenCores     float64 `json:"generator_cores"`
	ChildCPUBusy float64 `json:"process_cpu_busy,omitempty"`
	GenCPUBusy   float64 `json:"generator_cpu_busy,omitempty"`

	// Every start's latency and added latency, for percentiles over the
	// rounds (not in the JSON).
	latencies, added []time.Duration
}

func (r *CeilingResult) mode(name string) *CeilingMode {
	for i := range r.Modes {
		if r.Modes[i].Mode == name {
			return &r.Modes[i]
		}
	}
	return nil
}

// finish summarises every mode over its rounds and judges the goals.
func (r *CeilingResult) finish() {
	for i := range r.Modes {
		r.Modes[i].summarize(r.Settings.Rates)
	}
	r.Goals = r.goals()
}

func (m *CeilingMode) summarize(rates []float64) {
	m.SaturationRSSMB = 0
	var ceil, cores, wait, perCore, cpuUs, allocs, hwm []float64
	for _, rd := range m.Rounds {
		if len(rd.Ladder) == 0 {
			continue
		}
		s := rd.Ladder[rd.Saturation]
		ceil, cores, wait = append(ceil, s.RPS), append(cores, s.Cores), append(wait, s.RunWait)
		if pc := perCoreRPS(rd); pc > 0 {
			perCore, cpuUs = append(perCore, pc), append(cpuUs, 1e6/pc)
		}
		allocs = append(allocs, saturatedAllocs(rd))
		hwm = append(hwm, rd.HWMMB)
		for _, p := range rd.saturatedSteps() {
			m.SaturationRSSMB = max(m.SaturationRSSMB, p.RSSMaxMB)
		}
	}
	m.CeilingRPS, m.CeilingCores, m.CeilingRunWait, m.PerCoreRPS = median(ceil), median(cores), median(wait), median(perCore)
	m.SaturationCPUUs, m.SaturationAllocs = median(cpuUs), median(allocs)
	if len(hwm) > 0 {
		m.HWMMB = slices.Max(hwm)
	}
	m.AtRates = nil
	for i, rate := range rates {
		var ps []CeilingPhase
		for _, rd := range m.Rounds {
			if i < len(rd.Rates) {
				ps = append(ps, rd.Rates[i])
			}
		}
		a := atRate(ps)
		a.Rate = rate
		m.AtRates = append(m.AtRates, a)
	}
	var halves []CeilingPhase
	for _, rd := range m.Rounds {
		if rd.Half != nil {
			halves = append(halves, *rd.Half)
		}
	}
	m.Half = atRate(halves)
}

// keptUp says whether an open-loop phase held its rate: it answered at
// least 95% of it, skipped and failed none. A phase that fell behind
// measured an overload, not the rate it was asked for.
func (p CeilingPhase) keptUp() bool {
	return p.Rate > 0 && p.Skipped == 0 && p.Errors == 0 && p.RPS >= 0.95*p.Rate
}

// atRate summarises the phases at one rate over those that kept up with
// it (all of them when none did): medians of the per-phase figures, the
// largest RSS, latency percentiles over every start together.
func atRate(ps []CeilingPhase) CeilingAtRate {
	a := CeilingAtRate{Rounds: len(ps)}
	use := slices.DeleteFunc(slices.Clone(ps), func(p CeilingPhase) bool { return !p.keptUp() })
	if a.KeptUp = len(use); a.KeptUp == 0 {
		use = ps
	}
	if len(use) == 0 {
		return a
	}
	col := func(f func(CeilingPhase) float64) float64 {
		vs := make([]float64, len(use))
		for i, p := range use {
			vs[i] = f(p)
		}
		return median(vs)
	}
	a.Rate = col(func(p CeilingPhase) float64 { return p.Rate })
	a.RPS = col(func(p CeilingPhase) float64 { return p.RPS })
	a.CPUUsPerStart = col(func(p CeilingPhase) float64 { return p.CPUUsPerStart })
	a.AllocsPerStart = col(func(p CeilingPhase) float64 { return p.AllocsPerStart })
	a.BytesPerStart = col(func(p CeilingPhase) float64 { return p.BytesPerStart })
	a.RunWait = col(func(p CeilingPhase) float64 { return p.RunWait })
	var lat, added []time.Duration
	for _, p := range use {
		a.RSSMaxMB, a.RSSAnonMaxMB = max(a.RSSMaxMB, p.RSSMaxMB), max(a.RSSAnonMaxMB, p.RSSAnonMaxMB)
		a.Errors += p.Errors
		a.Skipped += p.Skipped
		lat, added = append(lat, p.latencies...), append(added, p.added...)
	}
	slices.Sort(lat)
	slices.Sort(added)
	a.P50Ms, a.P99Ms = ms(Percentile(lat, 50)), ms(Percentile(lat, 99))
	a.AddedP50Ms, a.AddedP99Ms = ms(Percentile(added, 50)), ms(Percentile(added, 99))
	return a
}

// gomaxprocs says what GOMAXPROCS the measured processes ran with.
func (r *CeilingResult) gomaxprocs() string {
	seen := map[int]bool{}
	var ns []int
	for _, m := range r.Modes {
		for _, rd := range m.Rounds {
			if !seen[rd.GOMAXPROCS] {
				seen[rd.GOMAXPROCS] = true
				ns = append(ns, rd.GOMAXPROCS)
			}
		}
	}
	slices.Sort(ns)
	return "GOMAXPROCS of the measured processes: " + strings.Trim(fmt.Sprint(ns), "[]")
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return round3(s[n/2])
	}
	return round3((s[n/2-1] + s[n/2]) / 2)
}

// CeilingGoalRate is the rate issue #20's RSS and CPU goals are set at.
const CeilingGoalRate = 1000

// goals are issue #20's, judged on the gateway with records in memory.
// A goal at a rate no round kept up with is not judged: its figures are
// an overload's.
func (r *CeilingResult) goals() []Goal {
	var gs []Goal
	add := func(what, target string, measured, met bool, text string) {
		g := Goal{What: what, Target: target, Measured: text}
		if measured {
			g.Met = &met
		}
		gs = append(gs, g)
	}
	gw, floor := r.mode(ModeGatewayMemory), r.mode(ModeHTTPFloor)
	if gw == nil {
		gw = &CeilingMode{} // not measured: every figure is zero
	}
	if floor == nil {
		floor = &CeilingMode{}
	}
	text := "not measured"
	both := gw.PerCoreRPS > 0 && floor.PerCoreRPS > 0
	ratio := 0.0
	if both {
		ratio = round3(gw.PerCoreRPS / floor.PerCoreRPS)
		text = fmt.Sprintf("%.3f (%.0f / %.0f starts per CPU-second; wall-clock ceilings %.0f / %.0f starts/s)",
			ratio, gw.PerCoreRPS, floor.PerCoreRPS, gw.CeilingRPS, floor.CeilingRPS)
	}
	add("ceiling: gateway starts/s per core / http-floor's", ">= 0.8", both, ratio >= 0.8, text)

	at, ok := gw.atRate(CeilingGoalRate)
	text = "not measured"
	if ok {
		text = fmt.Sprintf("%.0f µs (%.0f at saturation)", at.CPUUsPerStart, gw.SaturationCPUUs)
	}
	add(fmt.Sprintf("ceiling: gateway CPU per start at %d starts/s", CeilingGoalRate), "<= 100 µs", ok, at.CPUUsPerStart <= 100, text)

	text = "not measured"
	switch {
	case ok && at.KeptUp > 0:
		text = fmt.Sprintf("%.1f MB (largest sample of the %d of %d rounds that kept up; %.1f MB of it anonymous)",
			at.RSSMaxMB, at.KeptUp, at.Rounds, at.RSSAnonMaxMB)
	case ok:
		text = fellBehind(at, fmt.Sprintf("RSS %.1f MB", at.RSSMaxMB))
	}
	add(fmt.Sprintf("ceiling: gateway RSS at %d starts/s", CeilingGoalRate), "<= 64 MB", at.KeptUp > 0, at.RSSMaxMB <= 64, text)

	h := gw.Half
	text = "not measured"
	switch {
	case h.KeptUp > 0:
		text = fmt.Sprintf("%.2f ms at %.0f starts/s (%d of %d rounds kept up)", h.AddedP99Ms, h.Rate, h.KeptUp, h.Rounds)
	case h.Rounds > 0:
		text = fellBehind(h, fmt.Sprintf("p99 added %.2f ms", h.AddedP99Ms))
	}
	add("ceiling: gateway p99 added at half the ceiling, records in memory", "<= 1 ms", h.KeptUp > 0, h.AddedP99Ms <= 1, text)
	return gs
}

// fellBehind says why a rate no round held is not judged.
func fellBehind(a CeilingAtRate, what string) string {
	return fmt.Sprintf("not measured: no round kept up with %.0f starts/s (of %d: answered %.0f/s, %.2f threads waiting for a CPU); %s while falling behind",
		a.Rate, a.Rounds, a.RPS, a.RunWait, what)
}

// atRate is the summary at rate, if it was measured.
func (m *CeilingMode) atRate(rate float64) (CeilingAtRate, bool) {
	for _, a := range m.AtRates {
		if a.Rate == rate {
			return a, true
		}
	}
	return CeilingAtRate{}, false
}
