package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// CompareOptions run several modes side by side at equal settings.
type CompareOptions struct {
	// Load is each mode's load; its Duration and MaxRequests are the
	// mode's totals, split evenly across the rounds.
	Load Load
	// Rounds interleaves the modes to spread drift (other processes, the
	// server's growing state) evenly: every round runs each mode once,
	// odd rounds in reverse order. Default 2.
	Rounds int
	// IDPrefix starts every workflow id, so runs never collide.
	IDPrefix string
	// Settle, when set, runs after each run with the id of its last
	// successful start ("" if none), e.g. to wait until the worker has
	// caught up with what the run started, so the next run does not pay
	// for it. Its error is reported and otherwise ignored.
	Settle func(ctx context.Context, lastID string) error
	// ProfileDir, when set, gets a CPU profile and an execution trace of
	// this process for every run: <mode>-<round>.pprof and .trace.
	ProfileDir string
}

// Compare runs the modes and returns one summary per mode, in their order.
func Compare(ctx context.Context, modes []Mode, o CompareOptions) ([]Summary, error) {
	if o.Rounds <= 0 {
		o.Rounds = 2
	}
	l := o.Load.withDefaults()
	l.Duration /= time.Duration(o.Rounds)
	l.MaxRequests = max(1, l.MaxRequests/o.Rounds)
	samples := make([]Sample, len(modes))
	for round := range o.Rounds {
		order := make([]int, len(modes))
		for i := range order {
			order[i] = i
		}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, i := range order {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s, err := o.runOnce(ctx, modes[i], l, round)
			if err != nil {
				return nil, err
			}
			samples[i].Add(s)
		}
	}
	out := make([]Summary, len(modes))
	for i, m := range modes {
		out[i] = samples[i].Summarize(m.Name)
	}
	return out, nil
}

func (o CompareOptions) runOnce(ctx context.Context, m Mode, l Load, round int) (Sample, error) {
	l.Label = fmt.Sprintf("%s (round %d/%d)", m.Name, round+1, o.Rounds)
	prefix := fmt.Sprintf("%s-%s-r%d-", o.IDPrefix, m.Name, round+1)
	var last atomic.Pointer[string]
	op := func(ctx context.Context, seq int64) error {
		id := prefix + strconv.FormatInt(seq, 10)
		err := m.Start(ctx, id)
		if err == nil {
			last.Store(&id)
		}
		return err
	}
	stop, err := o.profile(m.Name, round)
	if err != nil {
		return Sample{}, err
	}
	s := Run(ctx, l, op)
	stop()
	if o.Settle != nil && ctx.Err() == nil {
		lastID := ""
		if p := last.Load(); p != nil {
			lastID = *p
		}
		if err := o.Settle(ctx, lastID); err != nil && l.Progress != nil {
			fmt.Fprintf(l.Progress, "  %s: settling after the run: %v\n", m.Name, err)
		}
	}
	return s, nil
}

// profile starts a CPU profile and an execution trace for one run when
// ProfileDir is set.
func (o CompareOptions) profile(mode string, round int) (stop func(), err error) {
	if o.ProfileDir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(o.ProfileDir, fmt.Sprintf("%s-%d", mode, round+1))
	cpu, err := os.Create(base + ".pprof")
	if err != nil {
		return nil, err
	}
	tr, err := os.Create(base + ".trace")
	if err != nil {
		cpu.Close()
		return nil, err
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		tr.Close()
		return nil, fmt.Errorf("starting a CPU profile: %w", err)
	}
	if err := trace.Start(tr); err != nil {
		pprof.StopCPUProfile()
		cpu.Close()
		tr.Close()
		return nil, fmt.Errorf("starting an execution trace: %w", err)
	}
	return func() { trace.Stop(); pprof.StopCPUProfile(); tr.Close(); cpu.Close() }, nil
}
