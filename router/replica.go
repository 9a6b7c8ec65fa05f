package router

import "strings"

// Replication in the review tools: a region with a replica stores every
// event of its workflows in the replica too, so wherever a region appears
// in a route its replica is named beside it ("eu-west [+eu-central]"): a
// compliance reviewer sees every place the data may be stored.

// ReplicaOf is the replica region of a region ("" for none).
func (p *Policy) ReplicaOf(region string) string {
	if r, ok := p.cfg.Region(region); ok {
		return r.Replica
	}
	return ""
}

// replicated lists "region→replica" for the regions of order that have a
// replica; nil when none has.
func (p *Policy) replicated(order []string) []string {
	var out []string
	for _, r := range order {
		if rep := p.ReplicaOf(r); rep != "" {
			out = append(out, r+"→"+rep)
		}
	}
	return out
}

// hasReplicas reports whether any region of the config has a replica.
func (p *Policy) hasReplicas() bool {
	for _, r := range p.cfg.Regions {
		if r.Replica != "" {
			return true
		}
	}
	return false
}

// routeText is a region order as the review tools print it: "a → b", each
// region followed by its replica, if any, in brackets.
func routeText(order, replicated []string) string {
	if len(order) == 0 {
		return "refused"
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = r
		for _, pair := range replicated {
			if from, to, _ := strings.Cut(pair, "→"); from == r {
				parts[i] += " [+" + to + "]"
			}
		}
	}
	return strings.Join(parts, " → ")
}

// replicaLegend explains the brackets, for output that has any.
const replicaLegend = "[+X]: the region's namespaces are replicated to X, so its workflows' data is stored in X too.\n\n"
