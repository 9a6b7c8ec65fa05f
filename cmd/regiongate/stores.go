package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
)

// openStores sets where the gateway keeps what replicas share: the config,
// the routing records, drain state, the audit log and drills. With Consul
// they live in its KV under one prefix; without it, in files under the
// state dir. The routing records go to PostgreSQL instead when
// --records-postgres says so, and are keyed with the records keys
// (recordsStore). close releases them once the gateway is closed.
func openStores(ctx context.Context, f serveFlags, o *gatewayd.Options) (close func(), err error) {
	if err := os.MkdirAll(f.stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state dir: %w", err)
	}
	closeLocal := func() {}
	if f.consulAddr != "" {
		err = consulStores(ctx, f, o)
	} else {
		closeLocal, err = localStores(ctx, f, o)
	}
	if err != nil {
		return nil, err
	}
	closeRecords, err := recordsStore(ctx, f, o)
	if err != nil {
		closeLocal()
		return nil, err
	}
	return func() { closeRecords(); closeLocal() }, nil
}

func localStores(ctx context.Context, f serveFlags, o *gatewayd.Options) (func(), error) {
	path := f.config
	if path == "" {
		// The embedded dev config seeds a local copy, so a PUT has
		// somewhere to go and survives a restart (`make clean` resets it).
		path = filepath.Join(f.stateDir, "config.yaml")
		src := configs.NewFileSource(path)
		if _, err := src.Write(ctx, configs.DefaultYAML(), 0); err != nil && !errors.Is(err, configs.ErrStale) {
			return nil, err
		}
	}
	o.ConfigSource = configs.NewFileSource(path)
	o.Drains = regions.NewFileDrains(filepath.Join(f.stateDir, "drains.json"))
	o.Audit = &audit.FileStore{Path: filepath.Join(f.stateDir, "audit.jsonl")}
	o.Drills = &gateway.MemoryDrills{Path: filepath.Join(f.stateDir, "drills.json")}
	if f.recordsPostgres != "" {
		return func() {}, nil
	}
	records, err := regions.OpenBoltRecords(filepath.Join(f.stateDir, "records.db"))
	if err != nil {
		return nil, err
	}
	o.Records = records
	return func() { records.Close() }, nil
}

// consulClient talks to the Consul agent at addr (CONSUL_HTTP_TOKEN and
// the other CONSUL_* variables apply).
func consulClient(addr string) (*api.Client, error) {
	cc := api.DefaultConfig()
	cc.Address = addr
	c, err := api.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	return c, nil
}

func consulStores(ctx context.Context, f serveFlags, o *gatewayd.Options) error {
	c, err := consulClient(f.consulAddr)
	if err != nil {
		return err
	}
	src := configs.NewConsulSource(c, f.consulPrefix+"config")
	if f.config != "" {
		// Seed an empty key from the given file; never overwrite.
		data, err := os.ReadFile(f.config)
		if err != nil {
			return fmt.Errorf("reading seed config: %w", err)
		}
		if _, err := configs.Parse(data); err != nil {
			return fmt.Errorf("seed config %s: %w", f.config, err)
		}
		if _, err := src.Seed(ctx, data); err != nil {
			return err
		}
	}
	o.ConfigSource = src
	o.UseConsul(c, f.consulPrefix)
	return nil
}
