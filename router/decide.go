package router

import (
	"maps"
	"slices"
)

// Decide picks the region for a request. On refusal the error is one of
// ErrBadLocation, ErrUnknownClass, ErrBadPriority, ErrNoLawfulRegion or
// ErrNoRegionAvailable, and the decision still says what was lawful.
//
// Order: the user's home region, then its failover list, then every other
// lawful region in config order. Resident classes keep only regions whose
// residency holds the user's country or one of its jurisdictions; a class
// restricted to some regions keeps only those. Decide does not fill
// Reasons (see Explain) and, when every lawful region is available, does
// not allocate.
func (p *Policy) Decide(req Request, snap Snapshot) (d Decision, err error) {
	// d is the named result, filled in place: a Decision is a few hundred
	// bytes, and building it aside then returning it would copy it.
	country, class, pr, err := p.parse(req)
	d.Lawful, d.Candidates, d.Jurisdictions = none, none, p.jurisdictions(req.Location)
	if err != nil {
		return d, err
	}
	rt := &p.routes[class][country]
	d.Lawful = slices.Clip(rt.lawful) // an append by a caller must copy, never write into the policy
	d.Resident = p.classes[class].Resident
	d.policy, d.route = p, rt
	d.sel = selector{workflowType: req.WorkflowType, priority: priorityIndex(pr)}
	d.country, d.class = int16(country), uint16(class)
	if req.Tenant != "" {
		d.sel.slot = int32(p.slots[req.Tenant])
	}
	if len(rt.order) == 0 {
		return d, ErrNoLawfulRegion
	}
	// Walk the lawful regions in order, keeping at most MaxCandidates
	// available ones. While they form an unbroken prefix of the lawful list
	// the decision shares that list instead of allocating.
	var own *candidateBuf
	kept, end := 0, 0 // end: the prefix of the lawful lists kept so far
	for k, i := range rt.order {
		if kept == MaxCandidates {
			break
		}
		if !p.available(snap, i) {
			if own == nil {
				own = &candidateBuf{}
				d.Candidates = append(own.names[:0], rt.lawful[:kept]...)
				d.candidates = append(own.order[:0], rt.order[:kept]...)
			}
			continue
		}
		if own == nil {
			end = k + 1
		} else {
			d.Candidates = append(d.Candidates, rt.lawful[k])
			d.candidates = append(d.candidates, i)
		}
		kept++
	}
	if own == nil && kept > 0 {
		d.Candidates = rt.lawful[:end:end] // capped: see Lawful
		d.candidates = rt.order[:end:end]
	}
	if kept == 0 {
		d.Candidates, d.candidates = none, nil
		return d, ErrNoRegionAvailable
	}
	first := p.destinationOf(d.candidates[0], d.sel)
	d.Region, d.Namespace, d.TaskQueue = first.Region, first.Namespace, first.TaskQueue
	return d, nil
}

// candidateBuf holds a decision's own candidate lists when they are not a
// prefix of the compiled ones: one allocation for both.
type candidateBuf struct {
	names [MaxCandidates]string
	order [MaxCandidates]int
}

func (p *Policy) jurisdictions(country string) []string {
	if g, ok := p.groupsOf[country]; ok {
		return g
	}
	return none
}

// MaxCandidates bounds how many regions one request may try in turn: each
// try can cost a call timeout, and a client is better served by a quick 503.
const MaxCandidates = 8

func (p *Policy) available(snap Snapshot, i int) bool {
	st, ok := snap[p.regions[i].name]
	return !ok || st.Available()
}

func (ri *regionInfo) queue(workflowType string, pr Priority) string {
	q, ok := ri.queues[workflowType]
	if !ok {
		return TaskQueue(ri.name, workflowType, pr)
	}
	switch pr {
	case PriorityHigh:
		return q[1]
	case PriorityLow:
		return q[2]
	}
	return q[0]
}

// Explain is Decide plus a reason for every configured region, in
// preference order. It is for people (the explain endpoint, the CLI), not
// for the request path.
func (p *Policy) Explain(req Request, snap Snapshot) (Decision, error) {
	d, err := p.Decide(req, snap)
	country, class, _, perr := p.parse(req)
	if perr != nil {
		return d, err
	}
	for _, v := range p.routes[class][country].all {
		name := p.regions[v.region].name
		r := Reason{Region: name, Kept: v.lawful, Why: v.why}
		if v.lawful && !p.available(snap, v.region) {
			r.Kept, r.Why = false, unavailability(snap[name])
		}
		d.Reasons = append(d.Reasons, r)
	}
	if len(d.candidates) > 0 {
		d.Destinations = d.destinations()
	}
	return d, err
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
