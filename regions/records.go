package regions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrRecordExists is returned by Claim when the workflow id already has a
// region, and by Move when the record no longer names the expected region.
var ErrRecordExists = errors.New("routing record already exists")

// Records maps workflow ids to the one region that may hold them. A record
// is written before a start and is the reason an id is never started in a
// second region. Implementations must make Claim and Move atomic
// compare-and-set operations.
type Records interface {
	// Lookup returns the region recorded for id, or "" when there is none.
	Lookup(ctx context.Context, id string) (string, error)
	// Claim records region for id if id has no record yet; otherwise it
	// returns the recorded region and ErrRecordExists.
	Claim(ctx context.Context, id, region string) (string, error)
	// Move changes id's record from one region to another, only if it still
	// names from; otherwise it returns ErrRecordExists.
	Move(ctx context.Context, id, from, to string) error
}

var recordsBucket = []byte("routing-records")

// BoltRecords keeps routing records in an embedded bbolt file, so they
// survive a gateway restart. One process may open a file at a time.
type BoltRecords struct{ db *bolt.DB }

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
	return &BoltRecords{db: db}, nil
}

// Close closes the file.
func (b *BoltRecords) Close() error { return b.db.Close() }

// Lookup implements Records.
func (b *BoltRecords) Lookup(_ context.Context, id string) (string, error) {
	var region string
	err := b.db.View(func(tx *bolt.Tx) error {
		region = string(tx.Bucket(recordsBucket).Get([]byte(id)))
		return nil
	})
	return region, err
}

// Claim implements Records.
func (b *BoltRecords) Claim(_ context.Context, id, region string) (string, error) {
	var existing string
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(recordsBucket)
		if v := bk.Get([]byte(id)); v != nil {
			existing = string(v)
			return ErrRecordExists
		}
		return bk.Put([]byte(id), []byte(region))
	})
	if errors.Is(err, ErrRecordExists) {
		return existing, err
	}
	if err != nil {
		return "", fmt.Errorf("claiming %s for %s: %w", id, region, err)
	}
	return region, nil
}

// Move implements Records.
func (b *BoltRecords) Move(_ context.Context, id, from, to string) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(recordsBucket)
		if string(bk.Get([]byte(id))) != from {
			return ErrRecordExists
		}
		return bk.Put([]byte(id), []byte(to))
	})
}

// MemoryRecords keeps routing records in memory; for tests and tools that
// need no persistence.
type MemoryRecords struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryRecords returns an empty store.
func NewMemoryRecords() *MemoryRecords { return &MemoryRecords{m: map[string]string{}} }

// Lookup implements Records.
func (m *MemoryRecords) Lookup(_ context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[id], nil
}

// Claim implements Records.
func (m *MemoryRecords) Claim(_ context.Context, id, region string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.m[id]; ok {
		return r, ErrRecordExists
	}
	m.m[id] = region
	return region, nil
}

// Move implements Records.
func (m *MemoryRecords) Move(_ context.Context, id, from, to string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m[id] != from {
		return ErrRecordExists
	}
	m.m[id] = to
	return nil
}
