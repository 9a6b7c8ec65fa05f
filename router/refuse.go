package router

import (
	"maps"
	"slices"

	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// WouldRefuse lists the jurisdictions (or, for a country in none, the
// country) whose resident data has an available lawful region in snap but
// would have none with region drained on top of it: who a drain or a drill
// of region would turn away. Sorted; empty when nobody.
func (p *Policy) WouldRefuse(region string, snap Snapshot) []string {
	drained := slices.IndexFunc(p.regions, func(ri regionInfo) bool { return ri.name == region })
	seen := map[string]bool{}
	for ci, country := range iso3166.All() {
		for cl := range p.classes {
			if !p.classes[cl].Resident {
				continue
			}
			now, after := p.anyAvailable(p.routes[cl][ci].order, snap, drained)
			if !now || after {
				continue
			}
			names := p.jurisdictions(country)
			if len(names) == 0 {
				names = []string{country}
			}
			for _, n := range names {
				seen[n] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// anyAvailable reports whether any of the regions is available in snap,
// and whether one is with the region at index drained as well.
func (p *Policy) anyAvailable(order []int, snap Snapshot, drained int) (now, after bool) {
	for _, i := range order {
		if !p.available(snap, i) {
			continue
		}
		now = true
		if i != drained {
			return true, true
		}
	}
	return now, false
}
