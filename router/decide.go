package router

import (
	"maps"
	"slices"
)

// Decide picks the region for a request. It returns the decision, with a
// reason for every region, even when it refuses: the error is then one of
// ErrBadLocation, ErrUnknownClass, ErrBadPriority, ErrNoLawfulRegion or
// ErrNoRegionAvailable.
//
// Order: the user's home region, then its failover list, then every other
// lawful region in config order. Resident classes keep only regions whose
// residency holds the user's country or one of its jurisdictions.
func (p *Policy) Decide(req Request, snap Snapshot) (Decision, error) {
	d := Decision{Jurisdictions: p.groupsOf[req.Location]}
	if err := p.Validate(req); err != nil {
		return d, err
	}
	class, _ := p.cfg.Classification(req.Class)
	d.Resident = class.Resident
	home := p.home(req.Location)
	order := p.preference(home)
	for _, i := range order {
		r := p.cfg.Regions[i]
		why, lawful := p.lawfulness(i, req.Location, class.Resident, r.Name == p.cfg.Regions[home].Name)
		if !lawful {
			d.Reasons = append(d.Reasons, Reason{Region: r.Name, Why: why})
			continue
		}
		d.Lawful = append(d.Lawful, r.Name)
		st, ok := snap[r.Name]
		if ok && !st.Available() {
			d.Reasons = append(d.Reasons, Reason{Region: r.Name, Why: unavailability(st)})
			continue
		}
		d.Candidates = append(d.Candidates, r.Name)
		d.Reasons = append(d.Reasons, Reason{Region: r.Name, Kept: true, Why: why})
	}
	switch {
	case len(d.Lawful) == 0:
		return d, ErrNoLawfulRegion
	case len(d.Candidates) == 0:
		return d, ErrNoRegionAvailable
	}
	d.Region = d.Candidates[0]
	d.Namespace = p.cfg.Regions[p.index[d.Region]].Namespace
	d.TaskQueue = TaskQueue(d.Region, req.WorkflowType, req.Priority)
	return d, nil
}

// home is the first region, in config order, whose residency holds the
// country; else the config's default region.
func (p *Policy) home(country string) int {
	for i := range p.cfg.Regions {
		if p.acceptsCountry(i, country) {
			return i
		}
	}
	return p.index[p.cfg.DefaultRegion]
}

// preference lists region indexes: home, its failover list, then the rest.
func (p *Policy) preference(home int) []int {
	order := make([]int, 0, len(p.cfg.Regions))
	seen := make([]bool, len(p.cfg.Regions))
	add := func(i int) {
		if !seen[i] {
			seen[i] = true
			order = append(order, i)
		}
	}
	add(home)
	for _, f := range p.cfg.Regions[home].Failover {
		add(p.index[f])
	}
	for i := range p.cfg.Regions {
		add(i)
	}
	return order
}

func (p *Policy) lawfulness(i int, country string, resident, isHome bool) (string, bool) {
	switch {
	case resident && !p.acceptsCountry(i, country):
		return "resident data of " + country + " may not be stored here", false
	case isHome && resident:
		return "home region; residency allows " + country, true
	case isHome:
		return "home region", true
	case resident:
		return "residency allows " + country, true
	}
	return "data is not resident; any region may hold it", true
}

func unavailability(st RegionState) string {
	switch {
	case st.Drained:
		return "lawful but drained"
	case st.Unhealthy:
		return "lawful but unhealthy"
	}
	return "lawful but its circuit breaker is open"
}

// TaskQueue names the task queue for a workflow type in a region: high
// priority work goes to "-priority", low priority to "-batch".
func TaskQueue(region, workflowType string, pr Priority) string {
	switch pr {
	case PriorityHigh:
		return region + "-" + workflowType + "-priority"
	case PriorityLow:
		return region + "-" + workflowType + "-batch"
	}
	return region + "-" + workflowType
}

// TaskQueues lists every task queue a region's workers must poll.
func TaskQueues(region string, workflowTypes []string) []string {
	var out []string
	for _, t := range workflowTypes {
		for _, pr := range []Priority{PriorityNormal, PriorityHigh, PriorityLow} {
			out = append(out, TaskQueue(region, t, pr))
		}
	}
	return out
}

func sortedKeys(m map[string][]string) []string { return slices.Sorted(maps.Keys(m)) }
