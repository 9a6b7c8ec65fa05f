package regions

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

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

// TestBoltSweepResumesWhereItStopped: expiredFrom goes on from the key
// after the last batch and round the key space once, so removing a
// backlog in batches reads every key once rather than from the first key
// for every batch.
func TestBoltSweepResumesWhereItStopped(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "r.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Unix(1_000_000, 0)
	err = db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucket(recordsBucket)
		if err != nil {
			return err
		}
		for i := range 20 { // k00 .. k19; the odd ones expired
			rec := Record{Placement: Placement{Region: "r"}, Version: 1}
			if i%2 == 1 {
				rec.Expires = now.Unix() - 1
			}
			if err := bk.Put(fmt.Appendf(nil, "k%02d", i), encodeRecord(rec)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		from     string // "": the first key
		limit    int
		wantKeys string
		wantNext string // "": round the key space
	}{
		{"from the first, stopped by the limit", "", 3, "k01 k03 k05", "k06"},
		{"on from the last batch, round to the start", "k06", 100, "k01 k03 k05 k07 k09 k11 k13 k15 k17 k19", ""},
		{"wraps to the first key, stops at the limit", "k18", 2, "k01 k19", "k02"},
		{"from an expired key itself", "k05", 1, "k05", "k06"},
		{"the last key: next is the end, then the start", "k19", 1, "k19", ""},
	} {
		var found map[string]Record
		var next []byte
		_ = db.View(func(tx *bolt.Tx) error {
			var from []byte
			if tc.from != "" {
				from = []byte(tc.from)
			}
			found, next = expiredFrom(tx.Bucket(recordsBucket).Cursor(), from, now, tc.limit)
			return nil
		})
		keys := slices.Sorted(maps.Keys(found))
		if got := strings.Join(keys, " "); got != tc.wantKeys || string(next) != tc.wantNext {
			t.Errorf("%s: found %q, next %q; want %q, %q", tc.name, got, next, tc.wantKeys, tc.wantNext)
		}
	}
}

// TestBoltRemoveExpiredInBatches: a backlog removed in batches of a few
// is removed in full, the records that have not expired kept.
func TestBoltRemoveExpiredInBatches(t *testing.T) {
	rs, err := OpenBoltRecords(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	ctx := context.Background()
	now := time.Now()
	for i := range 200 {
		key := fmt.Sprintf("%064x", i*7919)
		rec, err := rs.Claim(ctx, key, Placement{Region: "r", Namespace: "n"})
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if _, err := rs.Expire(ctx, key, rec, now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	removed := 0
	for batches := 0; ; batches++ {
		if batches > 100 {
			t.Fatal("RemoveExpired never returned fewer than its limit")
		}
		n, err := rs.RemoveExpired(ctx, now, 7)
		if err != nil {
			t.Fatal(err)
		}
		removed += n
		if n < 7 {
			break
		}
	}
	left, _ := rs.Count(ctx)
	if removed != 50 || left != 150 {
		t.Fatalf("removed %d, %d left; want 50 removed, 150 left", removed, left)
	}
}
