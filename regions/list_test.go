package regions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// listingRegion lists its runs as Temporal's SQL visibility does: in
// listedBefore order, a page token after a full page (even the last one),
// none after a short page.
type listingRegion struct {
	name string
	runs []Execution
	down bool // this page, it cannot be asked
}

func (f *listingRegion) list(_ context.Context, token []byte, n int) ([]Execution, []byte, error) {
	if f.down {
		return nil, nil, errors.New("connection refused")
	}
	from := 0
	if token != nil {
		var err error
		if from, err = strconv.Atoi(string(token)); err != nil {
			return nil, nil, err
		}
	}
	to := min(from+n, len(f.runs))
	var next []byte
	if to-from == n {
		next = []byte(strconv.Itoa(to))
	}
	return slices.Clone(f.runs[from:to]), next, nil
}

func listingRegions(rng *rand.Rand, n int) []*listingRegion {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []*listingRegion
	for r := range n {
		f := &listingRegion{name: fmt.Sprintf("region-%d", r)}
		for i := range rng.IntN(12) {
			e := Execution{
				WorkflowID: fmt.Sprintf("wf-%d-%d", r, i), RunID: fmt.Sprintf("run-%d-%d", r, i), Region: f.name,
				StartTime: base.Add(time.Duration(rng.IntN(20)) * time.Minute),
			}
			if rng.IntN(2) == 0 {
				e.CloseTime = e.StartTime.Add(time.Duration(rng.IntN(30)) * time.Minute)
			}
			f.runs = append(f.runs, e)
		}
		slices.SortFunc(f.runs, func(a, b Execution) int {
			if listedBefore(a, b) {
				return -1
			}
			return 1
		})
		out = append(out, f)
	}
	return out
}

// pageThrough lists every page as Manager.List does, with some regions
// down on some pages (outage: the chance), and returns what was listed.
func pageThrough(t *testing.T, rng *rand.Rand, regions []*listingRegion, size int, outage float64, keep func(string) bool) []Execution {
	t.Helper()
	cursors := map[string]Cursor{}
	var listed []Execution
	for round := 0; ; round++ {
		if round > 1000 {
			t.Fatal("the listing never ends")
		}
		pages := make([]regionPage, len(regions))
		for i, f := range regions {
			f.down = rng.Float64() < outage
			pages[i] = regionPage{region: f.name, from: cursors[f.name]}
			if !pages[i].from.Done {
				pages[i].err = pages[i].fetch(context.Background(), f.list, size)
			}
		}
		page := pageOf(pages, size, keep)
		if len(page.Executions) > size {
			t.Fatalf("a page of %d for size %d", len(page.Executions), size)
		}
		listed = append(listed, page.Executions...)
		if !page.More() {
			return listed
		}
		cursors = page.Cursors
	}
}

// TestListingPagesTakeEveryRunOnce: however small the pages, however the
// runs spread over the regions, and with regions missing from some pages,
// every run is listed exactly once; with every region answering, in one
// order across regions.
func TestListingPagesTakeEveryRunOnce(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 19))
		regions := listingRegions(rng, 1+rng.IntN(4))
		var all []Execution
		for _, f := range regions {
			all = append(all, f.runs...)
		}
		slices.SortFunc(all, func(a, b Execution) int {
			if listedBefore(a, b) {
				return -1
			}
			return 1
		})
		size := 1 + rng.IntN(6)
		if got := pageThrough(t, rng, regions, size, 0, nil); !slices.Equal(got, all) {
			t.Fatalf("seed %d, pages of %d: listed %v, want %v", seed, size, ids(got), ids(all))
		}
		got := pageThrough(t, rng, regions, size, 0.3, nil)
		slices.SortFunc(got, func(a, b Execution) int {
			if listedBefore(a, b) {
				return -1
			}
			return 1
		})
		if !slices.Equal(got, all) {
			t.Fatalf("seed %d, pages of %d with outages: listed %v, want each of %v once", seed, size, ids(got), ids(all))
		}
		odd := func(id string) bool { return id[len(id)-1]%2 == 1 }
		want := slices.DeleteFunc(slices.Clone(all), func(e Execution) bool { return !odd(e.WorkflowID) })
		if got := pageThrough(t, rng, regions, size, 0, odd); !slices.Equal(got, want) {
			t.Fatalf("seed %d, kept runs: listed %v, want %v", seed, ids(got), ids(want))
		}
	}
}

func ids(es []Execution) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.WorkflowID
	}
	return out
}

func TestListedBeforeIsTemporalsOrder(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2025, 1, 1, 0, min, 0, 0, time.UTC) }
	running := Execution{RunID: "a", StartTime: at(1)}
	newerRunning := Execution{RunID: "b", StartTime: at(2)}
	closedLate := Execution{RunID: "c", StartTime: at(0), CloseTime: at(9)}
	closedEarly := Execution{RunID: "d", StartTime: at(3), CloseTime: at(4)}
	order := []Execution{newerRunning, running, closedLate, closedEarly}
	for i := range order {
		for j := range order {
			if got := listedBefore(order[i], order[j]); got != (i < j) {
				t.Errorf("listedBefore(%s, %s) = %v", order[i].RunID, order[j].RunID, got)
			}
		}
	}
}
