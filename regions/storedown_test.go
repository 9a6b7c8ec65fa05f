package regions

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// flakyRecords is a records store that can be taken down: every call then
// fails as a store that cannot be reached does.
type flakyRecords struct {
	Records
	down atomic.Bool
}

func (f *flakyRecords) err() error {
	if f.down.Load() {
		return fmt.Errorf("%w: connection refused", ErrRecordsUnavailable)
	}
	return nil
}

func (f *flakyRecords) Lookup(ctx context.Context, key string) (Record, error) {
	if err := f.err(); err != nil {
		return Record{}, err
	}
	return f.Records.Lookup(ctx, key)
}

func (f *flakyRecords) Claim(ctx context.Context, key string, at Placement) (Record, error) {
	if err := f.err(); err != nil {
		return Record{}, err
	}
	return f.Records.Claim(ctx, key, at)
}

func (f *flakyRecords) Move(ctx context.Context, key string, from Record, to Placement) (Record, error) {
	if err := f.err(); err != nil {
		return Record{}, err
	}
	return f.Records.Move(ctx, key, from, to)
}

func (f *flakyRecords) Release(ctx context.Context, key string, from Record) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Records.Release(ctx, key, from)
}

func (f *flakyRecords) Expire(ctx context.Context, key string, from Record, at time.Time) (Record, error) {
	if err := f.err(); err != nil {
		return Record{}, err
	}
	return f.Records.Expire(ctx, key, from, at)
}

// TestRecordsStoreDown: starts fail closed, nothing is sent; reads of
// workflows this gateway started or looked up answer from the placement
// cache, others are found by asking the regions; when the store is back
// everything works again without a restart.
func TestRecordsStoreDown(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	store := &flakyRecords{Records: m.records}
	m.records = store
	if _, err := m.Start(ctx, decision(eu, eu), startReq("wf-known")); err != nil {
		t.Fatal(err)
	}
	store.down.Store(true)

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

	store.down.Store(false)
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
	c.forget("hot")
	if _, ok := c.get("hot"); ok {
		t.Fatal("forgotten entry still there")
	}
}
