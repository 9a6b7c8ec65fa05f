package regions

import "sync"

// DefaultPlacementCache is how many placements a Manager remembers when
// Options.PlacementCache is zero: about 200 bytes each, some 20 MB.
const DefaultPlacementCache = 100_000

// placementCache remembers the placements of recently started and looked
// up workflows (record key -> placement), so describe, query, signal and
// cancel of those keep answering while the records store is down. It is
// bounded: two generations, the older dropped whole when the newer fills
// up, so a hit is at most two map reads and nothing is kept per entry for
// eviction. A placement does not change once its start has succeeded,
// which is the only time it is remembered.
type placementCache struct {
	mu       sync.Mutex
	max      int // per generation
	cur, old map[string]Placement
}

func newPlacementCache(size int) *placementCache {
	if size <= 0 {
		size = DefaultPlacementCache
	}
	half := max(size/2, 1)
	return &placementCache{max: half, cur: make(map[string]Placement), old: map[string]Placement{}}
}

func (c *placementCache) put(key string, p Placement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[string]Placement, c.max)
	}
	c.cur[key] = p
}

func (c *placementCache) get(key string) (Placement, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[key]; ok {
		return p, true
	}
	p, ok := c.old[key]
	if ok {
		// Seen again: keep it through the next turn of generations.
		if len(c.cur) >= c.max {
			c.old, c.cur = c.cur, make(map[string]Placement, c.max)
		}
		c.cur[key] = p
	}
	return p, ok
}

func (c *placementCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
