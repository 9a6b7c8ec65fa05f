package bench

import (
	"context"
	"os"
	"path/filepath"

	"google.golang.org/grpc"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows/codec"
)

// noEncryption finds no payload keys, whatever the environment holds: the
// direct modes do not encrypt either, and the modes must do the same work.
var noEncryption = codec.Source{Getenv: func(string) string { return "" }}

// servedGateway is a gateway built and served by internal/assembly/gatewayd, as
// `regiongate serve` builds and serves one in its default local mode:
// routing records in bbolt and drains in a file under dir, tracing on (no
// exporter), the Temporal tracing interceptor on its clients, health
// checks, drain sync, drill refresh and config watch at their defaults, and
// its client and admin APIs on free loopback ports; payload encryption
// off, as in the direct modes.
type servedGateway struct {
	ClientURL, AdminURL string
	Manager             *regions.Manager
	closers             []func()
}

// startGateway builds and serves it in dir; memoryRecords keeps the
// routing records in memory instead (what the test stack does), to
// measure what bbolt costs. ov times its regional clients' start RPCs and
// its client API handler.
func startGateway(ctx context.Context, cfg *configs.Config, dir string, memoryRecords bool, ov *Overhead) (_ *servedGateway, err error) {
	g := &servedGateway{}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var records regions.Records = regions.NewMemoryRecords()
	if !memoryRecords {
		bolt, err := regions.OpenBoltRecords(filepath.Join(dir, "records.db"))
		if err != nil {
			return nil, err
		}
		g.closers = append(g.closers, func() { bolt.Close() })
		records = bolt
	}
	gw, err := gatewayd.Start(ctx, gatewayd.Options{
		Config: cfg, Records: records, RecordKeys: regions.RandomRecordKeys(), // the records live as long as the bench
		Drains: regions.NewFileDrains(filepath.Join(dir, "drains.json")),
		Audit:  &audit.Memory{}, Tokens: gateway.DevTokens(), CodecKeys: noEncryption,
		DialOptions: []grpc.DialOption{ov.DialOption()}, WrapClient: ov.Handler,
	})
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, gw.Close)
	g.Manager = gw.Manager
	ls, err := gatewayd.Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gw.ServeInBackground(ls)
	g.ClientURL, g.AdminURL = ls.ClientURL(), ls.AdminURL()
	return g, nil
}

// Close stops serving, then closes the clients and the records.
func (g *servedGateway) Close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}
