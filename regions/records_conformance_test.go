package regions_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/regiongate/regiongate/regions"
)

// TestRecordsConformance runs one table of behaviours against every
// Records implementation: memory, bbolt, Consul (a real agent) and
// PostgreSQL (a real server).
func TestRecordsConformance(t *testing.T) {
	for _, store := range recordStores() {
		t.Run(store.name, func(t *testing.T) {
			for _, c := range conformance {
				t.Run(c.name, func(t *testing.T) {
					s := store.open(t)
					switch {
					case c.needs == "reopen" && s.reopen == nil:
						t.Skip("the store keeps nothing across a reopen")
					case c.needs == "broken":
						if store.broken == nil {
							t.Skip("the store cannot fail")
						}
						s.Records = store.broken(t)
					}
					c.run(t, s)
				})
			}
		})
	}
}

var ctx = context.Background()

// at is a region's placement in its own dev namespace.
func at(region string) regions.Placement {
	return regions.Placement{Region: region, Namespace: "dev-" + region}
}

func lookup(t *testing.T, rs regions.Records, key string) regions.Record {
	t.Helper()
	rec, err := rs.Lookup(ctx, key)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", key, err)
	}
	return rec
}

func claim(t *testing.T, rs regions.Records, key, region string) regions.Record {
	t.Helper()
	rec, err := rs.Claim(ctx, key, at(region))
	if err != nil || rec.Region != region || rec.Version == 0 {
		t.Fatalf("claim %s for %s: %+v, %v", key, region, rec, err)
	}
	return rec
}

func count(t *testing.T, rs regions.Records) int {
	t.Helper()
	n, err := rs.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type conformanceCase struct {
	name  string
	needs string // "reopen", "broken" or ""
	run   func(t *testing.T, s *openStore)
}

var conformance = append(append(casesClaimMoveRelease, casesConcurrency...), casesLifecycle...)

var casesClaimMoveRelease = []conformanceCase{
	{name: "lookup of an unknown key is the zero record", run: func(t *testing.T, s *openStore) {
		if got := lookup(t, s, "wf-unknown"); got != (regions.Record{}) {
			t.Fatalf("got %+v, want the zero Record", got)
		}
	}},
	{name: "first claim wins and later claims see it", run: func(t *testing.T, s *openStore) {
		first := claim(t, s, "wf-1", "us-east")
		for _, region := range []string{"eu-west", "us-east"} {
			got, err := s.Claim(ctx, "wf-1", at(region))
			if !errors.Is(err, regions.ErrRecordExists) || got != first {
				t.Fatalf("claim for %s: %+v, %v; want %+v, ErrRecordExists", region, got, err, first)
			}
		}
		if got := lookup(t, s, "wf-1"); got != first {
			t.Fatalf("lookup: %+v, want %+v", got, first)
		}
	}},
	{name: "claims of different keys are independent", run: func(t *testing.T, s *openStore) {
		a := claim(t, s, "wf-a", "us-east")
		b := claim(t, s, "wf-b", "eu-west")
		if lookup(t, s, "wf-a") != a || lookup(t, s, "wf-b") != b {
			t.Fatal("records of different keys interfere")
		}
	}},
	{name: "keys may hold any character a workflow id may", run: func(t *testing.T, s *openStore) {
		for _, key := range []string{"order/42 with spaces", "acme:a%2Fb?c#d", "ünïcode/..", "\x01regiongate-store"} {
			rec := claim(t, s, key, "eu-west")
			if got := lookup(t, s, key); got != rec {
				t.Fatalf("%q: %+v, want %+v", key, got, rec)
			}
		}
	}},
	{name: "versions never repeat", run: func(t *testing.T, s *openStore) {
		seen := map[uint64]bool{}
		note := func(rec regions.Record) {
			if rec.Version == 0 || seen[rec.Version] {
				t.Fatalf("version %d repeated or zero", rec.Version)
			}
			seen[rec.Version] = true
		}
		a := claim(t, s, "wf-a", "us-east")
		note(a)
		note(claim(t, s, "wf-b", "us-east"))
		moved, err := s.Move(ctx, "wf-a", a, at("us-west"))
		if err != nil {
			t.Fatal(err)
		}
		note(moved)
		expiring, err := s.Expire(ctx, "wf-a", moved, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		note(expiring)
		if err := s.Release(ctx, "wf-a", expiring); err != nil {
			t.Fatal(err)
		}
		note(claim(t, s, "wf-a", "us-east"))
	}},
	{name: "move from the current record succeeds", run: func(t *testing.T, s *openStore) {
		from := claim(t, s, "wf-m", "us-east")
		to, err := s.Move(ctx, "wf-m", from, at("us-west"))
		if err != nil || to.Region != "us-west" || to.Version == from.Version {
			t.Fatalf("move: %+v, %v", to, err)
		}
		if got := lookup(t, s, "wf-m"); got != to {
			t.Fatalf("after move: %+v, want %+v", got, to)
		}
		if got, err := s.Claim(ctx, "wf-m", at("eu-west")); !errors.Is(err, regions.ErrRecordExists) || got != to {
			t.Fatalf("claim after move: %+v, %v", got, err)
		}
	}},
	{name: "move to the same region takes a new version", run: func(t *testing.T, s *openStore) {
		from := claim(t, s, "wf-same", "us-east")
		to, err := s.Move(ctx, "wf-same", from, at("us-east"))
		if err != nil || to.Region != "us-east" || to.Version == from.Version {
			t.Fatalf("move: %+v, %v", to, err)
		}
		if _, err := s.Move(ctx, "wf-same", from, at("us-west")); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("move from the old version: %v, want ErrRecordChanged", err)
		}
	}},
	{name: "move from a stale record is refused and changes nothing", run: func(t *testing.T, s *openStore) {
		from := claim(t, s, "wf-s", "us-east")
		now, err := s.Move(ctx, "wf-s", from, at("us-west"))
		if err != nil {
			t.Fatal(err)
		}
		stale := []regions.Record{
			from, // an earlier version
			{Placement: at("us-west"), Version: now.Version + 1},
			{}, // "there is no record"
		}
		if !s.versionNamesAWrite {
			stale = append(stale,
				regions.Record{Placement: at("eu-west"), Version: now.Version},             // the right version, another region
				regions.Record{Placement: now.Placement, Version: now.Version, Expires: 1}) // another expiry
		}
		for _, st := range stale {
			if _, err := s.Move(ctx, "wf-s", st, at("eu-west")); !errors.Is(err, regions.ErrRecordChanged) {
				t.Errorf("move from %+v: %v, want ErrRecordChanged", st, err)
			}
		}
		if got := lookup(t, s, "wf-s"); got != now {
			t.Fatalf("after refused moves: %+v, want %+v", got, now)
		}
	}},
	{name: "move of an unknown key is refused", run: func(t *testing.T, s *openStore) {
		for _, from := range []regions.Record{{}, {Placement: at("us-east"), Version: 1}} {
			if _, err := s.Move(ctx, "wf-none", from, at("us-west")); !errors.Is(err, regions.ErrRecordChanged) {
				t.Errorf("move from %+v: %v, want ErrRecordChanged", from, err)
			}
		}
		if got := lookup(t, s, "wf-none"); got != (regions.Record{}) {
			t.Fatalf("refused move created a record: %+v", got)
		}
	}},
	{name: "release of the current record deletes it", run: func(t *testing.T, s *openStore) {
		rec := claim(t, s, "wf-r", "us-east")
		if err := s.Release(ctx, "wf-r", rec); err != nil {
			t.Fatalf("release: %v", err)
		}
		if got := lookup(t, s, "wf-r"); got != (regions.Record{}) {
			t.Fatalf("after release: %+v", got)
		}
		if err := s.Release(ctx, "wf-r", rec); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("second release: %v, want ErrRecordChanged", err)
		}
		claim(t, s, "wf-r", "eu-west")
	}},
	{name: "release of a stale record is refused", run: func(t *testing.T, s *openStore) {
		from := claim(t, s, "wf-rs", "us-east")
		now, err := s.Move(ctx, "wf-rs", from, at("us-east"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, "wf-rs", from); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("stale release: %v, want ErrRecordChanged", err)
		}
		if err := s.Release(ctx, "wf-rs", regions.Record{}); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("release of the zero record: %v, want ErrRecordChanged", err)
		}
		if got := lookup(t, s, "wf-rs"); got != now {
			t.Fatalf("after refused release: %+v, want %+v", got, now)
		}
	}},
	{name: "records survive a reopen and versions go on from there", needs: "reopen", run: func(t *testing.T, s *openStore) {
		a := claim(t, s, "wf-a", "us-east")
		b := claim(t, s, "wf-b", "eu-west")
		b, err := s.Move(ctx, "wf-b", b, at("eu-central"))
		if err != nil {
			t.Fatal(err)
		}
		second := s.reopen(t)
		for key, want := range map[string]regions.Record{"wf-a": a, "wf-b": b, "wf-c": {}} {
			if got := lookup(t, second, key); got != want {
				t.Errorf("after reopen, %s -> %+v, want %+v", key, got, want)
			}
		}
		if got, err := second.Claim(ctx, "wf-a", at("us-west")); !errors.Is(err, regions.ErrRecordExists) || got != a {
			t.Errorf("claim after reopen: %+v, %v; want %+v, ErrRecordExists", got, err, a)
		}
		if c := claim(t, second, "wf-c", "us-east"); c.Version <= b.Version {
			t.Errorf("version %d after reopen reuses or precedes %d", c.Version, b.Version)
		}
	}},
	{name: "a failing store wraps ErrRecordsUnavailable in every call", needs: "broken", run: func(t *testing.T, s *openStore) {
		rec := regions.Record{Placement: at("eu-west"), Version: 7}
		_, lookupErr := s.Lookup(ctx, "wf-x")
		_, claimErr := s.Claim(ctx, "wf-x", at("eu-west"))
		_, moveErr := s.Move(ctx, "wf-x", rec, at("eu-central"))
		_, expireErr := s.Expire(ctx, "wf-x", rec, time.Now())
		_, removeErr := s.RemoveExpired(ctx, time.Now(), 10)
		_, countErr := s.Count(ctx)
		for what, err := range map[string]error{"lookup": lookupErr, "claim": claimErr, "move": moveErr,
			"release": s.Release(ctx, "wf-x", rec), "expire": expireErr, "remove expired": removeErr, "count": countErr} {
			if !errors.Is(err, regions.ErrRecordsUnavailable) {
				t.Errorf("%s: %v, want ErrRecordsUnavailable", what, err)
			}
		}
	}},
}

// replicas returns n handles on s: every other one a second replica's
// client where the store is shared.
func replicas(t *testing.T, s *openStore) [2]regions.Records {
	if s.replica == nil {
		return [2]regions.Records{s, s}
	}
	return [2]regions.Records{s, s.replica(t)}
}

// race runs f(i) for i in [0,n) from n goroutines released together.
func race(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

var casesConcurrency = []conformanceCase{
	// Claim is a compare-and-set: of many racing claims (from two
	// replicas where the store is shared) exactly one wins and every loser
	// is told the winner.
	{name: "concurrent claims have one winner", run: func(t *testing.T, s *openStore) {
		const n = 64
		rs := replicas(t, s)
		got := make([]regions.Record, n)
		errs := make([]error, n)
		race(n, func(i int) {
			got[i], errs[i] = rs[i%2].Claim(ctx, "wf-race", at(fmt.Sprintf("region-%d", i)))
		})
		winner := lookup(t, rs[1], "wf-race")
		wins := 0
		for i := range n {
			switch {
			case errs[i] == nil:
				wins++
				if got[i] != winner || winner.Region != fmt.Sprintf("region-%d", i) {
					t.Errorf("winning claim %d returned %+v; the record is %+v", i, got[i], winner)
				}
			case errors.Is(errs[i], regions.ErrRecordExists):
				if got[i] != winner {
					t.Errorf("losing claim %d was told %+v; the record is %+v", i, got[i], winner)
				}
			default:
				t.Errorf("claim %d: %v", i, errs[i])
			}
		}
		if wins != 1 {
			t.Fatalf("%d claims won, want exactly 1", wins)
		}
	}},
	// Of many moves from the same record only one may succeed.
	{name: "concurrent moves have one winner", run: func(t *testing.T, s *openStore) {
		const n = 64
		rs := replicas(t, s)
		from := claim(t, s, "wf-move", "home")
		got := make([]regions.Record, n)
		errs := make([]error, n)
		race(n, func(i int) {
			got[i], errs[i] = rs[i%2].Move(ctx, "wf-move", from, at(fmt.Sprintf("region-%d", i)))
		})
		final := lookup(t, s, "wf-move")
		wins := 0
		for i := range n {
			switch {
			case errs[i] == nil:
				wins++
				if got[i] != final {
					t.Errorf("move %d won with %+v but the record is %+v", i, got[i], final)
				}
			case !errors.Is(errs[i], regions.ErrRecordChanged):
				t.Errorf("move %d: %v", i, errs[i])
			}
		}
		if wins != 1 {
			t.Fatalf("%d moves won, want exactly 1", wins)
		}
	}},
	// What one replica writes, the other's compare-and-set sees.
	{name: "move and release are compare-and-set across replicas", run: func(t *testing.T, s *openStore) {
		rs := replicas(t, s)
		rec := claim(t, rs[0], "wf-move", "eu-west")
		moved, err := rs[1].Move(ctx, "wf-move", rec, at("eu-central"))
		if err != nil || moved.Region != "eu-central" || moved.Version == rec.Version {
			t.Fatalf("move: %v %v", moved, err)
		}
		if _, err := rs[0].Move(ctx, "wf-move", rec, at("us-east")); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("a stale move must fail: %v", err)
		}
		if err := rs[0].Release(ctx, "wf-move", rec); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("a stale release must fail: %v", err)
		}
		if err := rs[0].Release(ctx, "wf-move", moved); err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, rs[1], "wf-move"); got != (regions.Record{}) {
			t.Fatalf("released record still there: %v", got)
		}
	}},
	// Concurrent claims of different keys each get their own version.
	{name: "concurrent claims of different keys all land", run: func(t *testing.T, s *openStore) {
		const n = 32
		rs := replicas(t, s)
		recs := make([]regions.Record, n)
		errs := make([]error, n)
		race(n, func(i int) { recs[i], errs[i] = rs[i%2].Claim(ctx, fmt.Sprintf("wf-%d", i), at("eu-west")) })
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		seen := map[uint64]bool{}
		for i, r := range recs {
			if seen[r.Version] {
				t.Fatalf("version %d handed out twice", r.Version)
			}
			seen[r.Version] = true
			if got := lookup(t, s, fmt.Sprintf("wf-%d", i)); got != r {
				t.Errorf("wf-%d: %+v, want %+v", i, got, r)
			}
		}
		if got := count(t, s); got != n {
			t.Fatalf("count %d, want %d", got, n)
		}
	}},
}
