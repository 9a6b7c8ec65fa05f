package regions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/regiongate/regiongate/internal/base/atomicfile"
)

// DrainStore keeps which regions are drained, so a restarted gateway (and,
// with a shared store such as Consul KV, every replica) sees the same
// drains. Set must be durable when it returns.
type DrainStore interface {
	// Load returns the drained regions; a region not in the map is active.
	Load(ctx context.Context) (map[string]bool, error)
	// Set drains (true) or restores (false) one region.
	Set(ctx context.Context, region string, drained bool) error
}

// MemoryDrains keeps drain state in memory: it lasts as long as the process.
type MemoryDrains struct {
	mu      sync.Mutex
	drained map[string]bool
}

// NewMemoryDrains returns a store with no region drained.
func NewMemoryDrains() *MemoryDrains { return &MemoryDrains{drained: map[string]bool{}} }

// Load implements DrainStore.
func (m *MemoryDrains) Load(context.Context) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.drained), nil
}

// Set implements DrainStore.
func (m *MemoryDrains) Set(_ context.Context, region string, drained bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	setDrained(m.drained, region, drained)
	return nil
}

func setDrained(m map[string]bool, region string, drained bool) {
	if drained {
		m[region] = true
	} else {
		delete(m, region)
	}
}

// FileDrains keeps drain state in a small JSON file, replaced atomically
// (atomicfile.Write) so a crash leaves the old or the new state, never
// half of one. One gateway process owns the file.
type FileDrains struct {
	path string
	mu   sync.Mutex
}

// drainFile is the file's content.
type drainFile struct {
	Drained []string `json:"drained"`
}

// NewFileDrains uses the file at path; a missing file means nothing is
// drained. The directory must exist.
func NewFileDrains(path string) *FileDrains { return &FileDrains{path: path} }

// Load implements DrainStore.
func (f *FileDrains) Load(context.Context) (map[string]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.read()
}

func (f *FileDrains) read() (map[string]bool, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading drain state: %w", err)
	}
	var df drainFile
	if err := json.Unmarshal(data, &df); err != nil {
		return nil, fmt.Errorf("reading drain state %s: %w", f.path, err)
	}
	out := map[string]bool{}
	for _, r := range df.Drained {
		out[r] = true
	}
	return out, nil
}

// Set implements DrainStore.
func (f *FileDrains) Set(_ context.Context, region string, drained bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	state, err := f.read()
	if err != nil {
		return err
	}
	setDrained(state, region, drained)
	data, err := json.Marshal(drainFile{Drained: slices.Sorted(maps.Keys(state))})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving drain state: %w", err)
	}
	return nil
}

// SyncDrains reloads the drain store every interval until ctx ends, so a
// drain or restore made on another gateway replica (a shared store such as
// Consul) reaches this one. A failed load keeps the current state.
func (m *Manager) SyncDrains(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.drainMu.Lock()
		drained, err := m.drains.Load(ctx)
		if err == nil {
			m.applyDrains(drained)
		}
		m.drainMu.Unlock()
	}
}

// applyDrains makes every region's drain flag match the store.
func (m *Manager) applyDrains(drained map[string]bool) {
	m.mu.Lock()
	m.drained = drained
	regions := make([]*Region, 0, len(m.regions))
	for _, r := range m.regions {
		regions = append(regions, r)
	}
	m.mu.Unlock()
	for _, r := range regions {
		want := drained[r.Name()]
		if r.drained.Swap(want) != want {
			m.onChange(StateChange{Region: r.Name(), What: "drain", From: drainName(!want), To: drainName(want)})
		}
	}
}
