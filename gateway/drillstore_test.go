package gateway

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMemoryDrillsFileSurvivesARestart: a store reopened on the same file
// holds what the first one stored, and each save leaves only that file
// (the old fixed ".tmp" name is gone with its missing fsync).
func TestMemoryDrillsFileSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "drills.json")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	dr := Drill{ID: "drill-1", Region: "eu-west", Start: now, End: now.Add(time.Minute), Actor: "dev-operator"}

	first := &MemoryDrills{Path: path}
	if err := first.Create(ctx, dr); err != nil {
		t.Fatal(err)
	}
	if err := first.PutStats(ctx, dr.ID, "replica-a", DrillStats{Rerouted: 3}); err != nil {
		t.Fatal(err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 || names[0].Name() != "drills.json" {
		t.Fatalf("directory holds %v; want only drills.json", names)
	}

	second := &MemoryDrills{Path: path}
	list, err := second.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != dr.ID || !list[0].End.Equal(dr.End) {
		t.Fatalf("reopened store lists %+v, %v", list, err)
	}
	stats, err := second.Stats(ctx, dr.ID)
	if err != nil || stats["replica-a"].Rerouted != 3 {
		t.Fatalf("reopened store's stats %+v, %v", stats, err)
	}
	if err := second.Create(ctx, Drill{ID: "drill-2", Region: "eu-west", Start: now.Add(time.Second), End: now.Add(2 * time.Minute)}); !errors.Is(err, ErrDrillConflict) {
		t.Fatalf("second drill of a drilled region: %v", err)
	}
}
