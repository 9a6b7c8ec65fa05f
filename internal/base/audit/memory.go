package audit

import (
	"context"
	"sync"
)

// Memory keeps entries in memory, for tests and stacks without a store.
type Memory struct {
	mu      sync.Mutex
	tip     *tip
	entries []Entry
}

// Append implements Store.
func (m *Memory) Append(_ context.Context, e Entry, when Condition) (Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tip == nil {
		m.tip = newTip()
	}
	sealed, ok := m.tip.next(e, when)
	if !ok {
		return Entry{}, false, nil
	}
	m.entries = append(m.entries, sealed)
	m.tip.advance(sealed)
	return sealed, true, nil
}

// List implements Store.
func (m *Memory) List(context.Context) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Entry{}, m.entries...), nil
}

// Head implements Store.
func (m *Memory) Head(context.Context) (Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tip == nil {
		return Head{}, nil
	}
	return m.tip.head, nil
}
