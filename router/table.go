package router

import (
	"fmt"
	"io"
	"strings"

	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// WriteTable writes the routing matrix as markdown: one row per ISO
// country, one column per class, each cell the region order with every
// region available (or why the data is refused). It is what a compliance
// reviewer reads to check a config before it lands.
func (p *Policy) WriteTable(w io.Writer) error {
	var b strings.Builder
	if p.hasReplicas() {
		b.WriteString(replicaLegend)
	}
	b.WriteString("| country | jurisdictions |")
	for _, cl := range p.classes {
		name := cl.Name
		if cl.Resident {
			name += " (resident)"
		}
		fmt.Fprintf(&b, " %s |", name)
	}
	b.WriteString("\n|---|---|")
	b.WriteString(strings.Repeat("---|", len(p.classes)))
	b.WriteString("\n")
	for _, country := range iso3166.All() {
		fmt.Fprintf(&b, "| %s | %s |", country, strings.Join(p.jurisdictions(country), ", "))
		for _, cl := range p.classes {
			d, err := p.Decide(Request{Location: country, Class: cl.Name}, nil)
			cell := routeText(d.Lawful, p.replicated(d.Lawful))
			if err != nil {
				cell = "refused (422)"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
