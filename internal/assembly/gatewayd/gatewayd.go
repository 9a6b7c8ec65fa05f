// Package gatewayd assembles a gateway process from its stores and
// settings: telemetry, one Temporal client per region with its payload
// codec, health checks, drain sync and the gateway's handlers. `regiongate
// serve` and `regiongate bench` build their gateways here, so the bench
// measures what serve runs.
package gatewayd

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"google.golang.org/grpc"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/base/telemetry"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Options are a gateway's stores and settings. Nil stores are kept in
// memory (see regions.Options and gateway.Options).
type Options struct {
	Config       *configs.Config
	ConfigSource configs.Source // nil: the config cannot be changed at run time
	Records      regions.Records
	Drains       regions.DrainStore
	Audit        audit.Store
	Drills       gateway.DrillStore
	Tokens       []gateway.Token
	Logger       *slog.Logger // nil: discard

	// CodecKeys finds each region's payload encryption keys; CodecOrigins
	// are the browser origins allowed to call the codec endpoint.
	CodecKeys    codec.Source
	CodecOrigins []string

	// DialOptions are added to every regional client's gRPC options (the
	// bench times the start RPCs with one).
	DialOptions []grpc.DialOption
}

// Gateway is an assembled gateway: serve Server's handlers, Close when done.
type Gateway struct {
	Server  *gateway.Server
	Manager *regions.Manager
	closers []func()
}

// Start assembles the gateway and starts its background work (health
// checks, drain sync), which runs until ctx ends or Close.
func Start(ctx context.Context, o Options) (_ *Gateway, err error) {
	g := &Gateway{}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	metrics, err := telemetry.NewMetrics()
	if err != nil {
		return nil, err
	}
	tp, err := telemetry.NewTracerProvider(ctx, "regiongate-gateway", "")
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() { _ = tp.Shutdown(context.WithoutCancel(ctx)) })
	tracing, err := telemetry.TemporalTracing(tp)
	if err != nil {
		return nil, err
	}
	if err := logCodecs(o.Config, o.CodecKeys, logger); err != nil {
		return nil, err
	}
	base := client.Options{
		Logger:       log.NewStructuredLogger(logger.With("component", "temporal")),
		Interceptors: []interceptor.ClientInterceptor{tracing},
	}
	base.ConnectionOptions.DialOptions = o.DialOptions
	g.Manager, err = regions.NewManager(o.Config, regions.Options{
		Records: o.Records,
		Drains:  o.Drains,
		Meter:   metrics.Meter("regiongate/regions"),
		RegionClientOptions: func(rc configs.Region, base client.Options) (client.Options, error) {
			c, _, err := o.CodecKeys.Codec(rc.Name)
			return codec.ClientOptions(base, c), err
		},
		ClientOptions: base,
	})
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, g.Manager.Close)

	bg, stop := context.WithCancel(ctx)
	g.closers = append(g.closers, stop)
	g.Manager.CheckHealthOnce(bg, regions.HealthOptions{})
	go g.Manager.RunHealthChecks(bg, regions.HealthOptions{})
	// Re-read drains every second, for those other replicas set.
	go g.Manager.SyncDrains(bg, time.Second)

	g.Server, err = gateway.New(gateway.Options{
		Regions: g.Manager, Config: o.Config, WorkflowTypes: workflows.Names,
		Tokens: o.Tokens, Logger: logger, Metrics: metrics.Handler,
		Meter: metrics.Meter("regiongate/gateway"), TracerProvider: tp,
		ConfigSource: o.ConfigSource, Audit: o.Audit, Drills: o.Drills,
		Codec: codec.NewHTTPHandler(codec.HTTPOptions{
			Lookup:    g.codecLookup(o.CodecKeys),
			Authorize: gateway.Authorizer(o.Tokens, gateway.RoleOperator), AllowOrigins: o.CodecOrigins,
		}),
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Close stops the background work, closes the regional clients and
// flushes the tracer. It leaves the stores open: they are the caller's.
func (g *Gateway) Close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}

// logCodecs says which regions encrypt (key ids, never keys); a region
// without keys is an error when keys.Require.
func logCodecs(cfg *configs.Config, keys codec.Source, logger *slog.Logger) error {
	for _, rc := range cfg.Regions {
		c, from, err := keys.Codec(rc.Name)
		if err != nil {
			return err
		}
		if c == nil {
			logger.Warn("payload encryption is off: no codec keys", "region", rc.Name)
			continue
		}
		logger.Info("payload encryption on", "region", rc.Name, "active_key", c.ActiveKeyID(), "from", from)
	}
	return nil
}

// codecLookup finds the codec of a namespace for the codec endpoint from
// the config in force: the region's own namespace and its isolated
// tenants' share the region's keys, and a region added by a config change
// is served without a restart. Codecs are built once per region.
func (g *Gateway) codecLookup(keys codec.Source) func(string) (converter.PayloadCodec, bool) {
	var built sync.Map // region name -> *codec.Codec
	return func(namespace string) (converter.PayloadCodec, bool) {
		cfg := g.Server.Config()
		for _, rc := range cfg.Regions {
			if !slices.Contains(router.Namespaces(cfg, rc), namespace) {
				continue
			}
			if c, ok := built.Load(rc.Name); ok {
				return c.(*codec.Codec), true
			}
			c, _, err := keys.Codec(rc.Name)
			if err != nil || c == nil {
				return nil, false
			}
			built.Store(rc.Name, c)
			return c, true
		}
		return nil, false
	}
}
