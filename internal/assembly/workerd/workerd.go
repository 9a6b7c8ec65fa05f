// Package workerd assembles a regional worker process: what it polls (from
// the region config), its Temporal connection (TLS, API key, payload
// codec, tracing, SDK metrics) shared by one client per namespace, and a
// workflows.Pool per namespace. `regiongate worker` and the test stack
// (internal/tool/devstack) both start their workers here.
package workerd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/telemetry"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Options are a worker process's settings. Zero values take what
// `regiongate worker` runs with when its flags are left out.
type Options struct {
	// Config is the region config; required.
	Config *configs.Config
	// Region is the region this worker serves; required, and in Config.
	Region string
	// Address is the Temporal frontend; "" means the region's endpoint.
	Address string
	// Namespaces to poll; empty means the region's own and every isolated
	// tenant's. TaskQueues to poll; empty means every queue the gateway
	// routes to in the region. Both are trimmed and deduplicated. With
	// both empty the worker also polls the namespaces of every region
	// replicated to this one (Hosted).
	Namespaces, TaskQueues []string
	// Worker applies to every worker: concurrency limits, stop timeout.
	// The zero value takes the SDK's defaults.
	Worker worker.Options
	// ServicesFile configures the payment, property and notification
	// services the activities call, per region (docs/workflows.md); ""
	// means the in-memory stand-ins, for development only.
	ServicesFile string
	// ResourceTuning, when set, hands out task slots by the process's CPU
	// and memory (the SDK's resource-based tuner) instead of fixed
	// concurrency limits, which must then be zero.
	ResourceTuning *workflows.ResourceTuning

	// TLS, when set, overrides the region config's tls block field by
	// field (a field set here wins) and turns TLS on: how the worker's
	// --tls-* flags apply. nil dials as the config says
	// (regions.NewTransport: the same reading the gateway makes).
	TLS *configs.TLS
	// APIKey, when set, is sent instead of the config's apiKey, over TLS.
	// Deprecated: a key in a flag shows in ps; the config's apiKey reads
	// it from a file (re-read when it changes) or a variable.
	APIKey string
	// CodecKeys finds the region's payload encryption keys.
	CodecKeys codec.Source

	// TracerProvider traces the workers; nil builds one from the OTEL_*
	// environment (telemetry), shut down by Stop. A given one is the
	// caller's to shut down.
	TracerProvider *sdktrace.TracerProvider
	// MetricsAddr, when set, serves the SDK's worker metrics at
	// http://MetricsAddr/metrics; "" leaves them off.
	MetricsAddr string
	Logger      *slog.Logger // nil: discard
}

// Plan is what a worker polls and where, resolved from Options and the
// config before anything is dialled.
type Plan struct {
	Region, Address        string
	Namespaces, TaskQueues []string
	// Hosted are the replicated regions' namespaces polled here too.
	Hosted []Hosted
}

// NewPlan resolves o's defaults against the config.
func NewPlan(o Options) (Plan, error) {
	if o.Config == nil || o.Region == "" {
		return Plan{}, errors.New("a worker needs a config and a region")
	}
	rc, ok := o.Config.Region(o.Region)
	if !ok {
		return Plan{}, fmt.Errorf("region %q is not in the config", o.Region)
	}
	if o.Worker.MaxConcurrentActivityExecutionSize < 0 || o.Worker.MaxConcurrentWorkflowTaskExecutionSize < 0 || o.Worker.WorkerStopTimeout < 0 {
		return Plan{}, errors.New("concurrency limits and the stop timeout must not be negative")
	}
	p := Plan{
		Region:     o.Region,
		Address:    cmp.Or(o.Address, rc.Endpoint),
		Namespaces: cleanList(o.Namespaces),
		TaskQueues: cleanList(o.TaskQueues),
	}
	if len(p.Namespaces) == 0 && len(p.TaskQueues) == 0 {
		p.Hosted = hostedBy(o.Config, o.Region)
	}
	if len(p.Namespaces) == 0 {
		p.Namespaces = router.Namespaces(o.Config, rc) // the region's own and every isolated tenant's
	}
	if len(p.TaskQueues) == 0 {
		p.TaskQueues = router.TaskQueues(o.Region, workflows.Names)
	}
	return p, nil
}

// cleanList trims, drops empties and duplicates, keeping the order.
func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Worker is a running worker process: Stop it when done.
type Worker struct {
	Plan    Plan
	log     *slog.Logger
	clients []client.Client // the first owns the connection
	pools   []*workflows.Pool
	closers []func()
	explain func(error) error // regions.Transport.Explain: what is wrong with our credentials
}

// Start plans, dials once and starts a pool per namespace; it returns once
// every worker polls. ctx bounds the dial; the worker runs until Stop.
func Start(ctx context.Context, o Options) (_ *Worker, err error) {
	w := &Worker{log: o.Logger}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.Plan, err = NewPlan(o); err != nil {
		return nil, err
	}
	w.log = w.log.With("region", w.Plan.Region)
	defer func() {
		if err != nil {
			w.Stop()
		}
	}()
	opts, err := w.clientOptions(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := w.dial(ctx, opts); err != nil {
		return nil, err
	}
	acts, err := w.activities(o)
	if err != nil {
		return nil, err
	}
	if o.ResourceTuning != nil {
		if o.Worker.Tuner, err = workflows.NewResourceTuner(*o.ResourceTuning); err != nil {
			return nil, err
		}
	}
	for i, c := range w.clients {
		pool, err := workflows.StartPool(c, w.Plan.TaskQueues, acts, o.Worker)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", w.Plan.Namespaces[i], err)
		}
		w.pools = append(w.pools, pool)
	}
	if err := w.startHosted(ctx, o, opts, acts); err != nil {
		return nil, err
	}
	w.log.Info("worker polling", "address", w.Plan.Address, "namespaces", w.Plan.Namespaces, "task_queues", len(w.Plan.TaskQueues))
	return w, nil
}

// activities are the process's one set of activities (their idempotency
// keys hold the run id, so namespaces cannot collide in them), calling the
// services the services file names for the region, or the stand-ins.
func (w *Worker) activities(o Options) (*workflows.Activities, error) {
	if o.ServicesFile == "" {
		w.log.Warn("services: in-memory stand-ins (development only); pass a services file in production")
		return workflows.NewActivities(), nil
	}
	svcs, cfg, err := workflows.LoadServices(o.ServicesFile, w.Plan.Region)
	if err != nil {
		return nil, err
	}
	w.log.Info("services", "config", cfg.String())
	return workflows.NewActivitiesWith(svcs), nil
}

// clientOptions builds the connection's options: address, TLS, API key,
// the region's codec, the tracing interceptor (which also traces the
// workers) and the SDK's metrics. The codec comes first, so a worker
// without the keys it requires fails before anything is dialled.
func (w *Worker) clientOptions(ctx context.Context, o Options) (client.Options, error) {
	cdc, err := regionCodec(o.CodecKeys, w.Plan.Region, w.log)
	if err != nil {
		return client.Options{}, err
	}
	tr, err := regions.NewTransport(w.Plan.Region, connection(o, w.Plan), regions.TransportOptions{Logger: w.log})
	if err != nil {
		return client.Options{}, err
	}
	watch, stop := context.WithCancel(context.WithoutCancel(ctx))
	go tr.Watch(watch) // TLS files and API key re-read while the worker runs
	w.closers = append(w.closers, stop)
	opts := connectionOptions(o, w.Plan, tr, cdc)
	w.explain = tr.Explain
	opts.Logger = log.NewStructuredLogger(w.log.With("component", "temporal"))
	tp := o.TracerProvider
	if tp == nil {
		if tp, err = telemetry.NewTracerProvider(ctx, "regiongate-worker", w.Plan.Region); err != nil {
			return client.Options{}, err
		}
		w.closers = append(w.closers, func() { _ = tp.Shutdown(context.WithoutCancel(ctx)) })
	}
	tracing, err := telemetry.TemporalTracing(tp)
	if err != nil {
		return client.Options{}, err
	}
	opts.Interceptors = append(opts.Interceptors, tracing)
	if o.MetricsAddr != "" {
		if opts.MetricsHandler, err = w.serveMetrics(o.MetricsAddr); err != nil {
			return client.Options{}, err
		}
	}
	return opts, nil
}

// connection is the region's connection as its config says, dialled at
// the plan's address, with o's overrides.
func connection(o Options, p Plan) configs.Connection {
	rc, _ := o.Config.Region(p.Region) // NewPlan made sure it is there
	conn := rc.Connection()
	conn.Endpoint = p.Address
	if t := o.TLS; t != nil {
		conn.UseTLS = true
		conn.TLS.CAFile = cmp.Or(t.CAFile, conn.TLS.CAFile)
		conn.TLS.ServerName = cmp.Or(t.ServerName, conn.TLS.ServerName)
		if t.CertFile != "" || t.KeyFile != "" {
			conn.TLS.CertFile, conn.TLS.KeyFile = t.CertFile, t.KeyFile
		}
	}
	if o.APIKey != "" {
		conn.UseTLS, conn.APIKey = true, configs.APIKey{} // the static key below replaces it
	}
	return conn
}

// connectionOptions are the client options that say where and how to
// connect: the plan's address, the transport's TLS and API key (or o's
// static key), and the codec if any.
func connectionOptions(o Options, p Plan, tr *regions.Transport, c *codec.Codec) client.Options {
	opts := client.Options{HostPort: p.Address}
	tr.Apply(&opts)
	if o.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(o.APIKey)
	}
	return codec.ClientOptions(opts, c)
}

// regionCodec loads the region's payload codec, nil when encryption is off,
// and says which in the log (the key ids and their source, never the keys).
func regionCodec(keys codec.Source, region string, logger *slog.Logger) (*codec.Codec, error) {
	cdc, from, err := keys.Codec(region)
	switch {
	case err != nil:
		return nil, err
	case cdc == nil:
		logger.Warn("payload encryption is off: no codec keys configured")
	default:
		logger.Info("payload encryption on", "active_key", cdc.ActiveKeyID(), "keys", len(cdc.KeyIDs()), "from", from)
	}
	return cdc, nil
}

// dial dials once and shares that connection with a client per further
// namespace.
func (w *Worker) dial(ctx context.Context, opts client.Options) error {
	opts.Namespace = w.Plan.Namespaces[0]
	first, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("dialing %s: %w", opts.HostPort, w.explain(err))
	}
	w.clients = []client.Client{first}
	for _, ns := range w.Plan.Namespaces[1:] {
		opts.Namespace = ns
		c, err := client.NewClientFromExistingWithContext(ctx, first, opts)
		if err != nil {
			return fmt.Errorf("client for namespace %s: %w", ns, err)
		}
		w.clients = append(w.clients, c)
	}
	return nil
}

// Stop stops every pool at once, so a shutdown takes one stop timeout, not
// one per namespace; then it closes the clients (the connection's owner
// last), the metrics listener and the tracer it built.
func (w *Worker) Stop() {
	var wg sync.WaitGroup
	for _, p := range w.pools {
		wg.Go(p.Stop)
	}
	wg.Wait()
	w.pools = nil
	for _, c := range slices.Backward(w.clients) {
		c.Close()
	}
	w.clients = nil
	for _, c := range slices.Backward(w.closers) {
		c()
	}
	w.closers = nil
}
