// Package gatewayd assembles a gateway process from its stores and
// settings: telemetry, one Temporal client per region with its payload
// codec, health checks, drain sync, drill refresh, the config watch, the
// codec endpoint and the two listeners. `regiongate serve`, `regiongate
// bench` and the test stack (internal/tool/devstack) all build their
// gateways here, so what the bench measures and the tests exercise is what
// serve runs.
package gatewayd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"google.golang.org/grpc"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/base/telemetry"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Defaults for zero durations in Options.
const (
	// DefaultDrainSync is how often drains other replicas set are re-read.
	DefaultDrainSync = time.Second
	// DefaultDrillRefresh is how often drills are re-read, so a drill's
	// end is honoured by every replica within it; the audit entries the
	// gateway writes by itself (drill ends, refused calls) follow at the
	// same pace.
	DefaultDrillRefresh = 500 * time.Millisecond
)

// Options are a gateway's stores and settings. Nil stores are kept in
// memory (see regions.Options and gateway.Options); every other zero value
// is what `regiongate serve` runs with.
type Options struct {
	// Config is the config in force at start; nil reads it from
	// ConfigSource.
	Config *configs.Config
	// ConfigSource is watched for changes and written by a config PUT;
	// nil keeps Config in memory only (then Config is required).
	ConfigSource configs.Source
	Records      regions.Records
	// RecordKeys make the records' keys (regions.RecordKeys). Every
	// replica sharing Records must have the same keys. Nil is allowed
	// only with Records nil or in memory (a random key): Start refuses it
	// for a store that outlives the gateway or is shared, where a key of
	// its own would make each gateway blind to the others' records.
	RecordKeys *regions.RecordKeys
	// Sweep tunes the records sweeper (regions.SweepOptions); its zero
	// value follows the config's records block. NoSweep turns it off.
	Sweep   regions.SweepOptions
	NoSweep bool
	Drains  regions.DrainStore
	Audit   audit.Store
	Drills  gateway.DrillStore
	// Tokens authenticate the admin API and the codec endpoint.
	Tokens []gateway.Token
	// ClientKeys are the client API's keys; whether one is required is the
	// config's clientAuth.
	ClientKeys ClientKeys
	// AllowOrigins are the browser origins allowed to call the APIs
	// across origins (gateway.Options.AllowOrigins).
	AllowOrigins []string
	Logger       *slog.Logger // nil: discard

	// CodecKeys finds each region's payload encryption keys; CodecOrigins
	// are the browser origins allowed to call the codec endpoint.
	CodecKeys    codec.Source
	CodecOrigins []string

	// TracerProvider traces the HTTP listeners and the regional clients;
	// nil builds one from the OTEL_* environment (telemetry), shut down by
	// Close. A given one is the caller's to shut down.
	TracerProvider *sdktrace.TracerProvider
	// OnStateChange hears every region state change (regions.Options).
	OnStateChange func(regions.StateChange)
	// Health tunes the health checks; the zero value takes the defaults.
	Health regions.HealthOptions
	// DrainSync and DrillRefresh are the intervals of those loops; zero
	// takes DefaultDrainSync and DefaultDrillRefresh.
	DrainSync, DrillRefresh time.Duration
	// DialOptions are added to every regional client's gRPC options (the
	// bench times the start RPCs with one).
	DialOptions []grpc.DialOption
	// WrapClient, when set, wraps the client API's handler (the bench
	// times it); nil serves it as it is.
	WrapClient func(http.Handler) http.Handler
}

// UseConsul puts the stores that replicas share (routing records, drains,
// audit, drills) in Consul KV under prefix, as `regiongate serve --consul`
// keeps them. The config source is set apart: where it lives and how it is
// seeded is the caller's; so are RecordKeys, which the replicas must share.
func (o *Options) UseConsul(c *api.Client, prefix string) {
	o.Records = regions.NewConsulRecords(c, prefix+"records/")
	o.Drains = regions.NewConsulDrains(c, prefix+"drains/")
	o.Audit = ConsulAudit(c, prefix)
	o.Drills = gateway.NewConsulDrills(c, prefix+"drills/")
	o.ClientKeys.Consul, o.ClientKeys.ConsulKey = c, prefix+"client-keys"
}

// ConsulAudit is the audit log of the gateways keeping their shared stores
// under prefix (UseConsul), for `regiongate audit verify` to read.
func ConsulAudit(c *api.Client, prefix string) *audit.ConsulStore {
	return audit.NewConsulStore(c, prefix+"audit/")
}

// Gateway is an assembled gateway: serve it with Serve or
// ServeInBackground, Close it when done.
type Gateway struct {
	Server  *gateway.Server
	Manager *regions.Manager

	log        *slog.Logger
	wrapClient func(http.Handler) http.Handler
	closers    []func()
}

// Start assembles the gateway, applies the config source's current config
// (a bad one, or one the audit log cannot record, is an error) and starts
// the background work: health checks, drain sync, drill refresh, the
// gateway's own audit entries and the config watch. It runs until ctx ends
// or Close.
func Start(ctx context.Context, o Options) (_ *Gateway, err error) {
	g := &Gateway{log: o.Logger, wrapClient: o.WrapClient}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	if err := checkRecordKeys(o); err != nil {
		return nil, err
	}
	if o.Config == nil {
		if o.Config, err = readConfig(ctx, o.ConfigSource); err != nil {
			return nil, err
		}
	}
	metrics, err := telemetry.NewMetrics()
	if err != nil {
		return nil, err
	}
	tp, err := g.tracerProvider(ctx, o.TracerProvider)
	if err != nil {
		return nil, err
	}
	if err := logCodecs(o.Config, o.CodecKeys, g.log); err != nil {
		return nil, err
	}
	for _, w := range o.Config.Warnings() {
		g.log.Warn("config: "+w.String(), "config_version", o.Config.Version())
	}
	if g.Manager, err = newManager(o, g.log, tp, metrics); err != nil {
		return nil, err
	}
	g.closers = append(g.closers, g.Manager.Close)
	bg, stopKeys := context.WithCancel(context.WithoutCancel(ctx))
	g.closers = append(g.closers, stopKeys)
	keys, err := o.ClientKeys.load(bg, g.log)
	if err != nil {
		return nil, err
	}
	g.Server, err = gateway.New(gateway.Options{
		ClientKeys: keys, AllowOrigins: o.AllowOrigins,
		Regions: g.Manager, Config: o.Config, WorkflowTypes: workflows.Names,
		Tokens: o.Tokens, Logger: g.log, Metrics: metrics.Handler,
		Meter: metrics.Meter("regiongate/gateway"), TracerProvider: tp,
		ConfigSource: o.ConfigSource, Audit: o.Audit, Drills: o.Drills,
		Codec: codec.NewHTTPHandler(codec.HTTPOptions{
			Lookup: g.codecLookup(o.CodecKeys),
			// g.Server is set before anything is served.
			Authorize: func(r *http.Request) (string, bool) { return g.Server.CodecAuthorize(r) },
			OnUse: func(r *http.Request, who, ns, op string, n int) error {
				return g.Server.AuditCodecUse(r, who, ns, op, n)
			},
			AllowOrigins: o.CodecOrigins,
		}),
	})
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, g.Server.Close)
	return g, g.startBackground(ctx, o)
}

func readConfig(ctx context.Context, src configs.Source) (*configs.Config, error) {
	if src == nil {
		return nil, errors.New("gatewayd: neither a config nor a config source")
	}
	rev, err := src.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading config from %s: %w", src, err)
	}
	cfg, err := configs.Parse(rev.Data)
	if err != nil {
		return nil, fmt.Errorf("config from %s: %w", src, err)
	}
	return cfg, nil
}

// tracerProvider is the given provider, or one built from the environment
// and shut down (flushed) on Close.
func (g *Gateway) tracerProvider(ctx context.Context, given *sdktrace.TracerProvider) (*sdktrace.TracerProvider, error) {
	if given != nil {
		return given, nil
	}
	tp, err := telemetry.NewTracerProvider(ctx, "regiongate-gateway", "")
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() { _ = tp.Shutdown(context.WithoutCancel(ctx)) })
	return tp, nil
}

// newManager builds the regional clients: traced, with the extra dial
// options, each with its region's payload codec.
func newManager(o Options, logger *slog.Logger, tp *sdktrace.TracerProvider, metrics *telemetry.Metrics) (*regions.Manager, error) {
	tracing, err := telemetry.TemporalTracing(tp)
	if err != nil {
		return nil, err
	}
	base := client.Options{
		Logger:       log.NewStructuredLogger(logger.With("component", "temporal")),
		Interceptors: []interceptor.ClientInterceptor{tracing},
	}
	base.ConnectionOptions.DialOptions = o.DialOptions
	return regions.NewManager(o.Config, regions.Options{
		Records: o.Records, RecordKeys: o.RecordKeys, Drains: o.Drains,
		OnStateChange: func(c regions.StateChange) {
			logStateChange(logger, c)
			if o.OnStateChange != nil {
				o.OnStateChange(c)
			}
		},
		Transport: regions.TransportOptions{Logger: logger},
		Meter:     metrics.Meter("regiongate/regions"),
		RegionClientOptions: func(rc configs.Region, base client.Options) (client.Options, error) {
			c, _, err := o.CodecKeys.Codec(rc.Name)
			return codec.ClientOptions(base, c), err
		},
		ClientOptions: base,
	})
}

// logStateChange logs a region's state change in one line: a region
// becoming unhealthy says why (regions.Reason), so an operator reads "the
// region refused our client certificate: it has expired" once per
// change, not once per request.
func logStateChange(logger *slog.Logger, c regions.StateChange) {
	level := slog.LevelInfo
	if c.To == "unhealthy" || c.To == "open" {
		level = slog.LevelWarn
	}
	attrs := []any{"region", c.Region, "what", c.What, "from", c.From, "to", c.To}
	if c.Reason != "" {
		attrs = append(attrs, "reason", c.Reason)
	}
	logger.Log(context.Background(), level, "region "+c.What+" changed", attrs...)
}

// startBackground checks every region once (so the first requests see
// real health), starts the loops and the config watch. Close stops the
// loops and waits for them before the clients are closed.
func (g *Gateway) startBackground(ctx context.Context, o Options) error {
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	g.closers = append(g.closers, func() { stop(); wg.Wait() })
	g.Manager.CheckHealthOnce(bg, o.Health)
	g.checkRecords(bg)
	if !o.NoSweep {
		sweep := o.Sweep
		sweep.OnSweep = g.logSweep(o.Sweep.OnSweep)
		wg.Go(func() { g.Manager.RunSweeper(bg, sweep) })
	}
	wg.Go(func() { g.Manager.RunHealthChecks(bg, o.Health) })
	wg.Go(func() { g.Manager.SyncDrains(bg, orDefault(o.DrainSync, DefaultDrainSync)) })
	wg.Go(func() { g.Manager.WatchActive(bg, orDefault(o.Health.Interval, regions.DefaultHealthInterval)) })
	wg.Go(func() { g.Server.RunDrills(bg, orDefault(o.DrillRefresh, DefaultDrillRefresh)) })
	wg.Go(func() { g.Server.RunAudit(bg, orDefault(o.DrillRefresh, DefaultDrillRefresh)) })
	return g.Server.WatchConfig(bg)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Close stops serving and the background work, closes the regional
// clients and flushes the tracer it built. It leaves the stores open: they
// are the caller's.
func (g *Gateway) Close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}

// errNoRecordKeys: routing records outside memory without RecordKeys.
var errNoRecordKeys = errors.New("routing records kept outside the gateway need RecordKeys, the same on every replica sharing them")

// checkRecordKeys refuses a records store that outlives the gateway or is
// shared with no RecordKeys: a random key per gateway would hide each
// replica's records from the others (and from itself after a restart), so
// one id could start in two regions.
func checkRecordKeys(o Options) error {
	if o.RecordKeys != nil || o.Records == nil {
		return nil
	}
	if _, inMemory := o.Records.(*regions.MemoryRecords); inMemory {
		return nil
	}
	return errNoRecordKeys
}
