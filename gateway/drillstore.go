package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/internal/base/atomicfile"
	"github.com/regiongate/regiongate/regions"
)

// Drill is one failover drill: a region drained from Start until End, then
// back by itself. Every replica honours End, so the region returns even if
// the replica that started the drill is gone.
type Drill struct {
	ID     string    `json:"id"`
	Region string    `json:"region"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Actor  string    `json:"actor"`
	Forced bool      `json:"forced,omitempty"`
	// Mode is "drain" (the default, also when empty) or "failover": the
	// region's namespaces are made active in its replica at the start and
	// back at the end, instead of draining it.
	Mode string `json:"mode,omitempty"`
	// Failover is the report of a failover drill's start.
	Failover *regions.FailoverReport `json:"failover,omitempty"`
	// WouldRefuse lists the jurisdictions whose resident data had no
	// available lawful region during the drill (only for forced drills).
	WouldRefuse []string `json:"wouldRefuse,omitempty"`
}

// Active reports whether the drill is running at t.
func (d Drill) Active(t time.Time) bool { return !t.Before(d.Start) && t.Before(d.End) }

// Drill modes.
const (
	DrillDrain    = "drain"
	DrillFailover = "failover"
)

// Drains reports whether the drill drains its region (a failover drill
// leaves it in rotation).
func (d Drill) Drains() bool { return d.Mode != DrillFailover }

// DrillStats are one replica's counts for one drill.
type DrillStats struct {
	Rerouted int64 `json:"rerouted"`
	Refused  int64 `json:"refused"`
	Errors   int64 `json:"errors"`
}

func (a DrillStats) add(b DrillStats) DrillStats {
	return DrillStats{Rerouted: a.Rerouted + b.Rerouted, Refused: a.Refused + b.Refused, Errors: a.Errors + b.Errors}
}

// ErrDrillConflict: the region already has an active drill.
var ErrDrillConflict = errors.New("region already has an active drill")

// DrillStore keeps drills and their per-replica counts where every
// replica sees them.
type DrillStore interface {
	// Create stores d unless its region has a drill active at d.Start.
	Create(ctx context.Context, d Drill) error
	// List returns every drill, oldest first.
	List(ctx context.Context) ([]Drill, error)
	// PutStats records one replica's counts for a drill.
	PutStats(ctx context.Context, id, replica string, s DrillStats) error
	// Stats returns every replica's counts for a drill.
	Stats(ctx context.Context, id string) (map[string]DrillStats, error)
}

// MemoryDrills keeps drills in memory, optionally mirrored to a JSON file
// so a restarted gateway keeps honouring them.
type MemoryDrills struct {
	// Path, when set, persists the store; every change replaces the file
	// whole (atomicfile.Write), so a crash leaves the old or the new state.
	Path string

	mu     sync.Mutex
	loaded bool
	state  drillFile
}

type drillFile struct {
	Drills []Drill                          `json:"drills"`
	Stats  map[string]map[string]DrillStats `json:"stats"`
}

func (m *MemoryDrills) load() error {
	if m.loaded {
		return nil
	}
	m.state.Stats = map[string]map[string]DrillStats{}
	if m.Path != "" {
		data, err := os.ReadFile(m.Path)
		if err == nil {
			if err := json.Unmarshal(data, &m.state); err != nil {
				return fmt.Errorf("reading drills %s: %w", m.Path, err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if m.state.Stats == nil {
		m.state.Stats = map[string]map[string]DrillStats{}
	}
	m.loaded = true
	return nil
}

func (m *MemoryDrills) save() error {
	if m.Path == "" {
		return nil
	}
	data, err := json.Marshal(m.state)
	if err != nil {
		return err
	}
	return atomicfile.Write(m.Path, data, 0o600)
}

// Create implements DrillStore.
func (m *MemoryDrills) Create(_ context.Context, d Drill) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(); err != nil {
		return err
	}
	for _, o := range m.state.Drills {
		if o.Region == d.Region && o.Active(d.Start) {
			return ErrDrillConflict
		}
	}
	m.state.Drills = append(m.state.Drills, d)
	return m.save()
}

// List implements DrillStore.
func (m *MemoryDrills) List(context.Context) ([]Drill, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(); err != nil {
		return nil, err
	}
	return slices.Clone(m.state.Drills), nil
}

// PutStats implements DrillStore.
func (m *MemoryDrills) PutStats(_ context.Context, id, replica string, s DrillStats) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(); err != nil {
		return err
	}
	if m.state.Stats[id] == nil {
		m.state.Stats[id] = map[string]DrillStats{}
	}
	m.state.Stats[id][replica] = s
	return m.save()
}

// Stats implements DrillStore.
func (m *MemoryDrills) Stats(_ context.Context, id string) (map[string]DrillStats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(); err != nil {
		return nil, err
	}
	out := map[string]DrillStats{}
	for r, s := range m.state.Stats[id] {
		out[r] = s
	}
	return out, nil
}

// ConsulDrills keeps drills in Consul KV: one key per region's active-drill
// lock (created with CAS so two replicas cannot both start one), one key
// per drill and one per replica's counts.
type ConsulDrills struct {
	kv     *api.KV
	prefix string
}

// NewConsulDrills keeps drills under prefix (e.g. "regiongate/drills/").
func NewConsulDrills(c *api.Client, prefix string) *ConsulDrills {
	return &ConsulDrills{kv: c.KV(), prefix: prefix}
}

// Create implements DrillStore. The per-region lock key holds the active
// drill's id; an expired one is replaced with CAS on its ModifyIndex.
func (c *ConsulDrills) Create(ctx context.Context, d Drill) error {
	lockKey := c.prefix + "active/" + d.Region
	opts := (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx)
	cur, _, err := c.kv.Get(lockKey, opts)
	if err != nil {
		return fmt.Errorf("reading the drill lock of %s: %w", d.Region, err)
	}
	var index uint64
	if cur != nil {
		var held Drill
		if json.Unmarshal(cur.Value, &held) == nil && held.Active(d.Start) {
			return ErrDrillConflict
		}
		index = cur.ModifyIndex
	}
	value, err := json.Marshal(d)
	if err != nil {
		return err
	}
	ok, _, err := c.kv.CAS(&api.KVPair{Key: lockKey, Value: value, ModifyIndex: index}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("taking the drill lock of %s: %w", d.Region, err)
	}
	if !ok {
		return ErrDrillConflict
	}
	if _, err := c.kv.Put(&api.KVPair{Key: c.prefix + "all/" + d.ID, Value: value}, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("storing drill %s: %w", d.ID, err)
	}
	return nil
}

// List implements DrillStore. A default (not consistent) read will do:
// every replica lists again each refresh interval, and Create checks the
// lock with a consistent read.
func (c *ConsulDrills) List(ctx context.Context) ([]Drill, error) {
	pairs, _, err := c.kv.List(c.prefix+"all/", (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("listing drills: %w", err)
	}
	var out []Drill
	for _, p := range pairs {
		var d Drill
		if json.Unmarshal(p.Value, &d) == nil {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Drill) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// PutStats implements DrillStore.
func (c *ConsulDrills) PutStats(ctx context.Context, id, replica string, s DrillStats) error {
	value, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := c.kv.Put(&api.KVPair{Key: c.prefix + "stats/" + id + "/" + replica, Value: value}, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("storing counts of drill %s: %w", id, err)
	}
	return nil
}

// Stats implements DrillStore.
func (c *ConsulDrills) Stats(ctx context.Context, id string) (map[string]DrillStats, error) {
	prefix := c.prefix + "stats/" + id + "/"
	pairs, _, err := c.kv.List(prefix, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("reading counts of drill %s: %w", id, err)
	}
	out := map[string]DrillStats{}
	for _, p := range pairs {
		var s DrillStats
		if json.Unmarshal(p.Value, &s) == nil {
			out[strings.TrimPrefix(p.Key, prefix)] = s
		}
	}
	return out, nil
}
