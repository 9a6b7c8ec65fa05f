package audit_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

func entries() []audit.Entry {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return []audit.Entry{
		{Time: t0, Actor: "dev-compliance", Action: "config.replace", Target: "abc", Detail: "1 route changed"},
		{Time: t0.Add(time.Second), Actor: "dev-operator", Action: "region.drain", Target: "eu-west"},
		{Time: t0.Add(time.Second), Actor: "dev-operator", Action: "region.restore", Target: "eu-west"},
	}
}

// checkStore appends entries through one store and reads them through
// another over the same place: what a restarted gateway or another replica
// sees.
func checkStore(t *testing.T, write, read audit.Store) {
	t.Helper()
	ctx := context.Background()
	if got, err := read.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	for _, e := range entries() {
		if err := write.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := read.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := entries()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Action != want[i].Action || got[i].Actor != want[i].Actor {
			t.Fatalf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFileStoreAppendsAndSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	checkStore(t, &audit.FileStore{Path: path}, &audit.FileStore{Path: path})
}

func TestConsulStoreIsSharedAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	agent, err := devstack.StartConsul(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	a, err := agent.Client()
	if err != nil {
		t.Fatal(err)
	}
	b, err := agent.Client()
	if err != nil {
		t.Fatal(err)
	}
	checkStore(t, audit.NewConsulStore(a, "rg/audit/"), audit.NewConsulStore(b, "rg/audit/"))
}
