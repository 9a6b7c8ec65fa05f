package regions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	// ErrRecordExists is returned by Claim when the workflow id already has
	// a region.
	ErrRecordExists = errors.New("routing record already exists")
	// ErrRecordChanged is returned by Move and Release when the record is
	// no longer the version the caller read: another request wrote it.
	ErrRecordChanged = errors.New("routing record changed meanwhile")
)

// Placement is where a workflow lives: the region, and the namespace
// there. Lookups by id carry no tenant, so the record must say which
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

// Record is a workflow id's routing record: where it lives, and the
// version a compare-and-set checks.
type Record struct {
	Placement
	// Version changes on every write of any record and never repeats, like
	// Consul's ModifyIndex. Zero means there is no record.
	Version uint64
}

// Records maps workflow ids to the one region that may hold them. A record
// is written before a start and is the reason an id is never started in a
// second region. Claim, Move and Release must be atomic compare-and-set
// operations, so one implementation can be shared by many gateways (Consul
// KV: CAS on ModifyIndex).
type Records interface {
	// Lookup returns id's record; a zero Record when there is none.
	Lookup(ctx context.Context, id string) (Record, error)
	// Claim records at for id if id has no record yet; otherwise it
	// returns the existing record and ErrRecordExists.
	Claim(ctx context.Context, id string, at Placement) (Record, error)
	// Move rewrites id's record to name to, only if the record is still
	// from (same placement and version); otherwise ErrRecordChanged.
	// Moving to the same placement just takes a new version.
	Move(ctx context.Context, id string, from Record, to Placement) (Record, error)
	// Release deletes id's record, only if it is still from; otherwise
	// ErrRecordChanged.
	Release(ctx context.Context, id string, from Record) error
}

var recordsBucket = []byte("routing-records")

// BoltRecords keeps routing records in an embedded bbolt file, so they
// survive a gateway restart. One process may open a file at a time. Every
// write is on disk (fdatasync) before it returns; concurrent writes share
// commits (groupCommit).
type BoltRecords struct {
	db     *bolt.DB
	writes *groupCommit
}

// OpenBoltRecords opens (creating if needed) the records file at path.
func OpenBoltRecords(path string) (*BoltRecords, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening routing records %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(recordsBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing routing records %s: %w", path, err)
	}
	return &BoltRecords{db: db, writes: &groupCommit{db: db}}, nil
}

// Close closes the file.
func (b *BoltRecords) Close() error { return b.db.Close() }

// A stored record is "placement version" (see Placement.String). Files
// written before records had versions hold only the placement; they read
// as version 1, which the bucket's sequence never hands out again.
func decodeRecord(v []byte) Record {
	if v == nil {
		return Record{}
	}
	at, ver, ok := strings.Cut(string(v), " ")
	n, err := strconv.ParseUint(ver, 10, 64)
	if !ok || err != nil {
		return Record{Placement: parsePlacement(at), Version: 1}
	}
	return Record{Placement: parsePlacement(at), Version: n}
}

func (b *BoltRecords) put(bk *bolt.Bucket, id string, at Placement) (Record, error) {
	seq, err := bk.NextSequence()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Placement: at, Version: seq + 1} // 1 is the legacy version
	return rec, bk.Put([]byte(id), []byte(at.String()+" "+strconv.FormatUint(rec.Version, 10)))
}

// Lookup implements Records.
func (b *BoltRecords) Lookup(_ context.Context, id string) (Record, error) {
	var rec Record
	err := b.db.View(func(tx *bolt.Tx) error {
		rec = decodeRecord(tx.Bucket(recordsBucket).Get([]byte(id)))
		return nil
	})
	return rec, err
}

// Claim implements Records.
func (b *BoltRecords) Claim(_ context.Context, id string, at Placement) (Record, error) {
	var rec Record
	err := b.writes.do(func(bk *bolt.Bucket) error {
		if rec = decodeRecord(bk.Get([]byte(id))); rec.Region != "" {
			return ErrRecordExists
		}
		var err error
		rec, err = b.put(bk, id, at)
		return err
	})
	switch {
	case errors.Is(err, ErrRecordExists):
		return rec, err
	case err != nil:
		return Record{}, fmt.Errorf("claiming %s for %s: %w", id, at, err)
	}
	return rec, nil
}

// Move implements Records.
func (b *BoltRecords) Move(_ context.Context, id string, from Record, to Placement) (Record, error) {
	var rec Record
	err := b.writes.do(func(bk *bolt.Bucket) error {
		if decodeRecord(bk.Get([]byte(id))) != from || from.Region == "" {
			return ErrRecordChanged
		}
		var err error
		rec, err = b.put(bk, id, to)
		return err
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Release implements Records.
func (b *BoltRecords) Release(_ context.Context, id string, from Record) error {
	return b.writes.do(func(bk *bolt.Bucket) error {
		if decodeRecord(bk.Get([]byte(id))) != from || from.Region == "" {
			return ErrRecordChanged
		}
		return bk.Delete([]byte(id))
	})
}

// MemoryRecords keeps routing records in memory; for tests and tools that
// need no persistence.
type MemoryRecords struct {
	mu      sync.Mutex
	m       map[string]Record
	version uint64
}

// NewMemoryRecords returns an empty store.
func NewMemoryRecords() *MemoryRecords { return &MemoryRecords{m: map[string]Record{}} }

func (m *MemoryRecords) put(id string, at Placement) Record {
	m.version++
	rec := Record{Placement: at, Version: m.version}
	m.m[id] = rec
	return rec
}

// Lookup implements Records.
func (m *MemoryRecords) Lookup(_ context.Context, id string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[id], nil
}

// Claim implements Records.
func (m *MemoryRecords) Claim(_ context.Context, id string, at Placement) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.m[id]; ok {
		return r, ErrRecordExists
	}
	return m.put(id, at), nil
}

// Move implements Records.
func (m *MemoryRecords) Move(_ context.Context, id string, from Record, to Placement) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.m[id]; !ok || r != from {
		return Record{}, ErrRecordChanged
	}
	return m.put(id, to), nil
}

// Release implements Records.
func (m *MemoryRecords) Release(_ context.Context, id string, from Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.m[id]; !ok || r != from {
		return ErrRecordChanged
	}
	delete(m.m, id)
	return nil
}
