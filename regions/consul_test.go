package regions_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/regions"
)

// TestConsulDrainsAcrossReplicas runs two replicas' drain stores, each
// with its own Consul client, against one real agent (the records: the
// conformance suite).
func TestConsulDrainsAcrossReplicas(t *testing.T) {
	realServers(t)
	agent := servers.consul
	client := func() *api.Client {
		c, err := agent.Client()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
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
