package regions

import (
	"errors"
	"fmt"
	"sync"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// Options customise a Manager. Zero values take the documented defaults.
type Options struct {
	// Records stores workflow id -> region; nil means an in-memory store.
	Records Records
	// ClientOptions are the base options of every region's Temporal client
	// (logger, interceptors, data converter); HostPort and Namespace are
	// set per region.
	ClientOptions client.Options
}

// Manager owns every region's client and state.
type Manager struct {
	records Records
	base    client.Options

	mu      sync.RWMutex
	regions map[string]*Region
	order   []string
}

// NewManager creates one lazy client per region of cfg.
func NewManager(cfg *configs.Config, opts Options) (*Manager, error) {
	m := &Manager{records: opts.Records, base: opts.ClientOptions, regions: map[string]*Region{}}
	if m.records == nil {
		m.records = NewMemoryRecords()
	}
	if err := m.Apply(cfg); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Apply brings the set of regions in line with cfg: new regions get a
// client, removed ones are closed, changed endpoints or namespaces get a new
// client. Drain state of kept regions survives.
func (m *Manager) Apply(cfg *configs.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := map[string]*Region{}
	var order []string
	for _, rc := range cfg.Regions {
		order = append(order, rc.Name)
		if old, ok := m.regions[rc.Name]; ok && old.cfg.Endpoint == rc.Endpoint && old.cfg.Namespace == rc.Namespace {
			next[rc.Name] = old
			continue
		}
		r, err := newRegion(rc, m.base)
		if err != nil {
			for name, nr := range next {
				if m.regions[name] != nr {
					nr.client.Close()
				}
			}
			return err
		}
		if old, ok := m.regions[rc.Name]; ok {
			r.drained.Store(old.drained.Load())
		}
		next[rc.Name] = r
	}
	for name, old := range m.regions {
		if next[name] != old {
			old.client.Close()
		}
	}
	m.regions, m.order = next, order
	return nil
}

// Close closes every client.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.regions {
		r.client.Close()
	}
	m.regions = map[string]*Region{}
}

// Region returns the named region.
func (m *Manager) Region(name string) (*Region, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.regions[name]
	return r, ok
}

// All returns the regions in config order.
func (m *Manager) All() []*Region {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Region, 0, len(m.order))
	for _, n := range m.order {
		out = append(out, m.regions[n])
	}
	return out
}

// Snapshot returns every region's state for the router.
func (m *Manager) Snapshot() router.Snapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := make(router.Snapshot, len(m.regions))
	for n, r := range m.regions {
		s[n] = r.State()
	}
	return s
}

// ErrUnknownRegion is returned for a region name not in the config.
var ErrUnknownRegion = errors.New("unknown region")

// SetDrained drains (true) or restores (false) a region.
func (m *Manager) SetDrained(name string, drained bool) error {
	r, ok := m.Region(name)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownRegion, name)
	}
	r.drained.Store(drained)
	return nil
}
