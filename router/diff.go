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
			if !slices.Equal(before, after) {
				out = append(out, Change{Country: country, Class: class, Before: before, After: after})
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
	refusedNow, allowedNow := 0, 0
	for _, c := range changes {
		countries[c.Country] = true
		switch {
		case len(c.Before) > 0 && len(c.After) == 0:
			refusedNow++
		case len(c.Before) == 0 && len(c.After) > 0:
			allowedNow++
		}
	}
	return fmt.Sprintf("%d country/class routes changed across %d countries (%d newly refused, %d newly allowed)",
		len(changes), len(countries), refusedNow, allowedNow)
}

// WriteDiff writes changes as a markdown table.
func WriteDiff(w io.Writer, changes []Change) error {
	var b strings.Builder
	if len(changes) == 0 {
		b.WriteString("No routing changes: every country and class keeps its region order.\n")
	} else {
		b.WriteString("| country | class | before | after |\n|---|---|---|---|\n")
		for _, c := range changes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Country, c.Class, orderText(c.Before), orderText(c.After))
		}
		b.WriteString("\n" + Summary(changes) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orderText(regions []string) string {
	if len(regions) == 0 {
		return "refused"
	}
	return strings.Join(regions, " → ")
}
