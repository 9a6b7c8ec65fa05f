package router

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// Change is one country and class whose region order differs between two
// policies: what a config edit means for users.
type Change struct {
	Country string   `json:"country"`
	Class   string   `json:"class"`
	Before  []string `json:"before"` // empty: refused (or the class did not exist)
	After   []string `json:"after"`  // empty: refused (or the class is gone)
	// ReplicatedBefore and ReplicatedAfter list "region→replica" for the
	// regions of each order that replicate their namespaces: where the
	// data is stored as well.
	ReplicatedBefore []string `json:"replicatedBefore,omitempty"`
	ReplicatedAfter  []string `json:"replicatedAfter,omitempty"`
}

// Diff lists every country and class (of either policy) whose lawful
// region order changed, countries alphabetically, classes in config order.
func Diff(old, new *Policy) []Change {
	var classes []string
	for _, c := range old.classes {
		classes = append(classes, c.Name)
	}
	for _, c := range new.classes {
		if !slices.Contains(classes, c.Name) {
			classes = append(classes, c.Name)
		}
	}
	var out []Change
	for _, country := range iso3166.All() {
		for _, class := range classes {
			before, after := old.order(country, class), new.order(country, class)
			repBefore, repAfter := old.replicated(before), new.replicated(after)
			if !slices.Equal(before, after) || !slices.Equal(repBefore, repAfter) {
				out = append(out, Change{Country: country, Class: class, Before: before, After: after,
					ReplicatedBefore: repBefore, ReplicatedAfter: repAfter})
			}
		}
	}
	return out
}

// order is the lawful region order with every region available, or nil.
func (p *Policy) order(country, class string) []string {
	d, err := p.Decide(Request{Location: country, Class: class}, nil)
	if err != nil {
		return nil
	}
	return d.Lawful
}

// Summary is a one-line account of a diff, for audit entries.
func Summary(changes []Change) string {
	if len(changes) == 0 {
		return "no routing changes"
	}
	countries := map[string]bool{}
	refusedNow, allowedNow, replication := 0, 0, 0
	for _, c := range changes {
		countries[c.Country] = true
		switch {
		case len(c.Before) > 0 && len(c.After) == 0:
			refusedNow++
		case len(c.Before) == 0 && len(c.After) > 0:
			allowedNow++
		}
		if !slices.Equal(c.ReplicatedBefore, c.ReplicatedAfter) {
			replication++
		}
	}
	s := fmt.Sprintf("%d country/class routes changed across %d countries (%d newly refused, %d newly allowed)",
		len(changes), len(countries), refusedNow, allowedNow)
	if replication > 0 {
		s += fmt.Sprintf("; replication changed for %d", replication)
	}
	return s
}

// WriteDiff writes changes as a markdown table.
func WriteDiff(w io.Writer, changes []Change) error {
	var b strings.Builder
	if len(changes) == 0 {
		b.WriteString("No routing changes: every country and class keeps its region order.\n")
	} else {
		for _, c := range changes {
			if len(c.ReplicatedBefore)+len(c.ReplicatedAfter) > 0 {
				b.WriteString(replicaLegend)
				break
			}
		}
		b.WriteString("| country | class | before | after |\n|---|---|---|---|\n")
		for _, c := range changes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Country, c.Class, routeText(c.Before, c.ReplicatedBefore), routeText(c.After, c.ReplicatedAfter))
		}
		b.WriteString("\n" + Summary(changes) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
