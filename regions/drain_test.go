package regions

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

func drainStores() map[string]func(t *testing.T) DrainStore {
	return map[string]func(t *testing.T) DrainStore{
		"memory": func(*testing.T) DrainStore { return NewMemoryDrains() },
		"file":   func(t *testing.T) DrainStore { return NewFileDrains(filepath.Join(t.TempDir(), "drains.json")) },
	}
}

func TestDrainStoresBehaveAlike(t *testing.T) {
	ctx := context.Background()
	for name, open := range drainStores() {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if got, err := s.Load(ctx); err != nil || len(got) != 0 {
				t.Fatalf("fresh store: %v, %v", got, err)
			}
			for _, step := range []struct {
				region  string
				drained bool
				want    map[string]bool
			}{
				{"eu-west", true, map[string]bool{"eu-west": true}},
				{"us-east", true, map[string]bool{"eu-west": true, "us-east": true}},
				{"eu-west", true, map[string]bool{"eu-west": true, "us-east": true}},
				{"eu-west", false, map[string]bool{"us-east": true}},
				{"eu-central", false, map[string]bool{"us-east": true}},
			} {
				if err := s.Set(ctx, step.region, step.drained); err != nil {
					t.Fatal(err)
				}
				got, err := s.Load(ctx)
				if err != nil || !maps.Equal(got, step.want) {
					t.Fatalf("after Set(%s, %v): %v, %v; want %v", step.region, step.drained, got, err, step.want)
				}
				got["mutated"] = true // Load hands out a copy
			}
		})
	}
}

func TestFileDrainsWritesWholeFilesOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "drains.json")
	s := NewFileDrains(path)
	for _, r := range []string{"us-west", "eu-west"} {
		if err := s.Set(context.Background(), r, true); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var df drainFile
	if err := json.Unmarshal(data, &df); err != nil || len(df.Drained) != 2 || df.Drained[0] != "eu-west" {
		t.Fatalf("file %s: %+v, %v", data, df, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestFileDrainsRefusesACorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drains.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := NewFileDrains(path)
	if _, err := s.Load(context.Background()); err == nil {
		t.Fatal("loaded a corrupt file")
	}
	// Guessing would be worse than refusing: a drained region must not
	// come back into rotation because its file was damaged.
	if err := s.Set(context.Background(), "eu-west", false); err == nil {
		t.Fatal("overwrote a corrupt file")
	}
}

func TestDrainSurvivesAGatewayRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drains.json")
	var changes []StateChange
	first, err := NewManager(configs.Default(), Options{Drains: NewFileDrains(path), OnStateChange: func(c StateChange) { changes = append(changes, c) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.SetDrained("eu-west", true); err != nil {
		t.Fatal(err)
	}
	if err := first.SetDrained("no-such-region", true); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("unknown region: %v", err)
	}
	first.Close()
	if len(changes) != 1 || changes[0] != (StateChange{Region: "eu-west", What: "drain", From: "active", To: "drained"}) {
		t.Fatalf("changes %+v", changes)
	}

	second, err := NewManager(configs.Default(), Options{Drains: NewFileDrains(path)})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if s := second.Snapshot(); !s["eu-west"].Drained || s["eu-central"].Drained {
		t.Fatalf("after restart: %+v", s)
	}
	if err := second.SetDrained("eu-west", false); err != nil {
		t.Fatal(err)
	}
	if r, _ := second.Region("eu-west"); r.Drained() {
		t.Fatal("restore did not take")
	}
}

func TestDrainIsUnchangedWhenItCannotBeSaved(t *testing.T) {
	m, err := NewManager(configs.Default(), Options{Drains: NewFileDrains(filepath.Join(t.TempDir(), "missing-dir", "drains.json"))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetDrained("eu-west", true); err == nil {
		t.Fatal("drain reported success though it was not saved")
	}
	if m.Snapshot()["eu-west"].Drained {
		t.Fatal("drained in memory though not saved: a restart would undo it")
	}
}
