package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// fillAudit appends five entries, actors a1 to a5.
func fillAudit(t *testing.T, s audit.Store) {
	t.Helper()
	for i := 1; i <= 5; i++ {
		if _, err := audit.Add(context.Background(), s, audit.Entry{Actor: fmt.Sprint("a", i), Action: "region.drain", Target: "eu-west"}); err != nil {
			t.Fatal(err)
		}
	}
}

// verifyFails runs audit verify and expects it to fail naming entry seq
// and how it broke.
func verifyFails(t *testing.T, seq int, kind string, args ...string) {
	t.Helper()
	_, err := run(t, append([]string{"audit", "verify"}, args...)...)
	if want := fmt.Sprintf("broken at entry %d (%s)", seq, kind); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
}

func TestAuditVerifyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	fillAudit(t, &audit.FileStore{Path: path})
	out, err := run(t, "audit", "verify", "--file", path)
	if err != nil || !strings.Contains(out, "checked 5 entries: the chain is intact") {
		t.Fatalf("intact chain: %v\n%s", err, out)
	}
	head := regexp.MustCompile(`head (5:[0-9a-f]{64})`).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("no head in:\n%s", out)
	}
	if _, err := run(t, "audit", "verify", "--file", path, "--anchor", head[1]); err != nil {
		t.Fatalf("its own head as anchor: %v", err)
	}
	if out, err := run(t, "audit", "list", "--file", path); err != nil || strings.Count(out, "region.drain") != 5 {
		t.Fatalf("list: %v\n%s", err, out)
	}

	original, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rewrite(strings.Replace(string(original), `"actor":"a2"`, `"actor":"a9"`, 1))
	verifyFails(t, 2, "edited", "--file", path)

	lines := strings.SplitAfter(string(original), "\n")
	rewrite(strings.Join(append(lines[:2:2], lines[3:]...), "")) // entry 3 removed
	verifyFails(t, 4, "removed", "--file", path)

	rewrite(strings.Join(lines[:4], "")) // the last entry removed
	if _, err := run(t, "audit", "verify", "--file", path); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("the last entry removed: %v", err)
	}
	if _, err := run(t, "audit", "verify"); err == nil {
		t.Fatal("verify without --file or --consul must fail")
	}
}

func TestAuditVerifyConsul(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	agent, err := devstack.StartConsul(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	c, err := agent.Client()
	if err != nil {
		t.Fatal(err)
	}
	fillAudit(t, gatewayd.ConsulAudit(c, "regiongate/"))
	args := []string{"--consul", agent.Addr}
	if out, err := run(t, append([]string{"audit", "verify"}, args...)...); err != nil || !strings.Contains(out, "checked 5 entries") {
		t.Fatalf("intact chain: %v\n%s", err, out)
	}
	key := func(seq int) string { return fmt.Sprintf("regiongate/audit/entries/%020d", seq) }
	p, _, err := c.KV().Get(key(2), nil)
	if err != nil || p == nil {
		t.Fatalf("entry 2: %v", err)
	}
	original := p.Value
	p.Value = []byte(strings.Replace(string(original), `"actor":"a2"`, `"actor":"a9"`, 1))
	if _, err := c.KV().Put(p, nil); err != nil {
		t.Fatal(err)
	}
	verifyFails(t, 2, "edited", args...)

	p.Value = original
	if _, err := c.KV().Put(p, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KV().Delete(key(3), nil); err != nil {
		t.Fatal(err)
	}
	verifyFails(t, 4, "removed", args...)
}
