package regions_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/jackc/pgx/v5"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// recordStore is one Records implementation as the conformance suite
// needs it.
type recordStore struct {
	name string
	// open returns a new, empty store.
	open func(t *testing.T) *openStore
	// broken returns a store whose backend cannot be reached (nil: it
	// cannot fail, as memory cannot).
	broken func(t *testing.T) regions.Records
}

// openStore is one store under test.
type openStore struct {
	regions.Records
	// reopen closes the store and opens it again on the same data, as a
	// restarted gateway would (nil: nothing survives, as in memory).
	reopen func(t *testing.T) regions.Records
	// replica opens a second client on the same data, as another gateway
	// replica has (nil: one process only).
	replica func(t *testing.T) regions.Records
	// versionNamesAWrite: the store compares versions alone, as Consul's
	// ModifyIndex names one write of the whole cluster, so a record with
	// the right version and another placement can only be made up.
	versionNamesAWrite bool
}

// servers are the real servers the shared stores run on: one Consul
// agent and one PostgreSQL for the whole test binary, each case under a
// prefix or schema of its own.
var servers struct {
	once     sync.Once
	dir      string
	consul   *devstack.Consul
	postgres *devstack.Postgres
	err      error
	n        atomic.Int64
}

func realServers(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Consul agent and PostgreSQL (skipped under -short)")
	}
	servers.once.Do(func() {
		ctx := context.Background()
		if servers.dir, servers.err = os.MkdirTemp("", "regiongate-records-"); servers.err != nil {
			return
		}
		if servers.consul, servers.err = devstack.StartConsul(ctx, servers.dir); servers.err != nil {
			return
		}
		servers.postgres, servers.err = devstack.StartPostgres(ctx)
	})
	if servers.err != nil {
		t.Fatal(servers.err)
	}
}

// TestMain stops the shared servers: PostgreSQL runs detached (pg_ctl)
// and would outlive the test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	if servers.consul != nil {
		servers.consul.Stop()
	}
	if servers.postgres != nil {
		servers.postgres.Stop()
	}
	if servers.dir != "" {
		os.RemoveAll(servers.dir)
	}
	os.Exit(code)
}

func recordStores() []recordStore {
	return []recordStore{
		{name: "memory", open: func(*testing.T) *openStore { return &openStore{Records: regions.NewMemoryRecords()} }},
		{name: "bolt", open: openBolt, broken: func(t *testing.T) regions.Records {
			b, err := regions.OpenBoltRecords(filepath.Join(t.TempDir(), "records.db"))
			if err != nil {
				t.Fatal(err)
			}
			b.Close() // every call now fails: the file is not open
			return b
		}},
		{name: "consul", open: openConsul, broken: func(t *testing.T) regions.Records {
			return regions.NewConsulRecords(consulClient(t, closedAddr(t)), "rg/records/")
		}},
		{name: "postgres", open: openPostgres, broken: func(t *testing.T) regions.Records {
			p, err := regions.OpenPostgresRecords(context.Background(),
				fmt.Sprintf("postgres://rg@%s/postgres?sslmode=disable&connect_timeout=2", closedAddr(t)),
				regions.PostgresOptions{SkipMigrate: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			return p
		}},
	}
}

func openBolt(t *testing.T) *openStore {
	path := filepath.Join(t.TempDir(), "records.db")
	open := func(t *testing.T) *regions.BoltRecords {
		b, err := regions.OpenBoltRecords(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	b := open(t)
	return &openStore{Records: b, reopen: func(t *testing.T) regions.Records {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		return open(t)
	}}
}

func openConsul(t *testing.T) *openStore {
	realServers(t)
	prefix := fmt.Sprintf("rg-%d/records/", servers.n.Add(1))
	open := func(t *testing.T) regions.Records {
		return regions.NewConsulRecords(consulClient(t, servers.consul.Addr), prefix)
	}
	return &openStore{Records: open(t), reopen: open, replica: open, versionNamesAWrite: true}
}

func openPostgres(t *testing.T) *openStore {
	realServers(t)
	ctx := context.Background()
	schema := fmt.Sprintf("case_%d", servers.n.Add(1))
	conn, err := pgx.Connect(ctx, servers.postgres.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T) regions.Records {
		p, err := regions.OpenPostgresRecords(ctx, servers.postgres.DSN+"&search_path="+schema, regions.PostgresOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	first := open(t)
	return &openStore{Records: first, reopen: func(t *testing.T) regions.Records {
		first.(*regions.PostgresRecords).Close()
		return open(t)
	}, replica: open}
}

func consulClient(t *testing.T, addr string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// TestPostgresRecordsRecoverWithoutARestart: a gateway opens its store
// while PostgreSQL is down (it must start and serve reads), every call
// fails as unavailable, and once the server is up the schema is applied by
// the next call and everything works.
func TestPostgresRecordsRecoverWithoutARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real PostgreSQL (skipped under -short)")
	}
	pg, err := devstack.StartPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	pg.Kill()
	p, err := regions.OpenPostgresRecords(ctx, pg.DSN+"&connect_timeout=2", regions.PostgresOptions{})
	if err != nil {
		t.Fatalf("open while the server is down: %v", err)
	}
	t.Cleanup(p.Close)
	if _, err := p.Claim(ctx, "wf-1", at("eu-west")); !errors.Is(err, regions.ErrRecordsUnavailable) {
		t.Fatalf("claim while down: %v", err)
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rec := claim(t, p, "wf-1", "eu-west")
	if got := lookup(t, p, "wf-1"); got != rec {
		t.Fatalf("lookup: %v, want %v", got, rec)
	}
	pg.Kill()
	if _, err := p.Lookup(ctx, "wf-1"); !errors.Is(err, regions.ErrRecordsUnavailable) {
		t.Fatalf("lookup while down again: %v", err)
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the pool to reconnect", func() bool {
		got, err := p.Lookup(ctx, "wf-1")
		return err == nil && got == rec
	})
}
