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
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
)

// stores are where a gateway keeps what replicas share: the config, the
// routing records, drain state and the audit log. With Consul they live in
// its KV under one prefix; without it, in files under the state dir.
type stores struct {
	config  configs.Source
	records regions.Records
	drains  regions.DrainStore
	audit   audit.Store
	drills  gateway.DrillStore
	close   func()
}

func openStores(ctx context.Context, f serveFlags) (*stores, error) {
	if err := os.MkdirAll(f.stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state dir: %w", err)
	}
	if f.consulAddr != "" {
		return consulStores(ctx, f)
	}
	return localStores(ctx, f)
}

func localStores(ctx context.Context, f serveFlags) (*stores, error) {
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
	records, err := regions.OpenBoltRecords(filepath.Join(f.stateDir, "records.db"))
	if err != nil {
		return nil, err
	}
	return &stores{
		config:  configs.NewFileSource(path),
		records: records,
		drains:  regions.NewFileDrains(filepath.Join(f.stateDir, "drains.json")),
		audit:   &audit.FileStore{Path: filepath.Join(f.stateDir, "audit.jsonl")},
		drills:  &gateway.MemoryDrills{Path: filepath.Join(f.stateDir, "drills.json")},
		close:   func() { records.Close() },
	}, nil
}

func consulStores(ctx context.Context, f serveFlags) (*stores, error) {
	cc := api.DefaultConfig()
	cc.Address = f.consulAddr
	c, err := api.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	src := configs.NewConsulSource(c, f.consulPrefix+"config")
	if f.config != "" {
		// Seed an empty key from the given file; never overwrite.
		data, err := os.ReadFile(f.config)
		if err != nil {
			return nil, fmt.Errorf("reading seed config: %w", err)
		}
		if _, err := configs.Parse(data); err != nil {
			return nil, fmt.Errorf("seed config %s: %w", f.config, err)
		}
		if _, err := src.Seed(ctx, data); err != nil {
			return nil, err
		}
	}
	return &stores{
		config:  src,
		records: regions.NewConsulRecords(c, f.consulPrefix+"records/"),
		drains:  regions.NewConsulDrains(c, f.consulPrefix+"drains/"),
		audit:   audit.NewConsulStore(c, f.consulPrefix+"audit/"),
		drills:  gateway.NewConsulDrills(c, f.consulPrefix+"drills/"),
		close:   func() {},
	}, nil
}
