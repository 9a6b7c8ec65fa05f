package configs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/regiongate/regiongate/internal/base/atomicfile"
	"github.com/regiongate/regiongate/internal/base/filewatch"
)

// FileSource keeps the config in a file. Writes replace it atomically
// (atomicfile.Write), so a reader never sees half a config and a crash
// leaves the old one or the new one. Its
// revision index is a hash of the content.
type FileSource struct {
	Path string
	// Poll is a safety net for filesystems whose change events get lost
	// (network mounts, symlink swaps); zero means every 2s.
	Poll time.Duration

	mu sync.Mutex // serialises this process's writes
}

// NewFileSource returns a source for path.
func NewFileSource(path string) *FileSource { return &FileSource{Path: path} }

func (f *FileSource) String() string { return "file " + f.Path }

func contentIndex(data []byte) uint64 {
	h := fnv.New64a()
	h.Write(data)
	return h.Sum64()
}

// Read implements Source.
func (f *FileSource) Read(context.Context) (Revision, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Revision{}, fmt.Errorf("%s: %w", f.Path, ErrNotFound)
	}
	if err != nil {
		return Revision{}, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	return Revision{Data: data, Index: contentIndex(data)}, nil
}

// Write implements Source. expected 0 means "only if the file is absent".
func (f *FileSource) Write(ctx context.Context, data []byte, expected uint64) (Revision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, err := f.Read(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		if expected != 0 {
			return Revision{}, ErrStale
		}
	case err != nil:
		return Revision{}, err
	case cur.Index != expected:
		return Revision{}, ErrStale
	}
	if err := atomicfile.Write(f.Path, data, 0o600); err != nil {
		return Revision{}, err
	}
	return Revision{Data: data, Index: contentIndex(data)}, nil
}

// Watch implements Source: it reports the file after every change event
// and on every poll tick (filewatch.Watch); the Watcher drops unchanged
// revisions.
func (f *FileSource) Watch(ctx context.Context, fn func(Revision)) {
	filewatch.Watch(ctx, []string{f.Path}, f.Poll, func() {
		if rev, err := f.Read(ctx); err == nil {
			fn(rev)
		}
	})
}

// MemorySource keeps the config in memory: for tests and for a gateway
// that must not write anywhere.
type MemorySource struct {
	mu      sync.Mutex
	rev     Revision
	changed chan struct{}
}

// NewMemorySource starts with data at index 1.
func NewMemorySource(data []byte) *MemorySource {
	return &MemorySource{rev: Revision{Data: data, Index: 1}, changed: make(chan struct{})}
}

func (m *MemorySource) String() string { return "memory" }

// Read implements Source.
func (m *MemorySource) Read(context.Context) (Revision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rev, nil
}

// Write implements Source.
func (m *MemorySource) Write(_ context.Context, data []byte, expected uint64) (Revision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rev.Index != expected {
		return Revision{}, ErrStale
	}
	m.rev = Revision{Data: append([]byte(nil), data...), Index: m.rev.Index + 1}
	close(m.changed)
	m.changed = make(chan struct{})
	return m.rev, nil
}

// Watch implements Source.
func (m *MemorySource) Watch(ctx context.Context, fn func(Revision)) {
	for {
		m.mu.Lock()
		rev, changed := m.rev, m.changed
		m.mu.Unlock()
		fn(rev)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}
