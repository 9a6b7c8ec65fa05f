package regions

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// recordStores lists every Records implementation; each must pass the same
// behaviour table.
func recordStores() []struct {
	name string
	open func(t *testing.T) Records
} {
	return []struct {
		name string
		open func(t *testing.T) Records
	}{
		{"memory", func(t *testing.T) Records { return NewMemoryRecords() }},
		{"bolt", func(t *testing.T) Records {
			b, err := OpenBoltRecords(filepath.Join(t.TempDir(), "records.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		}},
	}
}

func lookupRecord(t *testing.T, rs Records, id string) Record {
	t.Helper()
	rec, err := rs.Lookup(context.Background(), id)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", id, err)
	}
	return rec
}

// at is a region's placement in its own dev namespace.
func at(region string) Placement { return Placement{Region: region, Namespace: "dev-" + region} }

func mustClaim(t *testing.T, rs Records, id, region string) Record {
	t.Helper()
	rec, err := rs.Claim(context.Background(), id, at(region))
	if err != nil || rec.Region != region || rec.Version == 0 {
		t.Fatalf("claim %s for %s: %+v, %v", id, region, rec, err)
	}
	return rec
}

func TestRecordsBehaveAlike(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, rs Records)
	}{
		{"lookup of an unknown id is the zero record", func(t *testing.T, rs Records) {
			if got := lookupRecord(t, rs, "wf-unknown"); got != (Record{}) {
				t.Fatalf("got %+v, want the zero Record", got)
			}
		}},
		{"first claim wins and later claims see it", func(t *testing.T, rs Records) {
			first := mustClaim(t, rs, "wf-1", "us-east")
			for _, region := range []string{"eu-west", "us-east"} {
				got, err := rs.Claim(ctx, "wf-1", at(region))
				if !errors.Is(err, ErrRecordExists) || got != first {
					t.Fatalf("claim for %s: %+v, %v; want %+v, ErrRecordExists", region, got, err, first)
				}
			}
			if got := lookupRecord(t, rs, "wf-1"); got != first {
				t.Fatalf("lookup: %+v, want %+v", got, first)
			}
		}},
		{"claims of different ids are independent", func(t *testing.T, rs Records) {
			a := mustClaim(t, rs, "wf-a", "us-east")
			b := mustClaim(t, rs, "wf-b", "eu-west")
			if lookupRecord(t, rs, "wf-a") != a || lookupRecord(t, rs, "wf-b") != b {
				t.Fatal("records of different ids interfere")
			}
		}},
		{"versions never repeat", func(t *testing.T, rs Records) {
			seen := map[uint64]bool{}
			note := func(rec Record) {
				if rec.Version == 0 || seen[rec.Version] {
					t.Fatalf("version %d repeated or zero", rec.Version)
				}
				seen[rec.Version] = true
			}
			a := mustClaim(t, rs, "wf-a", "us-east")
			note(a)
			note(mustClaim(t, rs, "wf-b", "us-east"))
			moved, err := rs.Move(ctx, "wf-a", a, at("us-west"))
			if err != nil {
				t.Fatal(err)
			}
			note(moved)
			if err := rs.Release(ctx, "wf-a", moved); err != nil {
				t.Fatal(err)
			}
			note(mustClaim(t, rs, "wf-a", "us-east"))
		}},
		{"move from the current record succeeds", func(t *testing.T, rs Records) {
			from := mustClaim(t, rs, "wf-m", "us-east")
			to, err := rs.Move(ctx, "wf-m", from, at("us-west"))
			if err != nil || to.Region != "us-west" || to.Version == from.Version {
				t.Fatalf("move: %+v, %v", to, err)
			}
			if got := lookupRecord(t, rs, "wf-m"); got != to {
				t.Fatalf("after move: %+v, want %+v", got, to)
			}
			if got, err := rs.Claim(ctx, "wf-m", at("eu-west")); !errors.Is(err, ErrRecordExists) || got != to {
				t.Fatalf("claim after move: %+v, %v", got, err)
			}
		}},
		{"move to the same region takes a new version", func(t *testing.T, rs Records) {
			from := mustClaim(t, rs, "wf-same", "us-east")
			to, err := rs.Move(ctx, "wf-same", from, at("us-east"))
			if err != nil || to.Region != "us-east" || to.Version == from.Version {
				t.Fatalf("move: %+v, %v", to, err)
			}
			if _, err := rs.Move(ctx, "wf-same", from, at("us-west")); !errors.Is(err, ErrRecordChanged) {
				t.Fatalf("move from the old version: %v, want ErrRecordChanged", err)
			}
		}},
		{"move from a stale record is refused and changes nothing", func(t *testing.T, rs Records) {
			from := mustClaim(t, rs, "wf-s", "us-east")
			now, err := rs.Move(ctx, "wf-s", from, at("us-west"))
			if err != nil {
				t.Fatal(err)
			}
			stale := []Record{
				from, // an earlier version
				{Placement: at("eu-west"), Version: now.Version}, // the right version, another region
				{Placement: at("us-west"), Version: now.Version + 1},
				{}, // "there is no record"
			}
			for _, s := range stale {
				if _, err := rs.Move(ctx, "wf-s", s, at("eu-west")); !errors.Is(err, ErrRecordChanged) {
					t.Errorf("move from %+v: %v, want ErrRecordChanged", s, err)
				}
			}
			if got := lookupRecord(t, rs, "wf-s"); got != now {
				t.Fatalf("after refused moves: %+v, want %+v", got, now)
			}
		}},
		{"move of an unknown id is refused", func(t *testing.T, rs Records) {
			for _, from := range []Record{{}, {Placement: at("us-east"), Version: 1}} {
				if _, err := rs.Move(ctx, "wf-none", from, at("us-west")); !errors.Is(err, ErrRecordChanged) {
					t.Errorf("move from %+v: %v, want ErrRecordChanged", from, err)
				}
			}
			if got := lookupRecord(t, rs, "wf-none"); got != (Record{}) {
				t.Fatalf("refused move created a record: %+v", got)
			}
		}},
		{"release of the current record deletes it", func(t *testing.T, rs Records) {
			rec := mustClaim(t, rs, "wf-r", "us-east")
			if err := rs.Release(ctx, "wf-r", rec); err != nil {
				t.Fatalf("release: %v", err)
			}
			if got := lookupRecord(t, rs, "wf-r"); got != (Record{}) {
				t.Fatalf("after release: %+v", got)
			}
			if err := rs.Release(ctx, "wf-r", rec); !errors.Is(err, ErrRecordChanged) {
				t.Fatalf("second release: %v, want ErrRecordChanged", err)
			}
			mustClaim(t, rs, "wf-r", "eu-west")
		}},
		{"release of a stale record is refused", func(t *testing.T, rs Records) {
			from := mustClaim(t, rs, "wf-rs", "us-east")
			now, err := rs.Move(ctx, "wf-rs", from, at("us-east"))
			if err != nil {
				t.Fatal(err)
			}
			if err := rs.Release(ctx, "wf-rs", from); !errors.Is(err, ErrRecordChanged) {
				t.Fatalf("stale release: %v, want ErrRecordChanged", err)
			}
			if got := lookupRecord(t, rs, "wf-rs"); got != now {
				t.Fatalf("after refused release: %+v, want %+v", got, now)
			}
		}},
	}
	for _, store := range recordStores() {
		for _, tt := range tests {
			t.Run(store.name+"/"+tt.name, func(t *testing.T) { tt.run(t, store.open(t)) })
		}
	}
}

// race runs f(i) for i in [0,n) from n goroutines released together.
func race(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}

// TestRecordsConcurrentClaimsHaveOneWinner: Claim is a compare-and-set, so
// of many racing claims exactly one wins and every loser is told the winner.
func TestRecordsConcurrentClaimsHaveOneWinner(t *testing.T) {
	const n = 64
	for _, store := range recordStores() {
		t.Run(store.name, func(t *testing.T) {
			rs := store.open(t)
			got := make([]Record, n)
			errs := make([]error, n)
			race(n, func(i int) {
				got[i], errs[i] = rs.Claim(context.Background(), "wf-race", at(fmt.Sprintf("region-%d", i)))
			})
			winner := lookupRecord(t, rs, "wf-race")
			wins := 0
			for i := range n {
				switch {
				case errs[i] == nil:
					wins++
					if got[i] != winner || winner.Region != fmt.Sprintf("region-%d", i) {
						t.Errorf("winning claim %d returned %+v; the record is %+v", i, got[i], winner)
					}
				case errors.Is(errs[i], ErrRecordExists):
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
		})
	}
}

// TestRecordsConcurrentMovesHaveOneWinner: of many moves from the same
// record only one may succeed.
func TestRecordsConcurrentMovesHaveOneWinner(t *testing.T) {
	const n = 64
	for _, store := range recordStores() {
		t.Run(store.name, func(t *testing.T) {
			rs := store.open(t)
			from := mustClaim(t, rs, "wf-move", "home")
			got := make([]Record, n)
			errs := make([]error, n)
			race(n, func(i int) {
				got[i], errs[i] = rs.Move(context.Background(), "wf-move", from, at(fmt.Sprintf("region-%d", i)))
			})
			final := lookupRecord(t, rs, "wf-move")
			wins := 0
			for i := range n {
				switch {
				case errs[i] == nil:
					wins++
					if got[i] != final {
						t.Errorf("move %d won with %+v but the record is %+v", i, got[i], final)
					}
				case !errors.Is(errs[i], ErrRecordChanged):
					t.Errorf("move %d: %v", i, errs[i])
				}
			}
			if wins != 1 {
				t.Fatalf("%d moves won, want exactly 1", wins)
			}
		})
	}
}

func TestBoltRecordsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "records.db")
	first, err := OpenBoltRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	a := mustClaim(t, first, "wf-a", "us-east")
	b := mustClaim(t, first, "wf-b", "eu-west")
	b, err = first.Move(ctx, "wf-b", b, at("eu-central"))
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second, err := OpenBoltRecords(path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer second.Close()
	for id, want := range map[string]Record{"wf-a": a, "wf-b": b, "wf-c": {}} {
		if got := lookupRecord(t, second, id); got != want {
			t.Errorf("after restart, %s -> %+v, want %+v", id, got, want)
		}
	}
	if got, err := second.Claim(ctx, "wf-a", at("us-west")); !errors.Is(err, ErrRecordExists) || got != a {
		t.Errorf("claim after restart: %+v, %v; want %+v, ErrRecordExists", got, err, a)
	}
	if c := mustClaim(t, second, "wf-c", "us-east"); c.Version <= b.Version {
		t.Errorf("version %d after restart reuses or precedes %d", c.Version, b.Version)
	}
}

// TestBoltRecordsReadLegacyRecords: files written before records had
// versions hold just the region; they read as version 1 and can be moved.
func TestBoltRecordsReadLegacyRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(recordsBucket)
		if err != nil {
			return err
		}
		return bk.Put([]byte("wf-old"), []byte("us-east"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	rs, err := OpenBoltRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	old := lookupRecord(t, rs, "wf-old")
	if want := (Record{Placement: Placement{Region: "us-east"}, Version: 1}); old != want {
		t.Fatalf("legacy record reads as %+v, want %+v", old, want)
	}
	moved, err := rs.Move(context.Background(), "wf-old", old, at("us-west"))
	if err != nil || moved.Version == 1 {
		t.Fatalf("moving a legacy record: %+v, %v", moved, err)
	}
	if fresh := mustClaim(t, rs, "wf-new", "us-east"); fresh.Version == 1 {
		t.Fatal("a new record got the legacy version 1")
	}
}

// TestBoltRecordsFileIsHeldExclusively: a second gateway must not open the
// same records file while the first has it (it waits a second, then fails).
func TestBoltRecordsFileIsHeldExclusively(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	first, err := OpenBoltRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := OpenBoltRecords(path)
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("a second OpenBoltRecords of an open file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name the file", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := OpenBoltRecords(path)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	third.Close()
}
