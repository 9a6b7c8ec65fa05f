package bench

import (
	"math"
	"runtime/metrics"
	"time"
)

// schedLatencies is the Go runtime's histogram of how long goroutines of
// this process waited to run once runnable. In the self-contained mode
// the gateway, the workers and the load generator share this process, so
// its tail says how much of a start's latency was waiting for a CPU.
const schedLatencies = "/sched/latencies:seconds"

// schedHist is a snapshot of that histogram.
type schedHist struct {
	counts  []uint64
	buckets []float64 // len(counts)+1 boundaries, in seconds
}

func readSched() schedHist {
	s := []metrics.Sample{{Name: schedLatencies}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return schedHist{}
	}
	h := s[0].Value.Float64Histogram()
	return schedHist{counts: append([]uint64(nil), h.Counts...), buckets: h.Buckets}
}

// since returns what was added to h after before.
func (h schedHist) since(before schedHist) schedHist {
	if len(before.counts) != len(h.counts) {
		return h
	}
	out := schedHist{counts: make([]uint64, len(h.counts)), buckets: h.buckets}
	for i := range h.counts {
		out.counts[i] = h.counts[i] - before.counts[i]
	}
	return out
}

// add merges o (of the same runtime) into h.
func (h *schedHist) add(o schedHist) {
	if len(h.counts) == 0 {
		h.counts, h.buckets = append([]uint64(nil), o.counts...), o.buckets
		return
	}
	for i := range min(len(h.counts), len(o.counts)) {
		h.counts[i] += o.counts[i]
	}
}

// percentile returns the upper bound of the bucket holding the p-th
// percentile; zero when empty.
func (h schedHist) percentile(p float64) time.Duration {
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(total)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			upper := h.buckets[i+1]
			if math.IsInf(upper, 1) {
				upper = h.buckets[i]
			}
			return time.Duration(upper * float64(time.Second))
		}
	}
	return 0
}
