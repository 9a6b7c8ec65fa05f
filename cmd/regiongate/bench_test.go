package main

import (
	"strings"
	"testing"
)

func TestBenchInvocationIsAShellCommand(t *testing.T) {
	got := invocation([]string{"/work/bin/regiongate", "bench", "--self-contained", "--command", "go test -bench . ./router/",
		"--command=x", "--input", `{"items":0}`, "--write-doc", "docs/BENCHMARKS.md", "--modes", "direct,gateway", "it's"})
	want := `bin/regiongate bench --self-contained --input '{"items":0}' --write-doc docs/BENCHMARKS.md --modes direct,gateway 'it'\''s'`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestBenchRefusesAnUnknownMode(t *testing.T) {
	root := newRoot()
	root.SetArgs([]string{"bench", "--modes", "nonsense"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "unknown mode") {
		t.Fatalf("err = %v", err)
	}
}

func TestBenchRefusesFailoverAgainstADevStack(t *testing.T) {
	root := newRoot()
	root.SetArgs([]string{"bench", "--failover"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "--self-contained") {
		t.Fatalf("err = %v", err)
	}
}

func TestBenchRecordsRefusesAnUnknownStore(t *testing.T) {
	root := newRoot()
	root.SetArgs([]string{"bench", "records", "--store", "bolt,etcd"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `unknown store "etcd"`) {
		t.Fatalf("err = %v", err)
	}
}
