package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/telemetry"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

type workerFlags struct {
	config, region, address, logFormat string
	namespaces, taskQueues             []string
	maxActivities, maxWorkflowTasks    int
	stopTimeout                        time.Duration

	tls                                           bool
	tlsCert, tlsKey, tlsCA, tlsServerName, apiKey string

	codecKeysFile     string
	requireEncryption bool
	metricsAddr       string
}

// workerEnv names the environment variable each flag falls back to.
var workerEnv = map[string]string{
	"config":                        "REGIONGATE_CONFIG",
	"region":                        "REGIONGATE_REGION",
	"address":                       "TEMPORAL_ADDRESS",
	"namespace":                     "TEMPORAL_NAMESPACE",
	"task-queue":                    "REGIONGATE_TASK_QUEUES",
	"max-concurrent-activities":     "REGIONGATE_MAX_CONCURRENT_ACTIVITIES",
	"max-concurrent-workflow-tasks": "REGIONGATE_MAX_CONCURRENT_WORKFLOW_TASKS",
	"stop-timeout":                  "REGIONGATE_STOP_TIMEOUT",
	"metrics-addr":                  "REGIONGATE_WORKER_METRICS_ADDR",
	"tls":                           "TEMPORAL_TLS",
	"tls-cert":                      "TEMPORAL_TLS_CERT",
	"tls-key":                       "TEMPORAL_TLS_KEY",
	"tls-ca":                        "TEMPORAL_TLS_CA",
	"tls-server-name":               "TEMPORAL_TLS_SERVER_NAME",
	"api-key":                       "TEMPORAL_API_KEY",
	"codec-keys-file":               "REGIONGATE_CODEC_KEYFILE",
	"require-encryption":            "REGIONGATE_REQUIRE_ENCRYPTION",
	"log-format":                    "REGIONGATE_LOG_FORMAT",
}

func workerCmd() *cobra.Command {
	var f workerFlags
	c := &cobra.Command{
		Use:   "worker",
		Short: "Run one region's worker: every dev workflow, on every task queue the gateway routes to",
		Long: `Run one region's worker: every dev workflow and activity, polling every namespace given
times every task queue. A flag not given falls back to the environment variable in its help.
On SIGINT or SIGTERM it stops polling and gives running activities --stop-timeout to finish.`,
		PreRunE: func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd, workerEnv, os.Getenv) },
		RunE:    func(cmd *cobra.Command, _ []string) error { return runWorker(cmd.Context(), f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.config, "config", "", "region config file (default: the embedded configs/dev.yaml)")
	fl.StringVar(&f.region, "region", "", "the region this worker serves (required)")
	fl.StringVar(&f.address, "address", "", "Temporal frontend host:port (default: the region's endpoint in the config)")
	fl.StringSliceVar(&f.namespaces, "namespace", nil, "namespace to poll; repeat or comma-separate for several (default: the region's namespace and every isolated tenant's in the config)")
	fl.StringSliceVar(&f.taskQueues, "task-queue", nil, "task queue to poll; repeat or comma-separate (default: every queue the gateway routes to in the region)")
	fl.IntVar(&f.maxActivities, "max-concurrent-activities", 0, "activities run at once, per namespace and task queue; 0 means the SDK default")
	fl.IntVar(&f.maxWorkflowTasks, "max-concurrent-workflow-tasks", 0, "workflow tasks run at once, per namespace and task queue; 0 means the SDK default")
	fl.DurationVar(&f.stopTimeout, "stop-timeout", 10*time.Second, "on shutdown, how long running activities get to finish")
	fl.BoolVar(&f.tls, "tls", false, "use TLS even without the other --tls-* flags (the server verified against the system roots)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "client certificate (PEM) for mTLS; needs --tls-key")
	fl.StringVar(&f.tlsKey, "tls-key", "", "client private key (PEM) for mTLS")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "CA certificates (PEM) the server's certificate must chain to (default: the system roots)")
	fl.StringVar(&f.tlsServerName, "tls-server-name", "", "server name to verify, when it differs from the address")
	fl.StringVar(&f.apiKey, "api-key", "", "API key, sent as a bearer token; turns TLS on (prefer the variable: flags show in ps)")
	fl.StringVar(&f.codecKeysFile, "codec-keys-file", "", "payload encryption keys, \"id:base64key\" per line, the first active; "+
		codec.EnvName("<region>")+" and "+codec.EnvKeys+" hold keys too (see docs/workflows.md)")
	fl.BoolVar(&f.requireEncryption, "require-encryption", false, "refuse to start without payload encryption keys")
	fl.StringVar(&f.logFormat, "log-format", "json", "json or text")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve the Temporal SDK's worker metrics at http://ADDR/metrics (Prometheus); empty turns it off")
	for name, env := range workerEnv {
		fl.Lookup(name).Usage += " [$" + env + "]"
	}
	return c
}

// applyEnv sets each flag the command line left alone from its variable,
// so flags beat the environment and a bad value is an error naming both.
func applyEnv(cmd *cobra.Command, env map[string]string, getenv func(string) string) error {
	for name, key := range env {
		fl := cmd.Flags().Lookup(name)
		if fl == nil || fl.Changed {
			continue
		}
		if v := getenv(key); v != "" {
			if err := cmd.Flags().Set(name, v); err != nil {
				return fmt.Errorf("$%s: %w", key, err)
			}
		}
	}
	return nil
}

// workerPlan is what a worker process will poll and how, resolved from the
// flags and the region config before anything is dialled.
type workerPlan struct {
	region, address string
	namespaces      []string
	queues          []string
	options         worker.Options
}

func planWorker(cfg *configs.Config, f workerFlags) (workerPlan, error) {
	if f.region == "" {
		return workerPlan{}, errors.New("--region is required")
	}
	rc, ok := cfg.Region(f.region)
	if !ok {
		return workerPlan{}, fmt.Errorf("--region %q is not in the config", f.region)
	}
	if f.maxActivities < 0 || f.maxWorkflowTasks < 0 || f.stopTimeout < 0 {
		return workerPlan{}, errors.New("concurrency limits and --stop-timeout must not be negative")
	}
	p := workerPlan{
		region:     f.region,
		address:    cmp.Or(f.address, rc.Endpoint),
		namespaces: cleanList(f.namespaces),
		queues:     cleanList(f.taskQueues),
		options: worker.Options{
			MaxConcurrentActivityExecutionSize:     f.maxActivities,
			MaxConcurrentWorkflowTaskExecutionSize: f.maxWorkflowTasks,
			WorkerStopTimeout:                      f.stopTimeout,
		},
	}
	if len(p.namespaces) == 0 {
		p.namespaces = router.Namespaces(cfg, rc) // the region's own and every isolated tenant's
	}
	if len(p.queues) == 0 {
		p.queues = router.TaskQueues(f.region, workflows.Names)
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

// clientOptions builds the connection: TLS and the API key from the flags,
// the codec if any.
func clientOptions(f workerFlags, p workerPlan, c *codec.Codec, logger *slog.Logger) (client.Options, error) {
	opts := client.Options{
		HostPort: p.address,
		Logger:   log.NewStructuredLogger(logger.With("component", "temporal")),
	}
	tlsConfig, err := buildTLS(f)
	if err != nil {
		return client.Options{}, err
	}
	opts.ConnectionOptions.TLS = tlsConfig
	if f.apiKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(f.apiKey)
	}
	return codec.ClientOptions(opts, c), nil
}

// buildTLS returns nil (plain text, or TLS the SDK turns on for an API key)
// unless a --tls flag asks for TLS.
func buildTLS(f workerFlags) (*tls.Config, error) {
	if !f.tls && f.tlsCert == "" && f.tlsKey == "" && f.tlsCA == "" && f.tlsServerName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.tlsServerName}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if f.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("loading the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if f.tlsCA != "" {
		pem, err := os.ReadFile(f.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("reading --tls-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s holds no PEM certificate", f.tlsCA)
		}
	}
	return cfg, nil
}

func runWorker(ctx context.Context, f workerFlags) error {
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	plan, err := planWorker(cfg, f)
	if err != nil {
		return err
	}
	logger := newLogger(f.logFormat).With("region", plan.region)
	cdc, err := regionCodec(f, plan.region, logger)
	if err != nil {
		return err
	}
	opts, err := clientOptions(f, plan, cdc, logger)
	if err != nil {
		return err
	}
	tp, err := telemetry.NewTracerProvider(ctx, "regiongate-worker", plan.region)
	if err != nil {
		return err
	}
	defer func() { _ = tp.Shutdown(context.WithoutCancel(ctx)) }()
	tracing, err := telemetry.TemporalTracing(tp)
	if err != nil {
		return err
	}
	opts.Interceptors = append(opts.Interceptors, tracing) // also traces the workers
	if f.metricsAddr != "" {
		if opts.MetricsHandler, err = serveWorkerMetrics(ctx, f.metricsAddr, logger); err != nil {
			return err
		}
	}
	clients, err := dialNamespaces(ctx, opts, plan.namespaces)
	if err != nil {
		return err
	}
	defer closeAll(clients)

	// One set of activities for the process: their idempotency keys hold
	// the run id, so namespaces cannot collide in them.
	acts := workflows.NewActivities()
	var pools []*workflows.Pool
	defer func() { stopAll(pools) }()
	for i, c := range clients {
		pool, err := workflows.StartPool(c, plan.queues, acts, plan.options)
		if err != nil {
			return fmt.Errorf("namespace %s: %w", plan.namespaces[i], err)
		}
		pools = append(pools, pool)
	}
	logger.Info("worker polling", "address", plan.address, "namespaces", plan.namespaces, "task_queues", len(plan.queues))
	<-ctx.Done()
	logger.Info("stopping: running activities get to finish", "stop_timeout", plan.options.WorkerStopTimeout)
	return nil
}

// serveWorkerMetrics exposes the SDK's own metrics (poll, task and
// activity latencies, slots, errors) through the otel Prometheus exporter.
func serveWorkerMetrics(ctx context.Context, addr string, logger *slog.Logger) (client.MetricsHandler, error) {
	m, err := telemetry.NewMetrics()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	logger.Info("worker metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:   m.Meter("temporal-sdk"),
		OnError: func(err error) { logger.Warn("recording an SDK metric", "error", err) },
	}), nil
}

// regionCodec loads the region's payload codec, nil when encryption is off,
// and says which in the log (the key ids and their source, never the keys).
func regionCodec(f workerFlags, region string, logger *slog.Logger) (*codec.Codec, error) {
	cdc, from, err := codec.Source{File: f.codecKeysFile, Require: f.requireEncryption}.Codec(region)
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

// dialNamespaces dials once and shares that connection with a client per
// further namespace.
func dialNamespaces(ctx context.Context, opts client.Options, namespaces []string) ([]client.Client, error) {
	opts.Namespace = namespaces[0]
	first, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", opts.HostPort, err)
	}
	clients := []client.Client{first}
	for _, ns := range namespaces[1:] {
		opts.Namespace = ns
		c, err := client.NewClientFromExistingWithContext(ctx, first, opts)
		if err != nil {
			closeAll(clients)
			return nil, fmt.Errorf("client for namespace %s: %w", ns, err)
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// closeAll closes the shared connection's owner last.
func closeAll(clients []client.Client) {
	for _, c := range slices.Backward(clients) {
		c.Close()
	}
}

// stopAll stops the pools at once, so a shutdown takes one stop timeout,
// not one per namespace.
func stopAll(pools []*workflows.Pool) {
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Go(p.Stop)
	}
	wg.Wait()
}
