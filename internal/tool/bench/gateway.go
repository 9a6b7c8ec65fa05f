package bench

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows/codec"
)

// servedGateway is a gateway built by internal/gatewayd, as `regiongate
// serve` builds one in its default local mode: routing records in bbolt and
// drains in a file under dir, tracing on (no exporter), the Temporal
// tracing interceptor on its clients, health checks at their defaults, and
// its client and admin APIs on free loopback ports; payload encryption off,
// as in the direct modes.
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
		Config: cfg, Records: records, Drains: regions.NewFileDrains(filepath.Join(dir, "drains.json")),
		Audit: &audit.Memory{}, Tokens: gateway.DevTokens(),
		// No payload encryption, whatever the environment holds: the direct
		// modes do not encrypt either, and the modes must do the same work.
		CodecKeys:   codec.Source{Getenv: func(string) string { return "" }},
		DialOptions: []grpc.DialOption{ov.DialOption()},
	})
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, gw.Close)
	g.Manager = gw.Manager
	if g.ClientURL, err = g.serve(ov.Handler(gw.Server.ClientHandler())); err != nil {
		return nil, err
	}
	g.AdminURL, err = g.serve(gw.Server.AdminHandler())
	return g, err
}

func (g *servedGateway) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Debug("bench gateway stopped serving", "error", err)
		}
	}()
	g.closers = append(g.closers, func() { _ = hs.Close() })
	return "http://" + ln.Addr().String(), nil
}

// Close stops serving, then closes the clients and the records.
func (g *servedGateway) Close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}
