package regions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// Options customise a Manager. Zero values take the documented defaults.
type Options struct {
	// Records stores routing records; nil means an in-memory store.
	Records Records
	// RecordKeys makes the records' keys from workflow ids (a keyed hash);
	// nil means a random key, which is only right for a store that does
	// not outlive the Manager (memory): a persistent store needs the same
	// key on every start and every replica.
	RecordKeys *RecordKeys
	// PlacementCache is how many placements of recently started or looked
	// up workflows are remembered for reads while the records store is
	// down; zero means DefaultPlacementCache.
	PlacementCache int
	// Drains stores which regions are drained; nil means in memory (a
	// restarted gateway forgets its drains).
	Drains DrainStore
	// ClientOptions are the base options of every region's Temporal client
	// (logger, interceptors, data converter); HostPort and Namespace are
	// set per region.
	ClientOptions client.Options
	// Meter, when set, records region transitions and health-check latency.
	Meter metric.Meter
	// RegionClientOptions, when set, turns the base options into one
	// region's, e.g. with that region's payload codec. An error refuses the
	// config that brings the region in.
	RegionClientOptions func(region configs.Region, base client.Options) (client.Options, error)
	// Transport tunes how each region's TLS files and API key are read
	// (NewTransport): its logger hears their reloads.
	Transport TransportOptions
	// OnStateChange, when set, hears every change of a region's breaker,
	// health or drain state, in order. It is called synchronously, breaker
	// changes with the breaker's lock held: it must return quickly and must
	// not call back into the Manager or its regions.
	OnStateChange func(StateChange)
}

// StateChange is one change of a region's state.
type StateChange struct {
	Region string
	// What changed: "breaker" (closed, open, half-open), "health"
	// (healthy, unhealthy) or "drain" (active, drained).
	What     string
	From, To string
	// Reason says why a region became unhealthy: the last failed health
	// check in a few words (Reason), with its error. Empty otherwise.
	Reason string
}

// Manager owns every region's client and state.
type Manager struct {
	records  Records
	keys     *RecordKeys
	cache    *placementCache
	complete atomic.Bool // the records store has its marker (CheckRecords)
	drains   DrainStore
	base     client.Options
	onChange func(StateChange)
	// regionOpts adjusts base per region (Options.RegionClientOptions).
	regionOpts func(configs.Region, client.Options) (client.Options, error)
	transport  TransportOptions

	drainMu sync.Mutex // serialises SetDrained: store and regions agree
	mu      sync.RWMutex
	regions map[string]*Region
	order   []string
	drained map[string]bool // as loaded from and written to drains
	inst    *instruments    // nil without a Meter
	policy  atomic.Pointer[func() *router.Policy]
	repl    replication // replicated namespaces (replication.go)
}

// NewManager creates one lazy client per region of cfg and loads the drain
// state.
func NewManager(cfg *configs.Config, opts Options) (*Manager, error) {
	m := &Manager{
		records: opts.Records, keys: opts.RecordKeys, cache: newPlacementCache(opts.PlacementCache), drains: opts.Drains, base: opts.ClientOptions, onChange: opts.OnStateChange,
		regionOpts: opts.RegionClientOptions, transport: opts.Transport,
		regions: map[string]*Region{},
	}
	if m.records == nil {
		m.records = NewMemoryRecords()
	}
	if m.keys == nil {
		m.keys = RandomRecordKeys()
	}
	if m.drains == nil {
		m.drains = NewMemoryDrains()
	}
	if m.onChange == nil {
		m.onChange = func(StateChange) {}
	}
	in, err := newInstruments(opts.Meter)
	if err != nil {
		return nil, err
	}
	m.inst = in
	if in != nil {
		hook := m.onChange
		m.onChange = func(c StateChange) { in.stateChange(c); hook(c) }
	}
	// NewManager runs once at start-up, before there is a request to
	// take a context from.
	drained, err := m.drains.Load(context.Background())
	if err != nil {
		return nil, err
	}
	m.drained = drained
	if err := m.Apply(cfg); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Apply brings the set of regions in line with cfg: new regions get a
// client, removed ones are closed, a region whose connection changed
// (configs.Region.Connection) gets a new client, and every other change (call timeout, breaker, residency,
// failover) applies to the region in place, keeping its client, health and
// breaker state (a new breaker if its settings changed). Drain state
// survives, also for a region removed and added back.
func (m *Manager) Apply(cfg *configs.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := map[string]*Region{}
	var order []string
	for _, rc := range cfg.Regions {
		order = append(order, rc.Name)
		if old, ok := m.regions[rc.Name]; ok && old.keepsClient(rc) {
			old.reconfigure(rc)
			next[rc.Name] = old
			continue
		}
		opts, tr, err := m.clientOptions(rc)
		var r *Region
		if err == nil {
			r, err = newRegion(rc, opts, tr, m.onChange)
		}
		if err != nil {
			for name, nr := range next {
				if m.regions[name] != nr {
					nr.close()
				}
			}
			return err
		}
		r.drained.Store(m.drained[rc.Name])
		next[rc.Name] = r
	}
	for name, old := range m.regions {
		if next[name] != old {
			old.close()
		}
	}
	m.regions, m.order = next, order
	m.repl.apply(cfg)
	return nil
}

// Close closes every client.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.regions {
		r.close()
	}
	m.regions, m.order = map[string]*Region{}, nil
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

// Snapshot returns every region's state for the router: health, breaker
// and drain together, read at one moment.
func (m *Manager) Snapshot() router.Snapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := make(router.Snapshot, len(m.regions))
	for n, r := range m.regions {
		s[n] = r.State()
	}
	return s
}

// clientOptions are the options of rc's client, the base ones adjusted by
// Options.RegionClientOptions, and the transport that secures it (its
// files read once).
func (m *Manager) clientOptions(rc configs.Region) (client.Options, *Transport, error) {
	tr, err := NewTransport(rc.Name, rc.Connection(), m.transport)
	if err != nil {
		return client.Options{}, nil, err
	}
	if m.regionOpts == nil {
		return m.base, tr, nil
	}
	opts, err := m.regionOpts(rc, m.base)
	if err != nil {
		return client.Options{}, nil, fmt.Errorf("client options of region %s: %w", rc.Name, err)
	}
	return opts, tr, nil
}

// Check reports what Apply would refuse in cfg without changing anything:
// the client options (payload codec keys) and the TLS files and API key of
// every region that would get a new client.
func (m *Manager) Check(cfg *configs.Config) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, rc := range cfg.Regions {
		if old, ok := m.regions[rc.Name]; ok && old.keepsClient(rc) {
			continue
		}
		if _, _, err := m.clientOptions(rc); err != nil {
			return err
		}
	}
	return nil
}

// ErrUnknownRegion is returned for a region name not in the config.
var ErrUnknownRegion = errors.New("unknown region")

// SetDrained drains (true) or restores (false) a region. The drain store
// is written first: if that fails, nothing changes.
func (m *Manager) SetDrained(name string, drained bool) error {
	r, ok := m.Region(name)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownRegion, name)
	}
	m.drainMu.Lock()
	defer m.drainMu.Unlock()
	if err := m.drains.Set(context.Background(), name, drained); err != nil {
		return fmt.Errorf("draining %s: %w", name, err)
	}
	m.mu.Lock()
	setDrained(m.drained, name, drained)
	m.mu.Unlock()
	if r.drained.Swap(drained) != drained {
		m.onChange(StateChange{Region: name, What: "drain", From: drainName(!drained), To: drainName(drained)})
	}
	return nil
}

func drainName(drained bool) string {
	if drained {
		return "drained"
	}
	return "active"
}
