package bench

import (
	"reflect"
	"testing"
	"time"
)

func ms2d(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"no samples is zero", nil, 99, 0},
		{"one sample is every percentile", ms2d(7), 50, 7 * time.Millisecond},
		{"p50 of 1..100 is 50", hundred, 50, 50 * time.Millisecond},
		{"p99 of 1..100 is 99", hundred, 99, 99 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"a tiny p is the minimum", hundred, 0.001, time.Millisecond},
		{"p0 clamps to the minimum", hundred, 0, time.Millisecond},
		{"p99 of ten rounds up to the largest", ms2d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p50 of four is the second", ms2d(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p95 of four is the fourth", ms2d(1, 2, 3, 4), 95, 4 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("Percentile(p%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeCountsSuccessesPerSecond(t *testing.T) {
	s := Sample{Latencies: ms2d(4, 1, 3, 2), Errors: 2, Elapsed: 2 * time.Second, FirstError: "boom"}
	got := s.Summarize("direct")
	want := Summary{Mode: "direct", Requests: 6, Errors: 2, Seconds: 2, RPS: 2, MeanMs: 2.5,
		P50Ms: 2, P95Ms: 4, P99Ms: 4, MaxMs: 4, FirstError: "boom"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestSummarizeEmptySample(t *testing.T) {
	got := Sample{}.Summarize("naive")
	if !reflect.DeepEqual(got, Summary{Mode: "naive"}) {
		t.Fatalf("got %+v", got)
	}
}

func TestSampleAddMergesRuns(t *testing.T) {
	var s Sample
	s.Add(Sample{Latencies: ms2d(1), Errors: 1, Elapsed: time.Second})
	s.Add(Sample{Latencies: ms2d(2, 3), Elapsed: time.Second, FirstError: "later"})
	s.Add(Sample{FirstError: "last"})
	if len(s.Latencies) != 3 || s.Errors != 1 || s.Elapsed != 2*time.Second || s.FirstError != "later" {
		t.Fatalf("merged %+v", s)
	}
	if got := s.Summarize("m").RoundRPS; !reflect.DeepEqual(got, []float64{1, 2}) {
		t.Fatalf("starts/s by round %v, want [1 2] (the empty run has no time)", got)
	}
}

func TestSchedPercentileUsesBucketUpperBounds(t *testing.T) {
	h := schedHist{counts: []uint64{90, 9, 1}, buckets: []float64{0, 0.001, 0.002, 0.004}}
	before := schedHist{counts: []uint64{0, 0, 0}, buckets: h.buckets}
	d := h.since(before)
	if got := d.percentile(50); got != time.Millisecond {
		t.Errorf("p50 = %v, want 1ms", got)
	}
	if got := d.percentile(99); got != 2*time.Millisecond {
		t.Errorf("p99 = %v, want 2ms", got)
	}
	if got := d.percentile(100); got != 4*time.Millisecond {
		t.Errorf("p100 = %v, want 4ms", got)
	}
	if got := (schedHist{}).percentile(99); got != 0 {
		t.Errorf("empty p99 = %v", got)
	}
}
