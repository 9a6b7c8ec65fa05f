package regions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrRecordExists is returned by Claim when the key already has a
	// record.
	ErrRecordExists = errors.New("routing record already exists")
	// ErrRecordChanged is returned by Move, Release and Expire when the
	// record is no longer the one the caller read: another request wrote it.
	ErrRecordChanged = errors.New("routing record changed meanwhile")
	// ErrRecordsUnavailable wraps every failure of the records store itself
	// (it cannot be reached, or refused to write): nothing was decided.
	// Starts fail closed on it; reads fall back (Manager.Locate).
	ErrRecordsUnavailable = errors.New("routing records store unavailable")
)

// Placement is where a workflow lives: the region, and the namespace
// there. Lookups by key carry no tenant, so the record must say which
// namespace to ask.
type Placement struct {
	Region string
	// Namespace is empty only in records written before namespaces were
	// recorded; it then means the region's own.
	Namespace string
}

// String is the placement as stores keep it: "region@namespace", or
// "region" alone for an empty namespace.
func (p Placement) String() string {
	if p.Namespace == "" {
		return p.Region
	}
	return p.Region + "@" + p.Namespace
}

// parsePlacement reads what String wrote.
func parsePlacement(s string) Placement {
	region, namespace, _ := strings.Cut(s, "@")
	return Placement{Region: region, Namespace: namespace}
}

// Record is a routing record: where its workflow lives, the version a
// compare-and-set checks, and when it may be removed.
type Record struct {
	Placement
	// Version changes on every write of any record and never repeats, like
	// Consul's ModifyIndex: no two writes, of one key or of two, ever hand
	// out the same version. Zero means there is no record.
	Version uint64
	// Expires is when the record may be removed (Unix seconds): set by
	// Expire once its workflow has closed, kept by Move. Zero: not before
	// its workflow is seen closed.
	Expires int64
}

// Records maps record keys (RecordKeys: a keyed hash of the tenant's
// workflow id, never the id itself) to the one placement that may hold
// the workflow. A record is written before a start and is the reason an
// id is never started in a second region. Claim, Move, Release and Expire
// are atomic compare-and-set operations, so one store can be shared by
// many gateways. A failure of the store itself wraps ErrRecordsUnavailable;
// ErrRecordExists and ErrRecordChanged are answers, not failures.
//
// Implementations: MemoryRecords, BoltRecords (one process), ConsulRecords
// and PostgresRecords (shared by replicas). They pass one conformance suite
// (records_conformance_test.go).
type Records interface {
	// Lookup returns key's record; a zero Record when there is none.
	Lookup(ctx context.Context, key string) (Record, error)
	// Claim records at for key if key has no record yet; otherwise it
	// returns the existing record and ErrRecordExists.
	Claim(ctx context.Context, key string, at Placement) (Record, error)
	// Move rewrites key's record to name to, only if the record is still
	// from (same placement, version and expiry); otherwise ErrRecordChanged.
	// Moving to the same placement just takes a new version. The expiry is
	// kept.
	Move(ctx context.Context, key string, from Record, to Placement) (Record, error)
	// Release deletes key's record, only if it is still from; otherwise
	// ErrRecordChanged.
	Release(ctx context.Context, key string, from Record) error
	// Expire sets when key's record may be removed, only if it is still
	// from; it takes a new version. A record that already expires at that
	// time is returned as it is, without a write.
	Expire(ctx context.Context, key string, from Record, at time.Time) (Record, error)
	// RemoveExpired deletes up to limit records whose expiry is at or
	// before now and returns how many it deleted.
	RemoveExpired(ctx context.Context, now time.Time, limit int) (int, error)
	// Count returns how many records there are (a full count: for metrics
	// and tests, not for every request).
	Count(ctx context.Context) (int, error)
}

// String shows the placement, version and expiry, for messages.
func (r Record) String() string {
	s := r.Placement.String() + " v" + strconv.FormatUint(r.Version, 10)
	if r.Expires != 0 {
		s += " expires " + time.Unix(r.Expires, 0).UTC().Format(time.RFC3339)
	}
	return s
}

// storeErr wraps a failure of a records store itself (not an answer) as
// ErrRecordsUnavailable, saying what it was doing: one rule for every
// store.
func storeErr(what string, err error) error {
	if err == nil || isAnswer(err) {
		return err
	}
	return fmt.Errorf("%s: %w: %w", what, ErrRecordsUnavailable, err)
}

// sameExpiry answers an Expire to the expiry from already has: from, if
// it is still key's record, without a write; else ErrRecordChanged.
func sameExpiry(ctx context.Context, rs Records, key string, from Record) (Record, error) {
	cur, err := rs.Lookup(ctx, key)
	switch {
	case err != nil:
		return Record{}, err
	case cur != from || from.Region == "":
		return Record{}, ErrRecordChanged
	}
	return from, nil
}

// expiryOf is at as a record's Expires.
func expiryOf(at time.Time) int64 { return at.Unix() }

// expired reports whether rec may be removed at now.
func (r Record) expired(now time.Time) bool { return r.Expires != 0 && r.Expires <= now.Unix() }
