package audit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/base/audit"
)

func entries() []audit.Entry {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return []audit.Entry{
		{Time: t0, Actor: "dev-compliance", Action: "config.replace", Target: "abc", Detail: "1 route changed"},
		{Time: t0.Add(time.Second), Actor: "dev-operator", Action: "region.drain", Target: "eu-west"},
		{Time: t0.Add(time.Second), Actor: "dev-operator", Action: "region.restore", Target: "eu-west"},
	}
}

// checkStore appends entries through one store and reads them through
// another over the same place: what a restarted gateway or another replica
// sees.
func checkStore(t *testing.T, write, read audit.Store) {
	t.Helper()
	ctx := context.Background()
	if got, err := read.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	for _, e := range entries() {
		if _, err := audit.Add(ctx, write, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := read.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := entries()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Action != want[i].Action || got[i].Actor != want[i].Actor {
			t.Fatalf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
		if got[i].Seq != uint64(i+1) || got[i].Hash != got[i].Digest() {
			t.Fatalf("entry %d is not chained: %+v", i, got[i])
		}
	}
	mustVerify(t, read, len(want))
}

func mustVerify(t *testing.T, s audit.Store, n int, anchors ...audit.Head) audit.Report {
	t.Helper()
	r, err := audit.Verify(context.Background(), s, anchors...)
	if err != nil {
		t.Fatal(err)
	}
	if r.Broken != nil || r.Checked != n {
		t.Fatalf("want %d intact entries, got %d, broken: %v", n, r.Checked, r.Err())
	}
	return r
}

func TestFileStoreAppendsAndSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	checkStore(t, &audit.FileStore{Path: path}, &audit.FileStore{Path: path})
}

func TestMemoryStoreChains(t *testing.T) {
	m := &audit.Memory{}
	checkStore(t, m, m)
}

// TestMarksRecordEachStateOnce: the same state offered twice is recorded
// once; a return to an earlier state is a new entry.
func TestMarksRecordEachStateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	ctx := context.Background()
	offer := func(s audit.Store, version string) bool {
		_, ok, err := s.Append(ctx, audit.Entry{Action: "config.replace", Target: version, Mark: "config=" + version}, audit.IfMarkDiffers)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	a, b := &audit.FileStore{Path: path}, &audit.FileStore{Path: path}
	steps := []struct {
		store   audit.Store
		version string
		want    bool
	}{
		{a, "v1", true}, {a, "v1", false}, {a, "v2", true}, {a, "v1", true},
		{b, "v1", false}, // a restarted process reads the marks from the file
		{b, "v2", true},
	}
	for i, s := range steps {
		if got := offer(s.store, s.version); got != s.want {
			t.Fatalf("step %d (%s): appended %v, want %v", i, s.version, got, s.want)
		}
	}
	mustVerify(t, b, 4)
}

// TestFileStoreDropsATornLastLine: a crash in the middle of a write leaves
// part of a line that was never acknowledged; the next append replaces it.
func TestFileStoreDropsATornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	ctx := context.Background()
	if _, err := audit.Add(ctx, &audit.FileStore{Path: path}, entries()[0]); err != nil {
		t.Fatal(err)
	}
	appendRaw(t, path, `{"seq":2,"time":"2026-11-25T10:00:01Z","act`)
	if _, err := audit.Add(ctx, &audit.FileStore{Path: path}, entries()[1]); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, &audit.FileStore{Path: path}, 2)
}

// TestFileStoreSurvivesACutWrite: a crash can cut the write of an entry or
// of its head record short, or just before its newline. A whole entry
// stands, a cut one is dropped; a head line without its newline is dropped
// (Head never reads one), and the entry it was for is adopted. The next
// line, after one restart and after another, starts on a line of its own:
// glued to the cut one it was unreadable, Verify reported a broken head or
// a truncated log, and after the second restart the next entry repeated a
// seq (found by FuzzFileStore).
func TestFileStoreSurvivesACutWrite(t *testing.T) {
	tests := []struct {
		name string
		head bool                     // cut the head file, else the log
		cut  func(line string) string // what is left of the last line
	}{
		{"head line cut short", true, func(line string) string { return line[:9] }},
		{"head line without its newline", true, func(line string) string { return line }},
		{"entry without its newline", false, func(line string) string { return line }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			ctx := context.Background()
			crashed := &audit.FileStore{Path: path}
			for _, e := range entries()[:2] {
				if _, err := audit.Add(ctx, crashed, e); err != nil {
					t.Fatal(err)
				}
			}
			file := path
			if tt.head {
				file = crashed.HeadPath()
			}
			editLastLine(t, file, func(lines []string) []string {
				return append(lines[:len(lines)-1], tt.cut(lines[len(lines)-1]))
			})
			for n, e := range []audit.Entry{entries()[2], entries()[0]} {
				if _, err := audit.Add(ctx, &audit.FileStore{Path: path}, e); err != nil {
					t.Fatal(err)
				}
				mustVerify(t, &audit.FileStore{Path: path}, 3+n)
			}
		})
	}
}

// TestLegacyEntriesComeBeforeTheChain: entries written before the chain
// are listed and counted, and the chain starts after them.
func TestLegacyEntriesComeBeforeTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	appendRaw(t, path, `{"time":"2026-01-01T00:00:00Z","actor":"old","action":"region.drain","target":"eu-west"}`+"\n")
	s := &audit.FileStore{Path: path}
	for _, e := range entries() {
		if _, err := audit.Add(context.Background(), s, e); err != nil {
			t.Fatal(err)
		}
	}
	if r := mustVerify(t, s, 3); r.Legacy != 1 {
		t.Fatalf("legacy %d, want 1", r.Legacy)
	}
	// An entry without a hash after the chain began is not legacy.
	appendRaw(t, path, `{"time":"2026-01-01T00:00:00Z","actor":"x","action":"region.restore","target":"eu-west"}`+"\n")
	r, err := audit.Verify(context.Background(), s)
	if err != nil || r.Broken == nil || r.Broken.Kind != audit.BrokenUnchained {
		t.Fatalf("inserted unchained entry: %v %v", r.Err(), err)
	}
}

// fixture is a store and the ways to tamper with it behind its back.
type fixture struct {
	store  audit.Store
	edit   func(t *testing.T, seq uint64, change func(*audit.Entry))
	remove func(t *testing.T, seq uint64)
}

// checkTampering appends five entries to a fresh store from newFixture,
// tampers with it one way, and expects Verify to name the break.
func checkTampering(t *testing.T, newFixture func(t *testing.T) fixture) {
	ctx := context.Background()
	fill := func(t *testing.T) fixture {
		f := newFixture(t)
		for i := range 5 {
			if _, err := audit.Add(ctx, f.store, audit.Entry{Actor: "dev.operator", Action: "region.drain", Target: fmt.Sprint("r", i)}); err != nil {
				t.Fatal(err)
			}
		}
		mustVerify(t, f.store, 5)
		return f
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, f fixture)
		kind   string
		seq    uint64
	}{
		{"an edited entry", func(t *testing.T, f fixture) {
			f.edit(t, 2, func(e *audit.Entry) { e.Actor = "someone.else" })
		}, audit.BrokenEdited, 2},
		{"an edited entry whose hash was recomputed", func(t *testing.T, f fixture) {
			f.edit(t, 2, func(e *audit.Entry) { e.Target = "us-east"; e.Hash = e.Digest() })
		}, audit.BrokenRemoved, 3},
		{"a removed entry", func(t *testing.T, f fixture) { f.remove(t, 3) }, audit.BrokenRemoved, 4},
		{"the first entry removed", func(t *testing.T, f fixture) { f.remove(t, 1) }, audit.BrokenRemoved, 2},
		{"the last entry removed", func(t *testing.T, f fixture) { f.remove(t, 5) }, audit.BrokenTruncated, 0},
		{"the last entry removed, then another appended", func(t *testing.T, f fixture) {
			f.remove(t, 5)
			if _, err := audit.Add(ctx, f.store, audit.Entry{Action: "region.restore", Target: "r0"}); err != nil {
				t.Fatal(err)
			}
		}, audit.BrokenRemoved, 6},
		{"a renumbered entry", func(t *testing.T, f fixture) {
			f.edit(t, 4, func(e *audit.Entry) { e.Seq = 2; e.Hash = e.Digest() })
		}, audit.BrokenReordered, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fill(t)
			tt.tamper(t, f)
			r, err := audit.Verify(ctx, f.store)
			if err != nil {
				t.Fatal(err)
			}
			var b *audit.Break
			if !errors.As(r.Err(), &b) || b.Kind != tt.kind || b.Seq != tt.seq {
				t.Fatalf("want %s at entry %d, got %v", tt.kind, tt.seq, r.Err())
			}
		})
	}
}

func TestVerifyFindsTamperingInAFile(t *testing.T) {
	checkTampering(t, func(t *testing.T) fixture {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		return fixture{
			store:  &audit.FileStore{Path: path},
			edit:   func(t *testing.T, seq uint64, change func(*audit.Entry)) { editLines(t, path, seq, change) },
			remove: func(t *testing.T, seq uint64) { editLines(t, path, seq, nil) },
		}
	})
}

func TestVerifyFindsTamperingInMemory(t *testing.T) {
	checkTampering(t, func(t *testing.T) fixture {
		m := &audit.Memory{}
		return fixture{
			store: m,
			edit: func(_ *testing.T, seq uint64, change func(*audit.Entry)) {
				m.Tamper(func(es []audit.Entry) []audit.Entry { change(&es[seq-1]); return es })
			},
			remove: func(_ *testing.T, seq uint64) {
				m.Tamper(func(es []audit.Entry) []audit.Entry { return append(es[:seq-1], es[seq:]...) })
			},
		}
	})
}

// TestAnchorCatchesARewrittenChain: someone who rewrites the file and its
// head from entry 2 on gets past the chain, not past a head kept elsewhere.
func TestAnchorCatchesARewrittenChain(t *testing.T) {
	dir := t.TempDir()
	real, forged := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "forged.jsonl")
	ctx := context.Background()
	for i, e := range entries() {
		if _, err := audit.Add(ctx, &audit.FileStore{Path: real}, e); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			e.Target = "us-east" // what the forger wants the record to say
		}
		if _, err := audit.Add(ctx, &audit.FileStore{Path: forged}, e); err != nil {
			t.Fatal(err)
		}
	}
	anchor := mustVerify(t, &audit.FileStore{Path: real}, 3).Last
	copyFile(t, forged, real)
	copyFile(t, forged+".head", real+".head")
	mustVerify(t, &audit.FileStore{Path: real}, 3) // the chain alone cannot tell
	r, err := audit.Verify(ctx, &audit.FileStore{Path: real}, anchor)
	if err != nil || r.Broken == nil || r.Broken.Kind != audit.BrokenAnchor {
		t.Fatalf("want an anchor break, got %v %v", r.Err(), err)
	}
	if h, err := audit.ParseHead(anchor.String()); err != nil || h != anchor {
		t.Fatalf("head round trip: %v %v", h, err)
	}
}
