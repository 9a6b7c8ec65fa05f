package regions

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

func openGroupCommit(t *testing.T) (*BoltRecords, *groupCommit) {
	t.Helper()
	rs, err := OpenBoltRecords(filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return rs, rs.writes
}

// lastTx is the id of the newest committed transaction.
func lastTx(t *testing.T, db *bolt.DB) int {
	t.Helper()
	var id int
	if err := db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

func queued(fn func(*bolt.Bucket) error) *write {
	return &write{fn: fn, done: make(chan error, 1)}
}

func put(key string) func(*bolt.Bucket) error {
	return func(bk *bolt.Bucket) error { return bk.Put([]byte(key), []byte("eu-west 7")) }
}

// TestGroupCommitOneBadWriteKeepsTheOthers: a batch is one transaction;
// a write that fails gets its error and the rest are committed without it.
func TestGroupCommitOneBadWriteKeepsTheOthers(t *testing.T) {
	rs, g := openGroupCommit(t)
	boom := errors.New("boom")
	batch := []*write{
		queued(put("wf-1")),
		queued(func(bk *bolt.Bucket) error {
			if err := bk.Put([]byte("wf-bad"), []byte("x")); err != nil {
				return err
			}
			return boom
		}),
		queued(func(*bolt.Bucket) error { return ErrRecordExists }),
		queued(put("wf-2")),
	}
	before := lastTx(t, rs.db)
	g.commit(batch)
	want := []error{nil, boom, ErrRecordExists, nil}
	for i, w := range batch {
		if err := <-w.done; !errors.Is(err, want[i]) || (want[i] == nil && err != nil) {
			t.Errorf("write %d: %v, want %v", i, err, want[i])
		}
	}
	if got := lastTx(t, rs.db); got != before+1 {
		t.Errorf("%d commits, want 1 (the failed attempt rolled back)", got-before)
	}
	for key, want := range map[string]bool{"wf-1": true, "wf-2": true, "wf-bad": false} {
		if got := lookupRecord(t, rs, key).Region != ""; got != want {
			t.Errorf("%s stored: %v, want %v", key, got, want)
		}
	}
}

// TestGroupCommitAnswersOnlyCommitNothing: a batch whose writes all
// answered "exists" or "changed" wrote nothing and costs no commit.
func TestGroupCommitAnswersOnlyCommitNothing(t *testing.T) {
	rs, g := openGroupCommit(t)
	before := lastTx(t, rs.db)
	batch := []*write{
		queued(func(*bolt.Bucket) error { return ErrRecordExists }),
		queued(func(*bolt.Bucket) error { return ErrRecordChanged }),
	}
	g.commit(batch)
	if err := <-batch[0].done; !errors.Is(err, ErrRecordExists) {
		t.Errorf("first: %v", err)
	}
	if err := <-batch[1].done; !errors.Is(err, ErrRecordChanged) {
		t.Errorf("second: %v", err)
	}
	if got := lastTx(t, rs.db); got != before {
		t.Errorf("%d commits for a batch that changed nothing", got-before)
	}
}

// TestGroupCommitConcurrentClaimsAllDurable: claims from many goroutines
// at once each get their own version and are all there after a reopen.
func TestGroupCommitConcurrentClaimsAllDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	rs, err := OpenBoltRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	recs := make([]Record, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			recs[i], errs[i] = rs.Claim(context.Background(), "wf-"+strconv.Itoa(i), at("eu-west"))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, r := range recs {
		if seen[r.Version] {
			t.Fatalf("version %d handed out twice", r.Version)
		}
		seen[r.Version] = true
	}
	again, err := OpenBoltRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for i, want := range recs {
		if got := lookupRecord(t, again, "wf-"+strconv.Itoa(i)); got != want {
			t.Errorf("wf-%d after reopen: %+v, want %+v", i, got, want)
		}
	}
}

// TestGroupCommitSharesACommit: writes that arrive while a commit is in
// progress go to disk together in the next one, not one commit each.
func TestGroupCommitSharesACommit(t *testing.T) {
	rs, g := openGroupCommit(t)
	before := lastTx(t, rs.db)
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.do(func(bk *bolt.Bucket) error {
			<-release // hold the first commit open
			return put("wf-first")(bk)
		})
	}()
	poll.Until(t, 10*time.Second, "the first commit to start", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.busy && len(g.queue) == 0
	})
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- g.do(put("wf-" + strconv.Itoa(i))) }()
	}
	poll.Until(t, 10*time.Second, "the writes to queue behind it", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.queue) == n
	})
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := lastTx(t, rs.db) - before; got != 2 {
		t.Fatalf("%d commits for 1 + %d writes, want 2", got, n)
	}
}
