package regions

import (
	"context"
	"sync"
	"time"
)

// MemoryRecords keeps routing records in memory; for tests and tools that
// need no persistence.
type MemoryRecords struct {
	mu      sync.Mutex
	m       map[string]Record
	version uint64
}

// NewMemoryRecords returns an empty store.
func NewMemoryRecords() *MemoryRecords { return &MemoryRecords{m: map[string]Record{}} }

func (m *MemoryRecords) put(key string, at Placement, expires int64) Record {
	m.version++
	rec := Record{Placement: at, Version: m.version, Expires: expires}
	m.m[key] = rec
	return rec
}

// Lookup implements Records.
func (m *MemoryRecords) Lookup(_ context.Context, key string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[key], nil
}

// Claim implements Records.
func (m *MemoryRecords) Claim(_ context.Context, key string, at Placement) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.m[key]; ok {
		return r, ErrRecordExists
	}
	return m.put(key, at, 0), nil
}

// current reports whether key's record is still from.
func (m *MemoryRecords) current(key string, from Record) bool {
	r, ok := m.m[key]
	return ok && r == from
}

// Move implements Records.
func (m *MemoryRecords) Move(_ context.Context, key string, from Record, to Placement) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.current(key, from) {
		return Record{}, ErrRecordChanged
	}
	return m.put(key, to, from.Expires), nil
}

// Release implements Records.
func (m *MemoryRecords) Release(_ context.Context, key string, from Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.current(key, from) {
		return ErrRecordChanged
	}
	delete(m.m, key)
	return nil
}

// Expire implements Records.
func (m *MemoryRecords) Expire(_ context.Context, key string, from Record, at time.Time) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case !m.current(key, from):
		return Record{}, ErrRecordChanged
	case from.Expires == expiryOf(at):
		return from, nil
	}
	return m.put(key, from.Placement, expiryOf(at)), nil
}

// RemoveExpired implements Records.
func (m *MemoryRecords) RemoveExpired(_ context.Context, now time.Time, limit int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for key, r := range m.m {
		if n >= limit {
			break
		}
		if r.expired(now) {
			delete(m.m, key)
			n++
		}
	}
	return n, nil
}

// Count implements Records.
func (m *MemoryRecords) Count(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m), nil
}
