package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ceilingWhat says what each mode of the ceiling runs.
var ceilingWhat = map[string]string{
	ModeGatewayMemory: "`regiongate bench gateway-process`: serve's own code (gatewayd, local stores, JSON access log, tracing on without an exporter, health checks), routing records in memory",
	ModeHTTPFloor:     "`regiongate bench floor-process`: a bare `net/http` handler in front of one SDK client (decode, `ExecuteWorkflow`, encode)",
	ModeGateway:       "as gateway-memory, routing records in bbolt (every claim `fdatasync`ed before the start is sent)",
}

// markdown renders the ceiling as a section of the generated part of
// docs/BENCHMARKS.md.
func (r *CeilingResult) markdown(b *strings.Builder) {
	s := r.Settings
	b.WriteString("\n### ceiling: what the gateway itself carries (stub frontend)\n\n")
	fmt.Fprintf(b, "A stub Temporal frontend (`internal/tool/bench/stubfrontend`: a gRPC server in the bench process, one per region, that answers a start at once and never simulates latency) in place of the cluster, so the measured process is the bottleneck. %s. Each mode is its own process, started fresh for each of %d interleaved rounds:\n\n", s.Workload, s.Rounds)
	for _, m := range r.Modes {
		fmt.Fprintf(b, "- %s: %s\n", m.Mode, ceilingWhat[m.Mode])
	}
	from := 0 // the first saturated step's concurrency
	if len(s.Ladder) > 0 {
		from = s.Ladder[len(s.Ladder)/2]
	}
	fmt.Fprintf(b, "\nLoad: open loop at %s starts/s for %.0f s each (at most %d in flight); a closed loop at rising concurrency (%s), %.0f s a step: the most starts/s of a step is the ceiling; then open loop at half that. Per core: starts per second of the process's own CPU time over the steps at concurrency %d and up, where it always has a request waiting (throughput alone moves with the CPU other work leaves it). Measured from outside the process: CPU time (`/proc/<pid>/stat`), RSS sampled every 100 ms (`/proc/<pid>/status`), time its threads waited, runnable, for a CPU (`/proc/<pid>/task/*/schedstat`, seconds per second); from inside: heap allocations (its runtime's counters, read over a loopback listener only the bench's child processes have). Added latency: client latency minus the stub's own time in the start.\n\n",
		joinNums(s.Rates), s.PhaseSeconds, s.MaxInFlight, joinInts(s.Ladder), s.StepSeconds, from)
	b.WriteString("| mode | ceiling starts/s (each round) | cores it had there | waiting for a CPU | starts per CPU-second, saturated (each round) | CPU µs/start, saturated | allocs/start | RSS max MB, saturated | RSS peak MB, whole run |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range r.Modes {
		fmt.Fprintf(b, "| %s | %.0f (%s) | %.2f | %.2f | %.0f (%s) | %.0f | %.0f | %.1f | %.1f |\n", m.Mode, m.CeilingRPS, m.roundsOf(ceilingRPS),
			m.CeilingCores, m.CeilingRunWait, m.PerCoreRPS, m.roundsOf(perCoreRPS), m.SaturationCPUUs, m.SaturationAllocs, m.SaturationRSSMB, m.HWMMB)
	}
	b.WriteString("\nOpen loop, over the rounds that kept up with the rate (answered 95% of it, skipped and failed none), or every round when none did: medians, RSS the largest sample, latency percentiles over every start together:\n\n")
	b.WriteString("| mode | asked starts/s | rounds kept up | answered/s | CPU µs/start | allocs/start | B/start | RSS max MB (anonymous) | p50 ms | p99 ms | added p50 ms | added p99 ms | waiting for a CPU | errors | skipped |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range r.Modes {
		rows := append([]CeilingAtRate(nil), m.AtRates...)
		rows = append(rows, m.Half)
		for i, a := range rows {
			what := fmt.Sprintf("%.0f", a.Rate)
			if i == len(rows)-1 {
				what = fmt.Sprintf("%.0f (half the ceiling)", a.Rate)
			}
			fmt.Fprintf(b, "| %s | %s | %d of %d | %.0f | %.0f | %.0f | %.0f | %.1f (%.1f) | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d |\n", m.Mode, what,
				a.KeptUp, a.Rounds, a.RPS, a.CPUUsPerStart, a.AllocsPerStart, a.BytesPerStart, a.RSSMaxMB, a.RSSAnonMaxMB, a.P50Ms, a.P99Ms, a.AddedP50Ms, a.AddedP99Ms, a.RunWait, a.Errors, a.Skipped)
		}
	}
	for _, m := range r.Modes {
		for _, rd := range m.Rounds {
			for _, p := range rd.phases() {
				if p.FirstError != "" {
					fmt.Fprintf(b, "\n%s round %d, %s, first error: `%s`\n", m.Mode, rd.Round, p.Phase, strings.ReplaceAll(p.FirstError, "`", "'"))
				}
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "\nNote: %s.\n", n)
	}
}

// writeText prints the ceiling's tables.
func (r *CeilingResult) writeText(w io.Writer) error {
	fmt.Fprintln(w, "\nceiling (stub frontend):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tsaturation/s\tcores\twaiting\tper CPU-second\tCPU us/start\tallocs/start\tRSS peak MB\t")
	for _, m := range r.Modes {
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.0f\t%.0f\t%.0f\t%.1f\t\n", m.Mode, m.CeilingRPS, m.CeilingCores, m.CeilingRunWait,
			m.PerCoreRPS, m.SaturationCPUUs, m.SaturationAllocs, m.HWMMB)
	}
	fmt.Fprintln(tw, "mode\tasked/s\tkept up\tdone/s\tCPU us/start\tallocs/start\tRSS max MB\tp99 ms\tadded p99 ms\twaiting\tskipped\t")
	for _, m := range r.Modes {
		for _, a := range append(append([]CeilingAtRate(nil), m.AtRates...), m.Half) {
			fmt.Fprintf(tw, "%s\t%.0f\t%d/%d\t%.0f\t%.0f\t%.0f\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t\n", m.Mode, a.Rate, a.KeptUp, a.Rounds, a.RPS, a.CPUUsPerStart,
				a.AllocsPerStart, a.RSSMaxMB, a.P99Ms, a.AddedP99Ms, a.RunWait, a.Skipped)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func (rd CeilingRound) phases() []CeilingPhase {
	ps := append(append([]CeilingPhase(nil), rd.Rates...), rd.Ladder...)
	if rd.Half != nil {
		ps = append(ps, *rd.Half)
	}
	return ps
}

func ceilingRPS(rd CeilingRound) float64 { return rd.Ladder[rd.Saturation].RPS }

// saturatedSteps are the upper half of the ladder (concurrency 8 to 64 of
// the default 1 to 64), where the process always has a request waiting:
// what it does per CPU-second there is what a whole core would carry.
// Throughput alone cannot say it on a shared machine: it moves with the
// CPU other work leaves.
func (rd CeilingRound) saturatedSteps() []CeilingPhase {
	return rd.Ladder[len(rd.Ladder)/2:]
}

// perCoreRPS is the starts per CPU-second of the saturated steps together.
func perCoreRPS(rd CeilingRound) float64 {
	var starts, cpu float64
	for _, p := range rd.saturatedSteps() {
		starts += float64(p.Starts + p.Errors)
		cpu += p.CPUSeconds
	}
	if cpu <= 0 {
		return 0
	}
	return starts / cpu
}

// saturatedAllocs is the allocations per start of the saturated steps.
func saturatedAllocs(rd CeilingRound) float64 {
	var starts, allocs float64
	for _, p := range rd.saturatedSteps() {
		n := float64(p.Starts + p.Errors)
		starts += n
		allocs += n * p.AllocsPerStart
	}
	if starts <= 0 {
		return 0
	}
	return allocs / starts
}

// roundsOf lists f of each round that reached the ladder.
func (m CeilingMode) roundsOf(f func(CeilingRound) float64) string {
	var vs []float64
	for _, rd := range m.Rounds {
		if len(rd.Ladder) > 0 {
			vs = append(vs, f(rd))
		}
	}
	return joinNums(vs)
}

func joinInts(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}
