package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regiongate/regiongate/regions"
)

// signaller sends the paced, numbered note signals and keeps what the
// gateway answered to each.
type signaller struct {
	url  string
	mu   sync.Mutex
	sent []sentSignal
}

type sentSignal struct {
	text   string
	status int // 0: no answer
	acked  bool
	answer time.Time
}

func (s *signaller) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		text := fmt.Sprintf("s-%d", n)
		status, _, err := postJSONCtx(ctx, s.url, "", map[string]any{"input": map[string]any{"text": text}})
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.sent = append(s.sent, sentSignal{text: text, status: status, acked: err == nil && status == 202, answer: time.Now()})
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ackedSince is the texts of the signals acknowledged at t or later.
func (s *signaller) ackedSince(t time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, x := range s.sent {
		if x.acked && !x.answer.Before(t) {
			out = append(out, x.text)
		}
	}
	return out
}

// lost counts the acknowledged signals and those of them missing from
// present, and how long before t0 the oldest missing one was acknowledged.
func (s *signaller) lost(present map[string]bool, t0 time.Time) (acked, lost int, windowMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sent {
		if !x.acked {
			continue
		}
		acked++
		if !present[x.text] {
			lost++
			windowMs = max(windowMs, t0.Sub(x.answer).Milliseconds())
		}
	}
	return acked, lost, windowMs
}

// WriteReplication writes the runs as a markdown table with a summary.
func WriteReplication(w io.Writer, runs []ReplicationRun) error {
	var b strings.Builder
	b.WriteString("| run | mode | signals acked | lost (RPO, events) | lost window (ms) | lag before (events) | detect (ms) | time to active (ms) | RTO (ms) | report: first progress (ms) | replication resumed (ms) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range runs {
		planned := r.Mode == regions.Planned
		fmt.Fprintf(&b, "| %d | %s | %d | %d | %d | %s | %s | %d | %d | %d | %s |\n", i/2+1, r.Mode, r.SignalsAcked, r.SignalsLost,
			r.LostWindowMs, dashIfZero(r.LagEvents, !planned), dashIfZero(r.DetectMs, planned), r.TimeToActiveMs, r.RTOMs, r.ReportFirstProgressMs, dashIfZero(r.ResumedMs, planned))
	}
	for _, mode := range []string{regions.Planned, regions.Forced} {
		var rto, lost []float64
		for _, r := range runs {
			if r.Mode == mode {
				rto, lost = append(rto, float64(r.RTOMs)), append(lost, float64(r.SignalsLost))
			}
		}
		if len(rto) > 0 {
			fmt.Fprintf(&b, "\n%s, %d runs: RPO %s events lost (median %s), RTO median %.0f ms, max %.0f ms",
				mode, len(rto), spread(lost), fmtFloat(median(lost)), median(rto), maxOf(rto))
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func maxOf(xs []float64) float64 { return slices.Max(xs) }

// spread is "a to b", or "a" when all are equal.
func spread(xs []float64) string {
	lo, hi := slices.Min(xs), slices.Max(xs)
	if lo == hi {
		return fmtFloat(lo)
	}
	return fmtFloat(lo) + " to " + fmtFloat(hi)
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// dashIfZero is ms, or a dash where the figure does not apply (na): a
// planned failover has no detection or restart, a forced one cannot ask
// the lost cluster for its lag.
func dashIfZero(ms int64, na bool) string {
	if na {
		return "–"
	}
	return fmt.Sprint(ms)
}

// refusals counts the signals not acknowledged before t0, by status ("0":
// no answer): writes the old active cluster did not take while it still
// answered.
func (s *signaller) refusals(t0 time.Time) map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]int{}
	for _, x := range s.sent {
		if !x.acked && x.answer.Before(t0) {
			out[x.status]++
		}
	}
	return out
}
