package recordsbench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
	"github.com/regiongate/regiongate/regions"
)

// TestStoresAtASmallSize fills each store, on a real server, with 1,000
// records in its own format, reads them back through the store (so a
// format the fill gets wrong fails here, not in a benchmark), and runs the
// measurements on them.
func TestStoresAtASmallSize(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real PostgreSQL and Consul agent (skipped under -short)")
	}
	const size = 1000
	o := Options{Claims: 20, Rounds: 2, Concurrency: 4, SaturationClaims: 100, SaturationTime: 10 * time.Second}.withDefaults()
	ctx := context.Background()
	d := dataset{keys: regions.RandomRecordKeys(), now: time.Now().Unix()}
	for _, store := range Stores {
		t.Run(store, func(t *testing.T) {
			res := Result{Store: store, Size: size}
			c, err := openCell(ctx, o, d, t.TempDir(), &res)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.close)
			rs := c.t.records()
			for _, i := range []int{0, 1, 2, 3, 100, size - 1} {
				got, err := rs.Lookup(ctx, d.key(i))
				want := d.record(i)
				if store == StoreConsul {
					want.Version = got.Version // Consul's ModifyIndex, not the fill's
				}
				if err != nil || got != want || got.Version == 0 {
					t.Errorf("record %d reads as %+v, %v; want %+v", i, got, err, want)
				}
			}
			// A claim after the fill takes a version none of the filled
			// records has (Consul's are its own ModifyIndex).
			rec, err := rs.Claim(ctx, d.claimKey("check", 0), placements[0])
			if err != nil || (store != StoreConsul && rec.Version <= d.record(size-1).Version) {
				t.Errorf("a claim after the fill: %+v, %v; the fill's last version is %d", rec, err, d.record(size-1).Version)
			}
			if err := measureCells(ctx, o, d, []*cell{c}); err != nil || res.Stopped != "" {
				t.Fatal(err, res.Stopped)
			}
			checkResult(t, res, o)
		})
	}
}

// A server past the memory limit is stopped where it gets to, and the
// row says so.
func TestAServerPastTheMemoryLimitIsStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	r, err := Run(context.Background(), Options{Stores: []string{StoreConsul}, Sizes: []int{1000},
		Claims: 1_000_000, PhaseTimeout: 30 * time.Second, MaxServerRSS: 1 << 20, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 1 {
		t.Fatalf("results: %+v", r.Results)
	}
	for _, res := range r.Results {
		if !strings.Contains(res.Stopped, "RSS reached") {
			t.Errorf("%d records: stopped %q", res.Size, res.Stopped)
		}
	}
}

func checkResult(t *testing.T, res Result, o Options) {
	t.Helper()
	if res.Records != res.Size || res.FillSeconds <= 0 {
		t.Errorf("fill: %d records in %v s, want %d", res.Records, res.FillSeconds, res.Size)
	}
	if c := res.Claim; c.Requests != o.Claims || c.Errors != 0 || c.P50Ms <= 0 || c.P99Ms < c.P50Ms {
		t.Errorf("one caller: %+v", c)
	}
	if s := res.Saturated; s.Requests == 0 || s.Errors != 0 || s.RPS <= 0 {
		t.Errorf("saturation: %+v", s)
	}
	if sw := res.Sweep; sw.Expired != expiredIn(res.Size) || sw.Removed != sw.Expired || sw.Cut != "" || sw.IdleMs <= 0 {
		t.Errorf("sweep: %+v, want %d removed", sw, expiredIn(res.Size))
	}
	if fp := res.Footprint; fp.Disk <= 0 || fp.Memory < 0 || (res.Store == StoreConsul && (fp.Memory <= 0 || fp.Snapshot <= 0)) {
		t.Errorf("footprint: %+v", fp)
	}
}

// The fill's records have the shares the report describes.
func TestDatasetShares(t *testing.T) {
	d := dataset{keys: regions.RandomRecordKeys(), now: 1_000_000_000}
	const n = 10_000
	expired, expiring, keys := 0, 0, map[string]bool{}
	for i := range n {
		rec := d.record(i)
		switch {
		case rec.Expires == 0:
		case rec.Expires <= d.now:
			expired++
			if rec.Expires < d.now-expiredWithin {
				t.Fatalf("record %d expired at %d, over an hour before %d", i, rec.Expires, d.now)
			}
		case rec.Expires > d.now+retention:
			t.Fatalf("record %d expires at %d, past the retention", i, rec.Expires)
		default:
			expiring++
		}
		keys[d.key(i)] = true
	}
	if expired != expiredIn(n) || expired != n/100 || expiring != n/2 || len(keys) != n {
		t.Fatalf("%d expired, %d expiring, %d keys of %d records", expired, expiring, len(keys), n)
	}
	if d.claimKey("claim", 0) == d.key(0) || d.claimKey("claim", 0) == d.claimKey("saturation", 0) {
		t.Fatal("a measured claim's key is one the fill wrote")
	}
}

func TestSkipReason(t *testing.T) {
	o := Options{}.withDefaults()
	consul1M := &Result{Store: StoreConsul, Size: 1_000_000, Records: 1_000_000, FillSeconds: 100, FillPerSecond: 10_000,
		FilledRSS: 2 << 30, Footprint: Footprint{PeakMemory: 4 << 30}}
	tests := []struct {
		name string
		last *Result
		size int
		want string // in the reason; "" for none
	}{
		{name: "the first size is always tried", size: 10_000_000},
		{name: "after a stop nothing larger is tried", last: &Result{Size: 1_000_000, Stopped: "fill stopped"}, size: 10_000_000, want: "already stopped"},
		{name: "memory is not predicted: the server is stopped where it gets to", last: consul1M, size: 10_000_000},
		{name: "a fill that would pass its timeout", last: &Result{Records: 1_000_000, FillSeconds: 200, FillPerSecond: 5000}, size: 10_000_000, want: "would take about"},
		{name: "an empty store says nothing of the next", last: &Result{Size: 0}, size: 10_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := skipReason(o, tt.last, tt.size)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want one with %q", got, tt.want)
			}
		})
	}
}

func TestGoalsAndTheDocument(t *testing.T) {
	r := newReport(Options{}.withDefaults())
	claim := func(p99 float64) bench.Summary { return bench.Summary{Requests: 10, P50Ms: p99 / 2, P99Ms: p99} }
	r.Results = []Result{
		{Store: StoreBolt, Size: 0, Claim: claim(1)},
		{Store: StoreBolt, Size: goalSize, Records: goalSize, Claim: claim(1.9)},
		{Store: StorePostgres, Size: 0, Claim: claim(4)},
		{Store: StorePostgres, Size: goalSize, Records: goalSize, Claim: claim(9)},
		{Store: StoreConsul, Size: goalSize, Stopped: "not measured: too big"},
	}
	r.finish()
	if len(r.Goals) != 2 || r.Goals[0].Met == nil || !*r.Goals[0].Met || r.Goals[1].Met == nil || *r.Goals[1].Met {
		t.Fatalf("goals: %+v", r.Goals)
	}
	doc := "# Benchmarks\n\n" + bench.MarkBegin + "\nmake bench's\n" + bench.MarkEnd + "\n\n" + MarkBegin + "\nold\n" + MarkEnd + "\n\n## after\n"
	out, err := r.WriteDoc([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"make bench's", "## after", "| bolt | 10,000,000 |", "1.90x, met", "2.25x, not met",
		"| consul | 10,000,000 | not measured: too big |"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the document lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "\nold\n") || strings.Count(string(out), MarkBegin) != 1 {
		t.Errorf("the old section was not replaced:\n%s", out)
	}
}
