package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is everything one `regiongate bench` measured. Its flat fields
// are the headline figures scripts read; the nested ones the detail.
type Report struct {
	Date    string  `json:"date"` // UTC, YYYY-MM-DD
	Machine Machine `json:"machine"`
	// LoadAverage is the machine's one-minute load average at the start
	// and at the end of the run.
	LoadAverage [2]float64 `json:"load_average"`
	Target      string     `json:"target"` // "self-contained" or the gateway's URL
	Settings    Settings   `json:"settings"`
	Commands    []string   `json:"commands,omitempty"`

	DirectRPS          float64   `json:"direct_rps"`
	GatewayRPS         float64   `json:"gateway_rps"`
	NaiveRPS           float64   `json:"naive_rps"`
	GatewayDirectRatio float64   `json:"gateway_direct_ratio"`
	DirectP99Ms        float64   `json:"direct_p99_ms"`
	GatewayP99Ms       float64   `json:"gateway_p99_ms"`
	AddedP99Ms         float64   `json:"added_p99_ms"` // gateway p99 - direct p99
	Modes              []Summary `json:"modes"`
	// GatewayOverheadP99Ms is the p99 of what the gateway adds to each
	// start (see Overhead); nil when the gateway's clients were not timed.
	GatewayOverheadP50Ms *float64 `json:"gateway_overhead_p50_ms"`
	GatewayOverheadP99Ms *float64 `json:"gateway_overhead_p99_ms"`
	// HTTPFloorOverheadP99Ms is the same for ModeHTTPFloor: the p99 any
	// HTTP front to the SDK adds on this machine; nil when not run.
	HTTPFloorOverheadP99Ms *float64  `json:"http_floor_overhead_p99_ms,omitempty"`
	Overheads              []Summary `json:"overheads,omitempty"`

	FailoverSeconds      *float64        `json:"failover_seconds"`
	FailoverClientErrors *int            `json:"failover_client_errors"` // Failover.OutageErrors
	RecoveryClientErrors *int            `json:"recovery_client_errors"` // Failover.RecoveryErrors
	RecoverySeconds      *float64        `json:"recovery_seconds"`
	Failover             *FailoverResult `json:"failover,omitempty"`

	PropagationP99Ms *float64           `json:"propagation_p99_ms"`
	Propagation      *PropagationResult `json:"propagation,omitempty"`

	// Ceiling is what the gateway itself carries (CeilingResult); nil
	// when not measured.
	Ceiling *CeilingResult `json:"ceiling,omitempty"`

	Micro []GoBench `json:"micro,omitempty"`
	Goals []Goal    `json:"goals"`
	// Notes say what was skipped and why, and how the stack was set up.
	Notes []string `json:"notes,omitempty"`
}

// InHandlerSuffix names the Overheads row of a gateway mode that holds
// the part of its overhead spent in the gateway's handler.
const InHandlerSuffix = "(in its handler)"

// Settings are the load's settings, equal for every mode.
type Settings struct {
	Concurrency     int     `json:"concurrency"`
	DurationSeconds float64 `json:"duration_seconds"` // measured, per mode
	WarmupSeconds   float64 `json:"warmup_seconds"`   // per mode and round
	Rounds          int     `json:"rounds"`
	MaxRequests     int     `json:"max_requests"` // per mode
	Workload        string  `json:"workload"`
}

// Goal is one of issue #9's goals and whether it was met; Met is nil when
// it was not measured.
type Goal struct {
	What     string `json:"what"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      *bool  `json:"met"`
}

// Finish fills the headline figures and the goals from the detail.
func (r *Report) Finish() {
	for _, s := range r.Modes {
		switch s.Mode {
		case ModeDirect:
			r.DirectRPS, r.DirectP99Ms = s.RPS, s.P99Ms
		case ModeGateway:
			r.GatewayRPS, r.GatewayP99Ms = s.RPS, s.P99Ms
		case ModeNaive:
			r.NaiveRPS = s.RPS
		}
	}
	if r.DirectRPS > 0 {
		r.GatewayDirectRatio = round3(r.GatewayRPS / r.DirectRPS)
	}
	if r.DirectRPS > 0 && r.GatewayRPS > 0 {
		r.AddedP99Ms = round3(r.GatewayP99Ms - r.DirectP99Ms)
	}
	for _, s := range r.Overheads {
		if s.Requests == 0 {
			continue
		}
		p50, p99 := s.P50Ms, s.P99Ms
		switch s.Mode {
		case ModeGateway:
			r.GatewayOverheadP50Ms, r.GatewayOverheadP99Ms = &p50, &p99
		case ModeHTTPFloor:
			r.HTTPFloorOverheadP99Ms = &p99
		}
	}
	if f := r.Failover; f != nil {
		r.FailoverSeconds, r.RecoverySeconds = f.FailoverSeconds, f.RecoverySeconds
		outage, recovery := f.OutageErrors, f.RecoveryErrors
		r.FailoverClientErrors, r.RecoveryClientErrors = &outage, &recovery
	}
	if p := r.Propagation; p != nil && p.Writes > p.Timeouts {
		v := p.P99Ms
		r.PropagationP99Ms = &v
	}
	r.Goals = r.goals()
	if r.Ceiling != nil {
		r.Goals = append(r.Goals, r.Ceiling.Goals...)
	}
}

func (r *Report) goals() []Goal {
	var gs []Goal
	add := func(what, target string, measured bool, met bool, format string, args ...any) {
		g := Goal{What: what, Target: target, Measured: "not measured"}
		if measured {
			g.Measured, g.Met = fmt.Sprintf(format, args...), &met
		}
		gs = append(gs, g)
	}
	both := r.DirectRPS > 0 && r.GatewayRPS > 0
	add("gateway throughput / direct, equal concurrency", ">= 0.95", both,
		r.GatewayDirectRatio >= 0.95, "%.3f", r.GatewayDirectRatio)
	if p := r.GatewayOverheadP99Ms; p != nil {
		floor := ""
		if f := r.HTTPFloorOverheadP99Ms; f != nil {
			floor = fmt.Sprintf("; a bare HTTP front to the SDK (http-floor) adds %.2f ms here", *f)
		}
		add("p99 added by the gateway", "<= 1 ms", true, *p <= 1,
			"%.2f ms per start (client latency - the gateway's own start RPC)%s; end-to-end p99 difference %.2f ms", *p, floor, r.AddedP99Ms)
	} else {
		add("p99 added by the gateway", "<= 1 ms", both, r.AddedP99Ms <= 1, "%.2f ms (end-to-end p99 difference)", r.AddedP99Ms)
	}
	fo := r.FailoverSeconds != nil && r.FailoverClientErrors != nil
	add("failover on refused connections", "<= 1 s, 0 client-visible errors", fo,
		fo && *r.FailoverSeconds <= 1 && *r.FailoverClientErrors == 0,
		"%s s, %d errors", deref(r.FailoverSeconds), derefInt(r.FailoverClientErrors))
	add("config propagation p99 (Consul, 2 replicas)", "< 1 s", r.PropagationP99Ms != nil,
		r.PropagationP99Ms != nil && *r.PropagationP99Ms < 1000, "%s ms", deref(r.PropagationP99Ms))
	ns, allocs, ok := r.routerDecide()
	add("router decision, dev config (Decide/all-up)", "<= 300 ns, 0 allocs", ok,
		ns <= 300 && allocs == 0, "%.0f ns, %.0f allocs", ns, allocs)
	return gs
}

// routerDecide is the median of the router's dev-config benchmark.
func (r *Report) routerDecide() (ns, allocs float64, ok bool) {
	for _, b := range r.Micro {
		if strings.HasSuffix(b.Pkg, "/router") && b.Name == "Decide/all-up" {
			ns, ok1 := b.Median("ns/op")
			allocs, ok2 := b.Median("allocs/op")
			return ns, allocs, ok1 && ok2
		}
	}
	return 0, 0, false
}

func deref(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *p)
}

func derefInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// WriteText prints the report as plain tables.
func (r *Report) WriteText(w io.Writer) error {
	if len(r.Modes) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode\trequests\terrors\tstarts/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tCPU wait p99 ms\t")
		for _, s := range r.Modes {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
				s.Mode, s.Requests, s.Errors, s.RPS, s.P50Ms, s.P95Ms, s.P99Ms, s.MaxMs, s.SchedP99Ms)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, s := range r.Modes {
		if s.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", s.Mode, s.FirstError)
		}
	}
	for _, s := range r.Overheads {
		what := "latency - its start RPC"
		if strings.HasSuffix(s.Mode, InHandlerSuffix) {
			what = "time in the handler - its start RPC"
		}
		fmt.Fprintf(w, "%s overhead per start (%s): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms (%d starts)\n",
			s.Mode, what, s.P50Ms, s.P95Ms, s.P99Ms, s.MaxMs, s.Requests)
	}
	if f := r.Failover; f != nil {
		fmt.Fprintf(w, "\nfailover %s -> %s at %.0f starts/s: failover %s s; errors: %d in flight at the kill, %d during the outage, %d after the restart; process gone %.2f s after SIGKILL, restart %.2f s, recovery %s s; %d outside both\n",
			f.Home, f.Fallback, f.Rate, deref(f.FailoverSeconds), f.InFlightErrors, f.OutageErrors,
			f.RecoveryErrors, f.KillSeconds, f.RestartSeconds, deref(f.RecoverySeconds), f.Elsewhere)
		for _, e := range f.Errors {
			fmt.Fprintf(w, "  error seen: %s\n", e)
		}
	}
	if p := r.Propagation; p != nil {
		fmt.Fprintf(w, "\npropagation to %d replicas, %d writes: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms, %d timeouts\n",
			p.Replicas, p.Writes, p.P50Ms, p.P95Ms, p.P99Ms, p.MaxMs, p.Timeouts)
	}
	if r.Ceiling != nil {
		if err := r.Ceiling.writeText(w); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "goal\ttarget\tmeasured\tmet")
	for _, g := range r.Goals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.What, g.Target, g.Measured, verdict(g.Met))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func verdict(met *bool) string {
	switch {
	case met == nil:
		return "-"
	case *met:
		return "met"
	}
	return "missed"
}
