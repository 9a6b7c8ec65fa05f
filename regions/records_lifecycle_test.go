package regions_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/regiongate/regiongate/regions"
)

// casesLifecycle: expiry and its removal, part of the conformance suite.
var casesLifecycle = []conformanceCase{
	{name: "expire sets the expiry with a new version, and move keeps it", run: func(t *testing.T, s *openStore) {
		rec := claim(t, s, "wf-e", "eu-west")
		when := time.Unix(2_000_000_000, 0)
		exp, err := s.Expire(ctx, "wf-e", rec, when)
		if err != nil || exp.Expires != when.Unix() || exp.Version == rec.Version || exp.Placement != rec.Placement {
			t.Fatalf("expire: %+v, %v", exp, err)
		}
		if got := lookup(t, s, "wf-e"); got != exp {
			t.Fatalf("lookup: %+v, want %+v", got, exp)
		}
		again, err := s.Expire(ctx, "wf-e", exp, when)
		if err != nil || again != exp {
			t.Fatalf("the same expiry again: %+v, %v; want %+v unchanged", again, err, exp)
		}
		if _, err := s.Expire(ctx, "wf-e", rec, when.Add(time.Hour)); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("expire from a stale record: %v", err)
		}
		if _, err := s.Expire(ctx, "wf-e", rec, when); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("expire from a stale record, same time: %v", err)
		}
		pinned, err := s.Move(ctx, "wf-e", exp, exp.Placement)
		if err != nil || pinned.Expires != exp.Expires {
			t.Fatalf("move: %+v, %v; want the expiry kept", pinned, err)
		}
		if _, err := s.Expire(ctx, "wf-none", regions.Record{}, when); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("expire of no record: %v", err)
		}
	}},
	{name: "remove expired deletes only what has expired", run: func(t *testing.T, s *openStore) {
		now := time.Now()
		past := claim(t, s, "wf-past", "eu-west")
		if _, err := s.Expire(ctx, "wf-past", past, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		future := claim(t, s, "wf-future", "eu-west")
		future, err := s.Expire(ctx, "wf-future", future, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		running := claim(t, s, "wf-running", "eu-west")
		n, err := s.RemoveExpired(ctx, now, 100)
		if err != nil || n != 1 {
			t.Fatalf("removed %d, %v; want 1", n, err)
		}
		if got := lookup(t, s, "wf-past"); got != (regions.Record{}) {
			t.Fatalf("expired record still there: %+v", got)
		}
		if lookup(t, s, "wf-future") != future || lookup(t, s, "wf-running") != running {
			t.Fatal("a record that has not expired was removed")
		}
		if got := count(t, s); got != 2 {
			t.Fatalf("count %d, want 2", got)
		}
		if n, err := s.RemoveExpired(ctx, now.Add(2*time.Hour), 100); err != nil || n != 1 {
			t.Fatalf("later: removed %d, %v; want 1", n, err)
		}
	}},
	{name: "remove expired works in batches of at most limit", run: func(t *testing.T, s *openStore) {
		now := time.Now()
		for i := range 5 {
			key := fmt.Sprintf("wf-%d", i)
			if _, err := s.Expire(ctx, key, claim(t, s, key, "eu-west"), now.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		var batches []int
		for range 4 {
			n, err := s.RemoveExpired(ctx, now, 2)
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, n)
		}
		if fmt.Sprint(batches) != "[2 2 1 0]" {
			t.Fatalf("batches %v, want [2 2 1 0]", batches)
		}
		if got := count(t, s); got != 0 {
			t.Fatalf("count %d, want 0", got)
		}
	}},
	{name: "expiry survives a reopen", needs: "reopen", run: func(t *testing.T, s *openStore) {
		exp, err := s.Expire(ctx, "wf-e", claim(t, s, "wf-e", "eu-west"), time.Unix(2_000_000_000, 0))
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, s.reopen(t), "wf-e"); got != exp {
			t.Fatalf("after reopen: %+v, want %+v", got, exp)
		}
	}},
}
