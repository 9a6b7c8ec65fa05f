package bench

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// unbounded is a load that only its request bound ends.
var unbounded = Load{Concurrency: 4, Duration: time.Hour, Warmup: -1, MaxRequests: 50}

func TestRunStopsAtTheRequestBound(t *testing.T) {
	var calls atomic.Int64
	s := Run(context.Background(), unbounded, func(_ context.Context, seq int64) error {
		calls.Add(1)
		if seq%5 == 0 {
			return errors.New("every fifth fails")
		}
		return nil
	})
	if calls.Load() != 50 {
		t.Fatalf("%d calls, want 50", calls.Load())
	}
	if len(s.Latencies) != 40 || s.Errors != 10 || s.FirstError != "every fifth fails" {
		t.Fatalf("%d ok, %d errors, first %q; want 40, 10", len(s.Latencies), s.Errors, s.FirstError)
	}
}

func TestRunNeverExceedsItsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int64
	Run(context.Background(), unbounded, func(context.Context, int64) error {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		inFlight.Add(-1)
		return nil
	})
	if peak.Load() > int64(unbounded.Concurrency) {
		t.Fatalf("%d starts in flight at once, concurrency is %d", peak.Load(), unbounded.Concurrency)
	}
}

func TestRunSequenceNumbersAreUnique(t *testing.T) {
	var mu sync.Mutex
	seen := map[int64]bool{}
	Run(context.Background(), unbounded, func(_ context.Context, seq int64) error {
		mu.Lock()
		defer mu.Unlock()
		if seen[seq] {
			t.Errorf("seq %d twice", seq)
		}
		seen[seq] = true
		return nil
	})
}

func TestRunEndsWhenInterruptedWithoutCountingIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := unbounded
	l.MaxRequests = 1_000_000
	s := Run(ctx, l, func(ctx context.Context, seq int64) error {
		if seq >= 20 {
			cancel()
			return ctx.Err()
		}
		return nil
	})
	if s.Errors != 0 {
		t.Fatalf("%d errors counted for an interrupted run (%s)", s.Errors, s.FirstError)
	}
}

func TestCompareInterleavesRoundsAndSettles(t *testing.T) {
	var mu sync.Mutex
	var order, settled []string
	ids := map[string]bool{}
	mode := func(name string) Mode {
		var once sync.Map // one entry per round's first start
		return Mode{Name: name, Start: func(_ context.Context, id string) error {
			mu.Lock()
			defer mu.Unlock()
			if ids[id] {
				t.Errorf("id %s started twice", id)
			}
			ids[id] = true
			round := id[:strings.LastIndexByte(id, '-')]
			if _, loaded := once.LoadOrStore(round, true); !loaded {
				order = append(order, round)
			}
			return nil
		}}
	}
	got, err := Compare(context.Background(), []Mode{mode("a"), mode("b")}, CompareOptions{
		Load: Load{Concurrency: 2, Duration: time.Hour, Warmup: -1, MaxRequests: 20}, Rounds: 2, IDPrefix: "run",
		Settle: func(_ context.Context, last string) error {
			mu.Lock()
			defer mu.Unlock()
			settled = append(settled, last[:strings.LastIndexByte(last, '-')])
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"run-a-r1", "run-b-r1", "run-b-r2", "run-a-r2"}
	if strings.Join(order, " ") != strings.Join(want, " ") || strings.Join(settled, " ") != strings.Join(want, " ") {
		t.Fatalf("runs %v, settled after %v; want %v", order, settled, want)
	}
	if len(got) != 2 || got[0].Mode != "a" || got[0].Requests != 20 || got[1].Requests != 20 {
		t.Fatalf("summaries %+v", got)
	}
}
