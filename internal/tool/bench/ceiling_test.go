package bench

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// round is a round whose ladder is 1, 2, 4, 8: c=4 and c=8 are the
// saturated steps, with sat's starts and CPU seconds.
func round(n int, sat [2][2]float64, at1k, half CeilingPhase) CeilingRound {
	ladder := []CeilingPhase{{Concurrency: 1, RPS: 100, Starts: 100, CPUSeconds: 1}, {Concurrency: 2, RPS: 200, Starts: 200, CPUSeconds: 1}}
	best := 0
	for i, st := range sat {
		ladder = append(ladder, CeilingPhase{Concurrency: 4 << i, RPS: st[0], Starts: int(st[0]), CPUSeconds: st[1], AllocsPerStart: 400})
		if st[0] > ladder[best].RPS {
			best = len(ladder) - 1
		}
	}
	return CeilingRound{Round: n, Rates: []CeilingPhase{at1k}, Ladder: ladder, Saturation: best, Half: &half, HWMMB: 40 + float64(n)}
}

// The summary takes medians over the rounds, the largest RSS, latency
// percentiles over every start of the rounds, and judges issue #20's
// goals on the gateway with records in memory against the http floor.
func TestCeilingSummaryAndGoals(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * 100 * time.Microsecond
		}
		return out
	}
	gw := CeilingMode{Mode: ModeGatewayMemory, Rounds: []CeilingRound{
		round(1, [2][2]float64{{3000, 0.9}, {2800, 0.85}}, CeilingPhase{Rate: 1000, RPS: 1000, CPUUsPerStart: 300, RSSMaxMB: 50}, CeilingPhase{Rate: 1500, RPS: 1500, added: ms(1, 2, 3)}),
		round(2, [2][2]float64{{2000, 0.5}, {1900, 0.5}}, CeilingPhase{Rate: 1000, RPS: 990, CPUUsPerStart: 200, RSSMaxMB: 70}, CeilingPhase{Rate: 1000, RPS: 500, Skipped: 9, added: ms(4, 5, 30)}),
	}}
	floor := CeilingMode{Mode: ModeHTTPFloor, Rounds: []CeilingRound{
		round(1, [2][2]float64{{5000, 1}, {5000, 1}}, CeilingPhase{Rate: 1000}, CeilingPhase{Rate: 2500}),
	}}
	r := &CeilingResult{Settings: CeilingSettings{Rates: []float64{1000}, Ladder: []int{1, 2, 4, 8}}, Modes: []CeilingMode{gw, floor}}
	r.finish()
	g := r.Modes[0]
	// Per core over the saturated steps: 5800/1.75 = 3314 and 3900/1, median 3607.
	if g.CeilingRPS != 2500 || g.PerCoreRPS != 3607.143 || g.SaturationAllocs != 400 || g.HWMMB != 42 {
		t.Fatalf("gateway summary %+v", g)
	}
	if a := g.AtRates[0]; a.CPUUsPerStart != 250 || a.RSSMaxMB != 70 || a.RPS != 995 {
		t.Fatalf("at 1000/s: %+v", a)
	}
	// The second round fell behind at half its ceiling: only the first counts.
	if g.Half.AddedP99Ms != 0.3 || g.Half.Rate != 1500 || g.Half.KeptUp != 1 || g.Half.Rounds != 2 {
		t.Fatalf("half: %+v", g.Half)
	}
	var verdicts []string
	for _, goal := range r.Goals {
		verdicts = append(verdicts, verdict(goal.Met))
	}
	// 3607/5000 = 0.72; 250 µs; 70 MB; p99 0.3 ms.
	if want := []string{"missed", "missed", "missed", "met"}; !slices.Equal(verdicts, want) {
		t.Fatalf("goals %v, want %v: %+v", verdicts, want, r.Goals)
	}
	var b strings.Builder
	r.markdown(&b)
	for _, want := range []string{"### ceiling", "| gateway-memory | 2500 (3000, 2000) |", "1500 (half the ceiling) | 1 of 2 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

// A rate no round kept up with is not judged: the figures are an
// overload's, and the goal says so.
func TestCeilingGoalsAtARateNoRoundHeld(t *testing.T) {
	behind := CeilingPhase{Rate: 1000, RPS: 600, Skipped: 400, RSSMaxMB: 180}
	r := &CeilingResult{Settings: CeilingSettings{Rates: []float64{1000}, Ladder: []int{1, 2}},
		Modes: []CeilingMode{{Mode: ModeGatewayMemory, Rounds: []CeilingRound{{Rates: []CeilingPhase{behind}, Ladder: make([]CeilingPhase, 2), Half: &behind}}}}}
	r.finish()
	for _, g := range r.Goals[2:] {
		if g.Met != nil || !strings.HasPrefix(g.Measured, "not measured: no round kept up with 1000 starts/s") {
			t.Errorf("%+v", g)
		}
	}
}

// A ceiling without the http floor or the 1000/s rate leaves those goals
// unjudged instead of dividing by zero.
func TestCeilingGoalsNotMeasured(t *testing.T) {
	r := &CeilingResult{Modes: []CeilingMode{{Mode: ModeGatewayMemory}}}
	r.finish()
	for _, g := range r.Goals {
		if g.Met != nil || g.Measured != "not measured" {
			t.Errorf("%+v", g)
		}
	}
}

// The open loop sends rate x duration starts, pairs each with the stub's
// time in it, and counts the starts due while MaxInFlight are in flight
// as skipped.
func TestOpenLoopSendsOnScheduleAndSubtractsTheStubsTime(t *testing.T) {
	st := newServiceTimes()
	var sent atomic.Int64
	start := func(_ context.Context, id string) error {
		sent.Add(1)
		st.observe(id, time.Nanosecond)
		return nil
	}
	id := func(seq int) string { return "wf-" + strconv.Itoa(seq) }
	s := openLoop(t.Context(), 200, 250*time.Millisecond, 64, start, id, st)
	if sent.Load() != 50 || s.ok() != 50 || len(s.added) != 50 || s.skipped != 0 || s.errors != 0 {
		t.Fatalf("sent %d, ok %d, added %d, skipped %d", sent.Load(), s.ok(), len(s.added), s.skipped)
	}

	// The first start holds the only slot until the context ends, long
	// after the others were due: they are skipped, not queued.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	hold := func(ctx context.Context, _ string) error { <-ctx.Done(); return ctx.Err() }
	s = openLoop(ctx, 1000, 50*time.Millisecond, 1, hold, id, st)
	if s.errors != 1 || s.skipped < 1 || s.skipped > 49 || s.ok() != 0 {
		t.Fatalf("errors %d, skipped %d, ok %d", s.errors, s.skipped, s.ok())
	}
}

func TestCPUListAndProcReadings(t *testing.T) {
	if got := cpuList("0-2,5"); !slices.Equal(got, []int{0, 1, 2, 5}) {
		t.Fatalf("cpuList: %v", got)
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if m, err := procMem(os.Getpid()); err != nil || m.rss == 0 || m.hwm < m.rss || m.anon == 0 || m.anon+m.file > m.rss {
		t.Fatalf("%+v: %v", m, err)
	}
	if _, err := procRunDelay(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}
