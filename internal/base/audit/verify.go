package audit

import (
	"context"
	"fmt"
)

// Ways a chain can be broken (Break.Kind).
const (
	BrokenEdited    = "edited"    // an entry does not match its hash
	BrokenRemoved   = "removed"   // a gap: an entry before this one is missing
	BrokenReordered = "reordered" // an entry stands before one it should follow
	BrokenUnchained = "unchained" // an entry without a hash inside the chain
	BrokenTruncated = "truncated" // the head record names an entry past the end
	BrokenHead      = "head"      // the head record does not match the chain
	BrokenAnchor    = "anchor"    // a head the caller kept is not in the chain
)

// Break is the first place a chain is broken.
type Break struct {
	Kind string
	// Seq is the entry where the break shows (for a removal, the one after
	// the gap); 0 when it is the head or an anchor.
	Seq    uint64
	Detail string
}

func (b *Break) Error() string {
	if b.Seq == 0 {
		return b.Kind + ": " + b.Detail
	}
	return fmt.Sprintf("entry %d %s: %s", b.Seq, b.Kind, b.Detail)
}

// Report is what Verify found.
type Report struct {
	Checked int  // chained entries whose hash and link were checked
	Legacy  int  // entries from before the chain, which nothing protects
	Last    Head // the last entry checked
	Head    Head // the store's head record
	Broken  *Break
}

// Verify walks the store's chain from its first entry and reports the
// first break: an edited entry, a removed one, entries out of order, a tail
// removed (against the head record), or an anchor (a head the caller kept
// from an earlier Verify) that the chain no longer holds. An error means
// the store could not be read; a broken chain is in the report.
func Verify(ctx context.Context, s Store, anchors ...Head) (Report, error) {
	entries, err := s.List(ctx)
	if err != nil {
		return Report{}, err
	}
	var r Report
	if r.Head, err = s.Head(ctx); err != nil {
		return Report{}, err
	}
	hashes := map[uint64]string{}
	r.Broken = walk(entries, &r, hashes)
	if r.Broken == nil {
		r.Broken = checkHead(r.Head, r.Last, hashes)
	}
	for _, a := range anchors {
		if r.Broken == nil && hashes[a.Seq] != a.Hash {
			r.Broken = &Break{Kind: BrokenAnchor, Detail: fmt.Sprintf("entry %d is not %s: the chain was rewritten or cut before it", a.Seq, a.Hash)}
		}
	}
	return r, nil
}

// walk checks each entry against its predecessor.
func walk(entries []Entry, r *Report, hashes map[uint64]string) *Break {
	for _, e := range entries {
		if !e.chained() {
			if r.Checked > 0 {
				return &Break{Kind: BrokenUnchained, Seq: r.Last.Seq + 1, Detail: "an entry without seq or hash follows entry " + fmt.Sprint(r.Last.Seq)}
			}
			r.Legacy++
			continue
		}
		prev := r.Last
		switch {
		case e.Hash != e.Digest():
			return &Break{Kind: BrokenEdited, Seq: e.Seq, Detail: "its content does not match its hash"}
		case e.Seq <= prev.Seq:
			return &Break{Kind: BrokenReordered, Seq: e.Seq, Detail: fmt.Sprintf("it comes after entry %d", prev.Seq)}
		case e.Seq > prev.Seq+1:
			return &Break{Kind: BrokenRemoved, Seq: e.Seq, Detail: fmt.Sprintf("entries %d to %d are missing", prev.Seq+1, e.Seq-1)}
		case e.Prev != prev.Hash:
			return &Break{Kind: BrokenRemoved, Seq: e.Seq, Detail: fmt.Sprintf("its prev is not the hash of entry %d: an entry was replaced before it", prev.Seq)}
		}
		hashes[e.Seq] = e.Hash
		r.Last = e.head()
		r.Checked++
	}
	return nil
}

// checkHead compares the head record with the chain's end. A head one
// entry behind is a crash between the file store's two writes.
func checkHead(head, last Head, hashes map[uint64]string) *Break {
	switch {
	case head == last:
		return nil
	case head.Seq == 0:
		return &Break{Kind: BrokenHead, Detail: fmt.Sprintf("the chain has %d entries but no head record: the last ones may have been removed", last.Seq)}
	case head.Seq > last.Seq:
		return &Break{Kind: BrokenTruncated, Detail: fmt.Sprintf("the head record names entry %d, the chain ends at %d: the last entries were removed", head.Seq, last.Seq)}
	case head.Seq == last.Seq-1 && hashes[head.Seq] == head.Hash:
		return nil
	}
	return &Break{Kind: BrokenHead, Detail: fmt.Sprintf("the head record (%s) does not match entry %d", head, head.Seq)}
}

// Err is nil for an intact chain, else the break.
func (r Report) Err() error {
	if r.Broken == nil {
		return nil
	}
	return r.Broken
}
