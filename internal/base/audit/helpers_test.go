package audit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/internal/base/audit"
)

func appendRaw(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// editLines rewrites the line of entry seq in an audit file with change,
// or drops it when change is nil.
func editLines(t *testing.T, path string, seq uint64, change func(*audit.Entry)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	found := false
	for line := range bytes.Lines(data) {
		var e audit.Entry
		if err := json.Unmarshal(line, &e); err != nil || e.Seq != seq {
			out.Write(line)
			continue
		}
		found = true
		if change == nil {
			continue
		}
		change(&e)
		edited, _ := json.Marshal(e)
		out.Write(append(edited, '\n'))
	}
	if !found {
		t.Fatalf("no entry %d in %s", seq, path)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// editLastLine rewrites a file's lines (without their newlines) with
// change, and writes them back with a newline after each but the last: a
// write cut short by a crash.
func editLastLine(t *testing.T, path string, change func([]string) []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := change(strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"))
	text := strings.Join(lines, "\n")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
