// Package bench measures regiongate end to end against real servers: start throughput and latency, failover, and config propagation.
package bench

import (
	"math"
	"slices"
	"time"
)

// Sample is what one or more load runs of a mode measured.
type Sample struct {
	Latencies  []time.Duration // of successful starts, in no particular order
	Errors     int
	Elapsed    time.Duration // measured wall time, summed over runs
	FirstError string        // the first error seen, to say what went wrong
	sched      schedHist     // this process's scheduling latencies meanwhile
	runRPS     []float64     // successful starts per second of each run merged in
}

// Add merges o into s.
func (s *Sample) Add(o Sample) {
	s.Latencies = append(s.Latencies, o.Latencies...)
	s.Errors += o.Errors
	s.Elapsed += o.Elapsed
	if s.FirstError == "" {
		s.FirstError = o.FirstError
	}
	s.sched.add(o.sched)
	if len(o.runRPS) > 0 {
		s.runRPS = append(s.runRPS, o.runRPS...)
	} else if o.Elapsed > 0 {
		s.runRPS = append(s.runRPS, round3(float64(len(o.Latencies))/o.Elapsed.Seconds()))
	}
}

// Summary is a mode's row in the results.
type Summary struct {
	Mode     string  `json:"mode"`
	Requests int     `json:"requests"` // measured starts, errors included
	Errors   int     `json:"errors"`
	Seconds  float64 `json:"seconds"`
	// RPS counts successful starts per second.
	RPS        float64 `json:"rps"`
	MeanMs     float64 `json:"mean_ms"`
	P50Ms      float64 `json:"p50_ms"`
	P95Ms      float64 `json:"p95_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	FirstError string  `json:"first_error,omitempty"`
	// SchedP99Ms is the p99 of how long this process's goroutines waited
	// for a CPU during the runs (bucket upper bound); 0 if not recorded.
	SchedP99Ms float64 `json:"sched_p99_ms,omitempty"`
	// RoundRPS is RPS in each round, to show how much runs vary.
	RoundRPS []float64 `json:"round_rps,omitempty"`
}

// Summarize computes a mode's summary. It sorts s.Latencies in place.
func (s Sample) Summarize(mode string) Summary {
	slices.Sort(s.Latencies)
	out := Summary{
		Mode:       mode,
		Requests:   len(s.Latencies) + s.Errors,
		Errors:     s.Errors,
		Seconds:    round3(s.Elapsed.Seconds()),
		P50Ms:      ms(Percentile(s.Latencies, 50)),
		P95Ms:      ms(Percentile(s.Latencies, 95)),
		P99Ms:      ms(Percentile(s.Latencies, 99)),
		FirstError: s.FirstError,
		SchedP99Ms: ms(s.sched.percentile(99)),
		RoundRPS:   s.runRPS,
	}
	if n := len(s.Latencies); n > 0 {
		var sum time.Duration
		for _, d := range s.Latencies {
			sum += d
		}
		out.MeanMs = ms(sum / time.Duration(n))
		out.MaxMs = ms(s.Latencies[n-1])
	}
	if s.Elapsed > 0 {
		out.RPS = round3(float64(len(s.Latencies)) / s.Elapsed.Seconds())
	}
	return out
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted samples
// by the nearest-rank method: the smallest sample that at least p percent
// of the samples are less than or equal to. Zero for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
