package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// startConsul starts a real agent and returns a client factory: each call
// is a separate client, as each gateway replica has its own.
func startConsul(t *testing.T) func() *api.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	agent, err := devstack.StartConsul(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	return func() *api.Client {
		c, err := agent.Client()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func TestConsulStoreIsSharedAcrossReplicas(t *testing.T) {
	client := startConsul(t)
	checkStore(t, audit.NewConsulStore(client(), "rg/audit/"), audit.NewConsulStore(client(), "rg/audit/"))
}

func TestVerifyFindsTamperingInConsul(t *testing.T) {
	client := startConsul(t)
	kv := client().KV()
	var n atomic.Int64
	checkTampering(t, func(t *testing.T) fixture {
		prefix := fmt.Sprintf("t%d/audit/", n.Add(1))
		key := func(seq uint64) string { return fmt.Sprintf("%sentries/%020d", prefix, seq) }
		return fixture{
			store: audit.NewConsulStore(client(), prefix),
			edit: func(t *testing.T, seq uint64, change func(*audit.Entry)) {
				p, _, err := kv.Get(key(seq), nil)
				if err != nil || p == nil {
					t.Fatalf("entry %d: %v", seq, err)
				}
				var e audit.Entry
				if err := json.Unmarshal(p.Value, &e); err != nil {
					t.Fatal(err)
				}
				change(&e)
				p.Value, _ = json.Marshal(e)
				if _, err := kv.Put(p, nil); err != nil {
					t.Fatal(err)
				}
			},
			remove: func(t *testing.T, seq uint64) {
				if _, err := kv.Delete(key(seq), nil); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// TestConsulReplicasAppendAtOnce: replicas appending at the same moment
// each get their own seq, and the chain stays whole.
func TestConsulReplicasAppendAtOnce(t *testing.T) {
	client := startConsul(t)
	const replicas, each = 4, 15
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, replicas*each)
	for r := range replicas {
		s := audit.NewConsulStore(client(), "rg/audit/")
		wg.Go(func() {
			for i := range each {
				if _, err := audit.Add(ctx, s, audit.Entry{Actor: fmt.Sprint("replica-", r), Action: "region.drain", Target: fmt.Sprint(i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustVerify(t, audit.NewConsulStore(client(), "rg/audit/"), replicas*each)
}

// TestConsulMarkIsRecordedOnceAcrossReplicas: replicas that apply the same
// change at once write one entry for it, and one for each later change,
// also a change back.
func TestConsulMarkIsRecordedOnceAcrossReplicas(t *testing.T) {
	client := startConsul(t)
	ctx := context.Background()
	stores := []audit.Store{audit.NewConsulStore(client(), "rg/audit/"), audit.NewConsulStore(client(), "rg/audit/")}
	for _, version := range []string{"v1", "v2", "v1"} {
		var wg sync.WaitGroup
		var appended atomic.Int64
		for _, s := range stores {
			for range 5 {
				wg.Go(func() {
					_, ok, err := s.Append(ctx, audit.Entry{Action: "config.replace", Target: version, Mark: "config=" + version}, audit.IfMarkDiffers)
					if err != nil {
						t.Error(err)
					}
					if ok {
						appended.Add(1)
					}
				})
			}
		}
		wg.Wait()
		if appended.Load() != 1 {
			t.Fatalf("%s recorded %d times, want once", version, appended.Load())
		}
	}
	mustVerify(t, stores[0], 3)
}

// TestConsulLegacyEntriesAreListedFirst: keys written by the store before
// the chain stay visible, before the chain, and count as legacy.
func TestConsulLegacyEntriesAreListedFirst(t *testing.T) {
	client := startConsul(t)
	c := client()
	old := `{"time":"2026-01-01T00:00:00Z","actor":"old","action":"region.drain","target":"eu-west"}`
	if _, err := c.KV().Put(&api.KVPair{Key: "rg/audit/00000000000000000001-000000000001-abcd", Value: []byte(old)}, nil); err != nil {
		t.Fatal(err)
	}
	s := audit.NewConsulStore(c, "rg/audit/")
	if _, err := audit.Add(context.Background(), s, entries()[0]); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(context.Background())
	if err != nil || len(got) != 2 || got[0].Actor != "old" || got[1].Seq != 1 {
		t.Fatalf("list: %+v %v", got, err)
	}
	if r := mustVerify(t, s, 1); r.Legacy != 1 || !strings.HasPrefix(r.Head.String(), "1:") {
		t.Fatalf("report %+v", r)
	}
}
