package regions

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
