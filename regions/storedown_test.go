package regions

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"
)

// flakyRecords is a records store that can be taken down (every call
// fails as a store that cannot be reached does) or made read-only (writes
// fail, as a bbolt file that cannot be written does), and whose store can
// be swapped.
type flakyRecords struct {
	store    atomic.Pointer[Records]
	down     atomic.Bool
	readOnly atomic.Bool
}

// FlakyRecords is flakyRecords for the tests of package regions_test.
type FlakyRecords = flakyRecords

func newFlakyRecords(rs Records) *flakyRecords {
	f := &flakyRecords{}
	f.Use(rs)
	return f
}

// NewFlakyRecords is newFlakyRecords for package regions_test.
var NewFlakyRecords = newFlakyRecords

// Use swaps the store behind it.
func (f *flakyRecords) Use(rs Records) { f.store.Store(&rs) }

// SetDown takes the store down (true) or brings it back.
func (f *flakyRecords) SetDown(down bool) { f.down.Store(down) }

// SetReadOnly makes writes fail (true) or work again.
func (f *flakyRecords) SetReadOnly(ro bool) { f.readOnly.Store(ro) }

func (f *flakyRecords) rs() Records { return *f.store.Load() }

func (f *flakyRecords) err(write bool) error {
	switch {
	case f.down.Load():
		return fmt.Errorf("%w: connection refused", ErrRecordsUnavailable)
	case write && f.readOnly.Load():
		return fmt.Errorf("%w: %w", ErrRecordsUnavailable, bolterrors.ErrDatabaseReadOnly)
	}
	return nil
}

func (f *flakyRecords) Lookup(ctx context.Context, key string) (Record, error) {
	if err := f.err(false); err != nil {
		return Record{}, err
	}
	return f.rs().Lookup(ctx, key)
}

func (f *flakyRecords) Claim(ctx context.Context, key string, at Placement) (Record, error) {
	if err := f.err(true); err != nil {
		return Record{}, err
	}
	return f.rs().Claim(ctx, key, at)
}

func (f *flakyRecords) Move(ctx context.Context, key string, from Record, to Placement) (Record, error) {
	if err := f.err(true); err != nil {
		return Record{}, err
	}
	return f.rs().Move(ctx, key, from, to)
}

func (f *flakyRecords) Release(ctx context.Context, key string, from Record) error {
	if err := f.err(true); err != nil {
		return err
	}
	return f.rs().Release(ctx, key, from)
}

func (f *flakyRecords) Expire(ctx context.Context, key string, from Record, at time.Time) (Record, error) {
	if err := f.err(true); err != nil {
		return Record{}, err
	}
	return f.rs().Expire(ctx, key, from, at)
}

func (f *flakyRecords) RemoveExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := f.err(true); err != nil {
		return 0, err
	}
	return f.rs().RemoveExpired(ctx, now, limit)
}

func (f *flakyRecords) Count(ctx context.Context) (int, error) {
	if err := f.err(false); err != nil {
		return 0, err
	}
	return f.rs().Count(ctx)
}

// TestRecordsStoreDown: starts fail closed, nothing is sent; reads of
// workflows this gateway started or looked up answer from the placement
// cache, others are found by asking the regions; when the store is back
// everything works again without a restart.
func TestRecordsStoreDown(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	store := newFlakyRecords(m.records)
	m.records = store
	if _, err := m.Start(ctx, decision(eu, eu), startReq("wf-known")); err != nil {
		t.Fatal(err)
	}
	store.SetDown(true)

	_, err := m.Start(ctx, decision(eu, eu), startReq("wf-new"))
	if !errors.Is(err, ErrRecordsUnavailable) || errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("start while the store is down: %v, want ErrRecordsUnavailable", err)
	}
	if got := fakes["eu-west"].calls(); len(got) != 1 || len(fakes["eu-central"].calls()) != 0 {
		t.Fatalf("starts sent while the store was down: eu-west %v, eu-central %v", got, fakes["eu-central"].calls())
	}

	loc, err := m.Locate(ctx, "wf-known", nil)
	if err != nil || loc.Region.Name() != "eu-west" || loc.Namespace != "ns-eu-west" {
		t.Fatalf("locate a workflow this gateway started: %+v, %v", loc, err)
	}
	if n := len(fakes["eu-west"].described()) + len(fakes["eu-central"].described()); n != 0 {
		t.Fatalf("the regions were asked %d times for a cached placement", n)
	}
	fakes["eu-central"].setDescribe(accept) // it holds wf-other, started by another replica
	loc, err = m.Locate(ctx, "wf-other", nil)
	if err != nil || loc.Region.Name() != "eu-central" {
		t.Fatalf("locate a workflow this gateway never saw: %+v, %v", loc, err)
	}
	fakes["eu-central"].setDescribe(nil)
	if _, err := m.Locate(ctx, "wf-nowhere", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("locate an id no region has: %v, want ErrNotFound", err)
	}

	store.SetDown(false)
	s, err := m.Start(ctx, decision(eu, eu), startReq("wf-new"))
	if err != nil || s.Region != "eu-west" {
		t.Fatalf("start once the store is back: %+v, %v", s, err)
	}
	if got := recordOf(t, m, "wf-new"); got != "eu-west" {
		t.Fatalf("record %q after recovery", got)
	}
}

// TestPlacementCacheIsBounded: it never holds more than its size, and a
// placement read again survives a turn of generations.
func TestPlacementCacheIsBounded(t *testing.T) {
	c := newPlacementCache(100)
	c.put("hot", Placement{Region: "eu-west"})
	for i := range 1000 {
		c.put(fmt.Sprint(i), Placement{Region: "eu-west"})
		if _, ok := c.get("hot"); !ok {
			t.Fatalf("hot entry lost after %d puts", i)
		}
		if c.len() > 100 {
			t.Fatalf("%d entries, size 100", c.len())
		}
	}
	if _, ok := c.get("0"); ok {
		t.Fatal("the oldest entry is still there")
	}
}
