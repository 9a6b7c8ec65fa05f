package regions_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// TestConsulRecordsAcrossReplicas runs two replicas' stores, each with its
// own Consul client, against one real agent.
func TestConsulRecordsAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	ctx := context.Background()
	agent, err := devstack.StartConsul(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	client := func() *api.Client {
		c, err := agent.Client()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := regions.NewConsulRecords(client(), "rg/records/")
	b := regions.NewConsulRecords(client(), "rg/records/")

	t.Run("one claim wins across replicas", func(t *testing.T) {
		const id = "order/42 with spaces"
		var wg sync.WaitGroup
		results := make([]error, 20)
		winners := make([]regions.Record, 20)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				store, region := a, "eu-west"
				if i%2 == 1 {
					store, region = b, "eu-central"
				}
				winners[i], results[i] = store.Claim(ctx, id, regions.Placement{Region: region, Namespace: "dev-" + region})
			}()
		}
		wg.Wait()
		won := 0
		for i, err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, regions.ErrRecordExists):
				t.Fatalf("claim %d: %v", i, err)
			}
		}
		rec, err := b.Lookup(ctx, id)
		if err != nil || won != 1 || rec.Region == "" {
			t.Fatalf("%d winners, record %+v, %v", won, rec, err)
		}
		for i := range winners {
			if winners[i].Region != rec.Region {
				t.Fatalf("claim %d saw %q, the record is %q", i, winners[i].Region, rec.Region)
			}
		}
	})

	t.Run("move and release are check-and-set", func(t *testing.T) {
		rec, err := a.Claim(ctx, "wf-move", regions.Placement{Region: "eu-west"})
		if err != nil {
			t.Fatal(err)
		}
		moved, err := b.Move(ctx, "wf-move", rec, regions.Placement{Region: "eu-central"})
		if err != nil || moved.Region != "eu-central" || moved.Version == rec.Version {
			t.Fatalf("move: %+v %v", moved, err)
		}
		if _, err := a.Move(ctx, "wf-move", rec, regions.Placement{Region: "us-east"}); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("a stale move must fail: %v", err)
		}
		if err := a.Release(ctx, "wf-move", rec); !errors.Is(err, regions.ErrRecordChanged) {
			t.Fatalf("a stale release must fail: %v", err)
		}
		if err := a.Release(ctx, "wf-move", moved); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Lookup(ctx, "wf-move"); got != (regions.Record{}) {
			t.Fatalf("released record still there: %+v", got)
		}
	})

	t.Run("a drain on one replica reaches the other", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		cfg := configs.Default()
		a, err := regions.NewManager(cfg, regions.Options{Drains: regions.NewConsulDrains(client(), "rg/mgr-drains/")})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := regions.NewManager(cfg, regions.Options{Drains: regions.NewConsulDrains(client(), "rg/mgr-drains/")})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		go b.SyncDrains(ctx, 20*time.Millisecond)
		if err := a.SetDrained("eu-west", true); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 10*time.Second, "replica b to see the drain", func() bool { return b.Snapshot()["eu-west"].Drained })
		if err := a.SetDrained("eu-west", false); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 10*time.Second, "replica b to see the undrain", func() bool { return !b.Snapshot()["eu-west"].Drained })
	})

	t.Run("drains are shared", func(t *testing.T) {
		da := regions.NewConsulDrains(client(), "rg/drains/")
		db := regions.NewConsulDrains(client(), "rg/drains/")
		if err := da.Set(ctx, "eu-west", true); err != nil {
			t.Fatal(err)
		}
		got, err := db.Load(ctx)
		if err != nil || !got["eu-west"] || len(got) != 1 {
			t.Fatalf("after drain: %v %v", got, err)
		}
		if err := db.Set(ctx, "eu-west", false); err != nil {
			t.Fatal(err)
		}
		if got, _ := da.Load(ctx); len(got) != 0 {
			t.Fatalf("after restore: %v", got)
		}
	})
}
