package regions

import (
	"context"
	"time"
)

// lag compares the sampled workflows' histories in from and to.
func (m *Manager) lag(ctx context.Context, sample []openWorkflow, from, to *Region) Lag {
	l := Lag{Sampled: len(sample)}
	for _, w := range sample {
		nf, _, err := m.historyLength(ctx, from, w)
		if err != nil || nf < 0 {
			continue // closed and gone, or unreadable: nothing to compare
		}
		nt, _, err := m.historyLength(ctx, to, w)
		switch {
		case err != nil:
		case nt < 0:
			l.Missing++
			l.Events += nf
		case nt < nf:
			l.Behind++
			l.Events += nf - nt
		}
	}
	return l
}

// catchUp waits, at most within, until to has every event from has of the
// sampled workflows. It reports the last lag and whether it reached zero.
func (m *Manager) catchUp(ctx context.Context, sample []openWorkflow, from, to *Region, within time.Duration) (Lag, bool) {
	deadline := time.Now().Add(within)
	for {
		l := m.lag(ctx, sample, from, to)
		if l.Events == 0 {
			return l, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return l, false
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
}

// watchContinue watches the sampled workflows in the new active cluster
// for at most within: a workflow continued once it has a new event there
// (or has closed). It stops early when every one has.
func (m *Manager) watchContinue(ctx context.Context, rep *FailoverReport, sample []openWorkflow, to *Region, switched time.Time, within time.Duration) {
	base := map[openWorkflow]int64{}
	for _, w := range sample {
		if n, running, err := m.historyLength(ctx, to, w); err == nil && n >= 0 && running {
			base[w] = n
		}
	}
	rep.WorkflowsOpen = len(base)
	began := time.Now()
	deadline := began.Add(within)
	for len(base) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		for w, n0 := range base {
			n, running, err := m.historyLength(ctx, to, w)
			if err != nil || (running && n <= n0) {
				continue
			}
			delete(base, w)
			rep.WorkflowsContinued++
			if rep.FirstProgressMs == 0 {
				rep.FirstProgressMs = time.Since(switched).Milliseconds()
			}
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
	rep.ObservedMs = time.Since(began).Milliseconds()
	if len(base) > 0 {
		rep.Notes = append(rep.Notes, "workflows that made no progress while watched may be waiting (a timer, a signal) rather than stuck")
	}
}
