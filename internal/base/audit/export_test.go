package audit

// Tamper replaces the stored entries without touching the head, so tests
// can check what Verify finds.
func (m *Memory) Tamper(edit func([]Entry) []Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = edit(m.entries)
}
