package chaos

import (
	"bytes"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// swapRegions returns the config text raw with regions a and b in each
// other's place in the region list, comments kept. The router prefers the
// first region whose residency holds a country, so this moves the home
// region of their countries; residency is untouched, which it checks.
func swapRegions(raw []byte, a, b string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	list := regionList(&doc)
	if list == nil {
		return nil, fmt.Errorf("the config has no region list")
	}
	ia, ib := -1, -1
	for i, item := range list.Content {
		switch mapValue(item, "name") {
		case a:
			ia = i
		case b:
			ib = i
		}
	}
	if ia < 0 || ib < 0 {
		return nil, fmt.Errorf("the config lacks region %s or %s", a, b)
	}
	list.Content[ia], list.Content[ib] = list.Content[ib], list.Content[ia]
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := sameResidency(raw, buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func regionList(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "regions" && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapValue is the scalar value of key in mapping node m, or "".
func mapValue(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// sameResidency checks that two configs let every country and class of the
// load be stored in the same regions, whatever their order: the auditor
// judges every workflow against one config.
func sameResidency(oldRaw, newRaw []byte) error {
	old, err := configs.Parse(oldRaw)
	if err != nil {
		return fmt.Errorf("the config in force: %w", err)
	}
	next, err := configs.Parse(newRaw)
	if err != nil {
		return fmt.Errorf("the edited config: %w", err)
	}
	po, pn := router.New(old), router.New(next)
	for _, country := range Countries {
		for _, class := range Classes {
			lo, ln := lawful(po, country, class), lawful(pn, country, class)
			slices.Sort(lo)
			slices.Sort(ln)
			if !slices.Equal(lo, ln) {
				return fmt.Errorf("the edit would change where %s %s may live: %v -> %v", country, class, lo, ln)
			}
		}
	}
	return nil
}

// lawful lists the regions that may hold country's data of class under
// pol, in preference order (none for a refused request).
func lawful(pol *router.Policy, country, class string) []string {
	d, _ := pol.Decide(router.Request{Location: country, Class: class}, nil)
	return slices.Clone(d.Lawful)
}
