package configs

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// addLines fills in each problem's line in the YAML text, so a reviewer can
// jump straight to it. A path that does not exist in the text (a missing
// field) points at its nearest existing parent.
func addLines(data []byte, problems []Problem) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return
	}
	for i := range problems {
		problems[i].Line = lineOf(doc.Content[0], problems[i].Path)
	}
}

// lineOf walks a path like "regions[2].failover[0]" or "jurisdictions.EU[3]".
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, seg := range splitPath(path) {
		next := child(n, seg)
		if next == nil {
			break
		}
		n, line = next, next.Line
	}
	return line
}

func child(n *yaml.Node, seg string) *yaml.Node {
	if idx, err := strconv.Atoi(seg); err == nil {
		if n.Kind == yaml.SequenceNode && idx >= 0 && idx < len(n.Content) {
			return n.Content[idx]
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			return n.Content[i+1]
		}
	}
	return nil
}

// splitPath turns "a.b[2].c" into ["a", "b", "2", "c"].
func splitPath(path string) []string {
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	var out []string
	for _, s := range strings.Split(path, ".") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
