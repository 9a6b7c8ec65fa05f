package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/base/audit"
)

// FuzzParseHead: an anchor given to `regiongate audit verify --anchor`
// parses only as Head.String writes one, and writes back the same.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{"42:" + strings.Repeat("9f", 32), "0:" + strings.Repeat("0", 64), "1:x", ":", "18446744073709551616:" + strings.Repeat("a", 64), "+1:" + strings.Repeat("a", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := audit.ParseHead(s)
		if err != nil {
			return
		}
		if h.Seq == 0 || len(h.Hash) != 64 {
			t.Fatalf("%q parsed as %+v", s, h)
		}
		again, err := audit.ParseHead(h.String())
		if err != nil || again != h {
			t.Fatalf("%q -> %v -> %+v, %v", s, h, again, err)
		}
	})
}

// FuzzFileStore: an audit file and its head record as anyone who can
// write the state directory may leave them. Verify reads any content
// without failing or panicking; the store still appends to it; an intact
// chain stays intact with one more entry, and a broken one stays broken: a
// later entry never hides a break. Except one: with no head record at all,
// the next entry writes one, and a tail removed with the head record no
// longer shows. Whoever can delete the head record can as well rewrite it
// to match (docs/compliance.md: what a chain cannot find); anchors catch
// both.
func FuzzFileStore(f *testing.F) {
	log, head := sampleFiles(f)
	lines := strings.SplitAfter(string(log), "\n")
	f.Add(log, head)
	f.Add([]byte(lines[0]+lines[2]), head)                                       // the middle entry removed
	f.Add([]byte(lines[0]+lines[1]), head)                                       // the last entry removed
	f.Add([]byte(strings.Replace(string(log), `"drain"`, `"drained"`, 1)), head) // an entry edited
	f.Add(append(log, `{"seq":4,"time":"2026-01-01T00:00:00Z"`...), head)        // a torn last line
	f.Add([]byte(`{"time":"2025-01-01T00:00:00Z","actor":"old","action":"x","target":"y"}`+"\n"+string(log)), head)
	f.Add(log, []byte{})
	f.Add([]byte{}, []byte("{\"seq\":9,\"hash\":\"ab\"}\n"))
	f.Fuzz(func(t *testing.T, log, head []byte) {
		dir := t.TempDir()
		s := &audit.FileStore{Path: filepath.Join(dir, "audit.jsonl")}
		if err := os.WriteFile(s.Path, log, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.HeadPath(), head, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		before, err := audit.Verify(ctx, s)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		e, err := audit.Add(ctx, s, audit.Entry{Actor: "fuzz", Action: "region.drain", Target: "eu-west"})
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		after, err := audit.Verify(ctx, s)
		switch {
		case err != nil:
			t.Fatalf("verify after append: %v", err)
		case before.Broken == nil && after.Broken != nil:
			t.Fatalf("an intact chain (%+v) broken by an append: %v", before, after.Broken)
		case before.Broken == nil && (after.Last.Seq != before.Last.Seq+1 || after.Last.Hash != e.Hash):
			t.Fatalf("appended %d:%s after %v; the chain ends at %v", e.Seq, e.Hash, before.Last, after.Last)
		case before.Broken != nil && after.Broken == nil && before.Head.Seq != 0:
			t.Fatalf("a break (%v) hidden by an append", before.Broken)
		}
	})
}

// sampleFiles is a three-entry log and its head record, as a FileStore
// writes them.
func sampleFiles(tb testing.TB) (log, head []byte) {
	dir, err := os.MkdirTemp("", "audit-fuzz-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s := &audit.FileStore{Path: filepath.Join(dir, "audit.jsonl")}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range []audit.Entry{
		{Actor: "dev.operator", Action: "region.drain", Target: "eu-west", Detail: "drain"},
		{Actor: "dev.compliance", Action: "config.replace", Target: "v2", Mark: "config=v2"},
		{Actor: "regiongate", Action: "admin.refused", Target: "POST /admin/v1/config", Detail: "invalid_token"},
	} {
		e.Time = at.Add(time.Duration(i) * time.Minute)
		if _, err := audit.Add(context.Background(), s, e); err != nil {
			tb.Fatal(err)
		}
	}
	if log, err = os.ReadFile(s.Path); err != nil {
		tb.Fatal(err)
	}
	if head, err = os.ReadFile(s.HeadPath()); err != nil {
		tb.Fatal(err)
	}
	return log, head
}
