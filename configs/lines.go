package configs

import (
	"errors"
	"regexp"
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

// yamlLine finds "line N: message" in a YAML decoder's error text.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// ProblemsOf lists what is wrong with a config that Parse refused, each
// with its line where the error says it: a *ValidationError's problems as
// they are, a YAML syntax or unknown-field error one problem per line it
// names, anything else one problem without a line.
func ProblemsOf(err error) []Problem {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]Problem, 0, len(te.Errors))
		for _, e := range te.Errors {
			out = append(out, lineProblem(e))
		}
		return out
	}
	msg := err.Error()
	if cause := errors.Unwrap(err); cause != nil {
		msg = cause.Error() // "yaml: line 3: ..." without "decoding config: "
	}
	return []Problem{lineProblem(msg)}
}

func lineProblem(msg string) Problem {
	m := yamlLine.FindStringSubmatch(strings.TrimSpace(msg))
	if m == nil {
		return Problem{Message: msg}
	}
	line, _ := strconv.Atoi(m[1])
	return Problem{Line: line, Message: m[2]}
}
