// Package audit records who changed what and when, as a hash chain that
// `regiongate audit verify` checks.
//
// # Entries and the chain
//
// Every entry carries Seq (1, 2, 3, ... with no gap), Prev (the Hash of
// the entry before it; "" for the first) and Hash: SHA-256, in hex, over
// the canonical encoding of its fields and Prev (see Entry.Digest). A store
// also keeps a head record: the Seq and Hash of its last entry, written in
// the same step as the entry (Consul: one transaction) or right after it
// (file: a sidecar file). Verify walks the chain from the first entry:
//
//   - an edited entry no longer matches its Hash;
//   - a removed entry leaves a gap in Seq, and the next entry's Prev names
//     a hash that is not there;
//   - reordered entries break the order of Seq;
//   - removing the last entries leaves a valid but shorter chain: only the
//     head record shows it (it names an entry past the end).
//
// What a chain cannot show: the hash has no secret, so someone who can
// write the store can rewrite every entry from the one they change onward,
// and the head record with them. Verify then passes. Against that, keep a
// head that Verify printed somewhere they cannot write (a ticket, a
// compliance archive) and pass it as an anchor: a chain rewritten before
// it no longer holds it. The same holds for the marks (below): they only
// keep replicas from writing one change twice.
//
// # Before the change, and what happens after
//
// The gateway writes an entry before the change it records takes effect,
// and refuses the change if the entry cannot be written. The entry is the
// attempt: authorised, validated, about to be applied. If applying it then
// fails (a drain store down, a config write that finds the source moved
// on), a second entry follows with Outcome "failed" and Refers naming the
// first. An entry with no such follower took effect, unless the process
// died in between; the state itself (regions, config) then shows it. The
// alternative, an outcome entry after every change, would double the log
// and still leave the same window open whenever that entry cannot be
// written.
//
// # Marks: one entry for a change many replicas see
//
// An entry may set a mark, "key=value" (e.g. "config=<version>"). With
// IfMarkDiffers, Append writes nothing when the mark already holds that
// value: every replica that applies the same config offers the same
// entry, and the first one records it. A mark is set atomically with its
// entry, so the one entry is guaranteed as well as unique.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Entry is one audited change.
type Entry struct {
	// Seq numbers entries from 1 without gaps; 0 marks an entry written
	// before the chain began (not verifiable).
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // the admin token's name; "unknown" or "regiongate" when no token made it
	Action string    `json:"action"` // config.replace, region.drain, region.restore, drill.start, drill.end, admin.refused
	Target string    `json:"target"` // a region, a config version, a drill id, a route
	Detail string    `json:"detail,omitempty"`
	// Source is what brought the change: "api", "file /path", "consul key
	// regiongate/config", "sighup (...)", "start-up (...)", "drill".
	Source string `json:"source,omitempty"`
	// Outcome is "failed" on the entry that follows an attempt whose change
	// did not take effect; Refers is that attempt's Seq.
	Outcome string `json:"outcome,omitempty"`
	Refers  uint64 `json:"refers,omitempty"`
	// Mark, "key=value", is the state this entry records (see the package
	// doc).
	Mark string `json:"mark,omitempty"`
	Prev string `json:"prev,omitempty"`
	Hash string `json:"hash,omitempty"`
}

// Head is a chain's last entry, as the store's head record keeps it.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func (h Head) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// ParseHead reads a head as Head.String writes it ("seq:hash").
func ParseHead(s string) (Head, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || len(hash) != 2*sha256.Size {
		return Head{}, fmt.Errorf("a head is SEQ:HASH (e.g. 42:%s...), got %q", strings.Repeat("0", 8), s)
	}
	return Head{Seq: n, Hash: hash}, nil
}

// Condition says when Append writes.
type Condition int

const (
	// Always appends.
	Always Condition = iota
	// IfMarkDiffers appends unless the entry's mark already holds its
	// value: someone (another replica) has recorded the same state.
	IfMarkDiffers
)

// Store keeps the chain; nothing is ever rewritten or deleted.
type Store interface {
	// Append chains e after the last entry (setting Seq, Prev and Hash)
	// and returns it as stored, once it is durable. appended is false when
	// the condition held it back.
	Append(ctx context.Context, e Entry, when Condition) (stored Entry, appended bool, err error)
	// List returns entries oldest first.
	List(ctx context.Context) ([]Entry, error)
	// Head returns the head record; Seq 0 when there is none.
	Head(ctx context.Context) (Head, error)
}

// Add appends e unconditionally.
func Add(ctx context.Context, s Store, e Entry) (Entry, error) {
	stored, _, err := s.Append(ctx, e, Always)
	return stored, err
}

// Digest is the entry's hash: SHA-256 over a version tag and every field
// but Hash, in the order below, each as its length in decimal, ":", the
// text and ";". Seq is decimal, Time RFC 3339 with nanoseconds in UTC.
// Anyone can recompute it from the JSON.
func (e Entry) Digest() string {
	h := sha256.New()
	for _, f := range []string{
		"regiongate-audit-v1",
		strconv.FormatUint(e.Seq, 10),
		e.Time.UTC().Format(time.RFC3339Nano),
		e.Actor, e.Action, e.Target, e.Detail, e.Source, e.Outcome,
		strconv.FormatUint(e.Refers, 10),
		e.Mark, e.Prev,
	} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (e Entry) head() Head { return Head{Seq: e.Seq, Hash: e.Hash} }

// chained reports whether e belongs to the chain (not an entry from before).
func (e Entry) chained() bool { return e.Seq != 0 || e.Hash != "" }

// seal chains e after h.
func seal(e Entry, after Head) Entry {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	// JSON keeps no monotonic reading or zone: hash what a reader will see.
	e.Time = e.Time.UTC().Round(0)
	e.Seq, e.Prev = after.Seq+1, after.Hash
	e.Hash = e.Digest()
	return e
}

// splitMark returns the mark's key and value ("" when unset).
func splitMark(mark string) (key, value string) {
	key, value, _ = strings.Cut(mark, "=")
	return key, value
}

// tip is what the next entry chains after, and the marks so far: the
// in-process state of the file and memory stores.
type tip struct {
	head  Head
	marks map[string]string
}

func newTip() *tip { return &tip{marks: map[string]string{}} }

// next returns e sealed after the tip, or false when the condition holds
// it back.
func (t *tip) next(e Entry, when Condition) (Entry, bool) {
	if key, value := splitMark(e.Mark); when == IfMarkDiffers && key != "" {
		if held, ok := t.marks[key]; ok && held == value {
			return Entry{}, false
		}
	}
	return seal(e, t.head), true
}

// advance moves the tip past e.
func (t *tip) advance(e Entry) {
	if key, value := splitMark(e.Mark); key != "" {
		t.marks[key] = value
	}
	if e.chained() {
		t.head = e.head()
	}
}
