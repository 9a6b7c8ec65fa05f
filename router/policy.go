package router

import (
	"slices"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// Policy is a config compiled for fast decisions: for every class and
// country the lawful regions are worked out once, so a decision is a table
// lookup and a walk over at most a few regions. It is immutable.
type Policy struct {
	cfg      *configs.Config
	regions  []regionInfo
	classes  []configs.Classification
	routes   [][]route // [class][country]
	groupsOf map[string][]string
	// slots numbers the isolated tenants from 1; every other tenant is
	// slot 0, the region's own namespace.
	slots map[string]int
}

// regionInfo is a region's compiled names: the region x tenant-slot
// table of namespaces and the workflow type x priority table of task
// queues, so a decision names its destinations without building strings.
type regionInfo struct {
	name       string
	namespaces []string              // by tenant slot; [0] is the region's own
	queues     map[string]*[3]string // workflow type -> normal, high, low
}

// route is the precomputed answer for one class and country.
type route struct {
	lawful []string // lawful region names, in preference order
	order  []int    // their indexes
	// all lists every region in preference order with why it is (not)
	// lawful; only explanations read it.
	all []verdict
}

type verdict struct {
	region int
	lawful bool
	why    string
}

// New compiles a validated config. workflowTypes lets it name task queues
// without building strings per request; other types still work.
func New(cfg *configs.Config, workflowTypes ...string) *Policy {
	p := &Policy{cfg: cfg, classes: cfg.Classifications, groupsOf: map[string][]string{}, slots: map[string]int{}}
	for _, g := range sortedKeys(cfg.Jurisdictions) {
		for _, c := range cfg.Jurisdictions[g] {
			p.groupsOf[c] = append(p.groupsOf[c], g)
		}
	}
	var isolated []string
	for _, t := range cfg.Tenants {
		if t.Isolated {
			isolated = append(isolated, t.Name)
			p.slots[t.Name] = len(isolated)
		}
	}
	for _, r := range cfg.Regions {
		ri := regionInfo{name: r.Name, namespaces: make([]string, 1+len(isolated)), queues: map[string]*[3]string{}}
		ri.namespaces[0] = r.Namespace
		for i, t := range isolated {
			ri.namespaces[i+1] = TenantNamespace(r.Namespace, t)
		}
		for _, t := range workflowTypes {
			ri.queues[t] = &[3]string{
				TaskQueue(r.Name, t, PriorityNormal), TaskQueue(r.Name, t, PriorityHigh), TaskQueue(r.Name, t, PriorityLow),
			}
		}
		p.regions = append(p.regions, ri)
	}
	countries := iso3166.All()
	for _, cl := range cfg.Classifications {
		row := make([]route, len(countries))
		for ci, country := range countries {
			row[ci] = p.compile(cl, country)
		}
		p.routes = append(p.routes, row)
	}
	return p
}

// compile works out one class and country.
func (p *Policy) compile(cl configs.Classification, country string) route {
	var rt route
	home := p.home(country)
	for _, i := range p.preference(home) {
		r := p.cfg.Regions[i]
		v := verdict{region: i, lawful: true}
		switch {
		case len(cl.Regions) > 0 && !slices.Contains(cl.Regions, r.Name):
			v.lawful, v.why = false, "class "+cl.Name+" is restricted to other regions"
		case cl.Resident && !p.accepts(r, country):
			v.lawful, v.why = false, "resident data of "+country+" may not be stored here"
		case i == home && cl.Resident:
			v.why = "home region; residency allows " + country
		case i == home:
			v.why = "home region"
		case cl.Resident:
			v.why = "residency allows " + country
		default:
			v.why = "data is not resident; any region may hold it"
		}
		if v.lawful {
			rt.lawful = append(rt.lawful, r.Name)
			rt.order = append(rt.order, i)
		}
		rt.all = append(rt.all, v)
	}
	if rt.lawful == nil {
		rt.lawful = none
	}
	return rt
}

// none is an empty list that encodes as [] rather than null.
var none = []string{}

// accepts reports whether the region's residency holds the country or one
// of its jurisdictions.
func (p *Policy) accepts(r configs.Region, country string) bool {
	for _, e := range r.Residency {
		if e == country || slices.Contains(p.groupsOf[country], e) {
			return true
		}
	}
	return false
}

// home is the first region, in config order, whose residency holds the
// country; else the config's default region.
func (p *Policy) home(country string) int {
	for i, r := range p.cfg.Regions {
		if p.accepts(r, country) {
			return i
		}
	}
	for i, r := range p.cfg.Regions {
		if r.Name == p.cfg.DefaultRegion {
			return i
		}
	}
	return 0
}

// preference lists region indexes: home, its failover list, then the rest.
func (p *Policy) preference(home int) []int {
	order := make([]int, 0, len(p.cfg.Regions))
	seen := make([]bool, len(p.cfg.Regions))
	add := func(i int) {
		if i >= 0 && !seen[i] {
			seen[i] = true
			order = append(order, i)
		}
	}
	add(home)
	for _, f := range p.cfg.Regions[home].Failover {
		add(slices.IndexFunc(p.cfg.Regions, func(r configs.Region) bool { return r.Name == f }))
	}
	for i := range p.cfg.Regions {
		add(i)
	}
	return order
}

// Config returns the config the policy was compiled from.
func (p *Policy) Config() *configs.Config { return p.cfg }
