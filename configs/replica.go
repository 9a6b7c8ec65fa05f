package configs

import (
	"fmt"
	"slices"
	"strings"
)

// Replication: a region may name a replica region its namespaces are
// replicated to (Temporal global namespaces), so its workflows can continue
// there when its cluster is gone. Every event of every workflow is then
// stored in both regions: the replica must be a lawful place for everything
// the region may hold.

// resides reports whether r's residency names country or a jurisdiction
// holding it.
func (c *Config) resides(r Region, country string) bool {
	for _, e := range r.Residency {
		if e == country || slices.Contains(c.Jurisdictions[e], country) {
			return true
		}
	}
	return false
}

// ReplicaGaps lists what region r may hold that its replica may not: the
// classes restricted to regions that leave the replica out, and the
// resident classes with the residency entries (a whole jurisdiction, or its
// members one by one) the replica lacks. Empty when r has no replica or the
// replica covers it all.
func (c *Config) ReplicaGaps(r Region) []string {
	rep, ok := c.Region(r.Replica)
	if r.Replica == "" || !ok {
		return nil
	}
	var gaps, resident []string
	for _, cl := range c.Classifications {
		restricted := len(cl.Regions) > 0
		switch {
		case restricted && !slices.Contains(cl.Regions, r.Name):
			// r never holds it.
		case restricted && !slices.Contains(cl.Regions, rep.Name):
			gaps = append(gaps, fmt.Sprintf("class %s is restricted to %s, which leaves %s out", cl.Name, strings.Join(cl.Regions, ", "), rep.Name))
		case cl.Resident:
			resident = append(resident, cl.Name)
		}
	}
	if missing := c.residencyGaps(r, rep); len(resident) > 0 && len(missing) > 0 {
		gaps = append(gaps, fmt.Sprintf("resident %s of %s", plural("class", resident), strings.Join(missing, ", ")))
	}
	return gaps
}

// residencyGaps lists r's residency entries rep does not hold: an entry
// whole when rep holds none of its countries, else the countries it lacks.
func (c *Config) residencyGaps(r, rep Region) []string {
	var out []string
	for _, e := range r.Residency {
		members, group := c.Jurisdictions[e]
		if !group {
			members = []string{e}
		}
		var lacks []string
		for _, m := range members {
			if !c.resides(rep, m) {
				lacks = append(lacks, m)
			}
		}
		if len(lacks) == len(members) {
			out = append(out, e)
		} else {
			out = append(out, lacks...)
		}
	}
	return out
}

func plural(word string, names []string) string {
	if len(names) == 1 {
		return word + " " + names[0]
	}
	return word + "es " + strings.Join(names, ", ")
}

// replicas checks every region's replica: a known region other than
// itself, whose residency covers everything the region may hold.
func (v *validator) replicas(c *Config) {
	for i, r := range c.Regions {
		if r.Replica == "" {
			continue
		}
		p := fmt.Sprintf("regions[%d].replica", i)
		_, known := c.Region(r.Replica)
		switch {
		case !known:
			v.check(false, p, "unknown region %q", r.Replica)
		case r.Replica == r.Name:
			v.check(false, p, "a region cannot be its own replica")
		default:
			gaps := c.ReplicaGaps(r)
			v.check(len(gaps) == 0, p, "%s may not hold everything %s may: %s; replicating there would store that data unlawfully",
				r.Replica, r.Name, strings.Join(gaps, "; "))
		}
	}
}

// ReplicatedTo lists the regions whose replica is name: the regions whose
// namespaces name's cluster also holds.
func (c *Config) ReplicatedTo(name string) []Region {
	var out []Region
	for _, r := range c.Regions {
		if r.Replica == name {
			out = append(out, r)
		}
	}
	return out
}
