package router

import (
	"fmt"
	"io"
	"strings"

	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// Table is the routing matrix: for every ISO country and class the
// lawful region order with every region available. It is what a
// compliance reviewer reads to check a config before it lands.
type Table struct {
	Classes []TableClass `json:"classes"`
	Rows    []TableRow   `json:"rows"`
}

// TableClass is one column of a Table.
type TableClass struct {
	Name     string `json:"name"`
	Resident bool   `json:"resident"`
}

// TableRow is one country: its jurisdictions and, per class in the
// Table's order, the lawful regions in preference order (empty: refused,
// 422).
type TableRow struct {
	Country       string     `json:"country"`
	Jurisdictions []string   `json:"jurisdictions"`
	Routes        [][]string `json:"routes"`
}

// Table builds the routing matrix, countries alphabetically, classes in
// config order.
func (p *Policy) Table() Table {
	t := Table{Classes: make([]TableClass, len(p.classes))}
	for i, cl := range p.classes {
		t.Classes[i] = TableClass{Name: cl.Name, Resident: cl.Resident}
	}
	for _, country := range iso3166.All() {
		row := TableRow{Country: country, Jurisdictions: append([]string{}, p.jurisdictions(country)...),
			Routes: make([][]string, len(p.classes))}
		for i := range p.classes {
			row.Routes[i] = append([]string{}, p.order(country, p.classes[i].Name)...)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// WriteTable writes the routing matrix (Table) as markdown: one row per
// country, one column per class, each cell the region order or why the
// data is refused.
func (p *Policy) WriteTable(w io.Writer) error {
	t := p.Table()
	var b strings.Builder
	if p.hasReplicas() {
		b.WriteString(replicaLegend)
	}
	b.WriteString("| country | jurisdictions |")
	for _, cl := range t.Classes {
		name := cl.Name
		if cl.Resident {
			name += " (resident)"
		}
		fmt.Fprintf(&b, " %s |", name)
	}
	b.WriteString("\n|---|---|")
	b.WriteString(strings.Repeat("---|", len(t.Classes)))
	b.WriteString("\n")
	for _, row := range t.Rows {
		fmt.Fprintf(&b, "| %s | %s |", row.Country, strings.Join(row.Jurisdictions, ", "))
		for _, order := range row.Routes {
			cell := routeText(order, p.replicated(order))
			if len(order) == 0 {
				cell = "refused (422)"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
