package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/assembly/workerd"
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

	servicesFile         string
	slotTuning           string
	targetCPU, targetMem float64
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
	"services-config":               "REGIONGATE_SERVICES_CONFIG",
	"slot-tuning":                   "REGIONGATE_SLOT_TUNING",
	"target-cpu":                    "REGIONGATE_TARGET_CPU",
	"target-memory":                 "REGIONGATE_TARGET_MEMORY",
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
	fl.StringVar(&f.servicesFile, "services-config", "", "the payment, property and notification services per region (YAML, see docs/workflows.md); empty means the in-memory stand-ins, for development only")
	fl.StringVar(&f.slotTuning, "slot-tuning", "fixed", "how task slots are handed out: fixed (--max-concurrent-* limits) or resource (by the process's CPU and memory use)")
	fl.Float64Var(&f.targetCPU, "target-cpu", workflows.DefaultTargetCPU, "with --slot-tuning resource: the share of CPU, in (0, 1], to stay under")
	fl.Float64Var(&f.targetMem, "target-memory", workflows.DefaultTargetMemory, "with --slot-tuning resource: the share of memory, in (0, 1], to stay under")
	fl.BoolVar(&f.tls, "tls", false, "use TLS even without the other --tls-* flags or a tls block in the region's config (the server verified against the system roots)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "client certificate (PEM) for mTLS, re-read when it changes; needs --tls-key; overrides the region's tls.certFile")
	fl.StringVar(&f.tlsKey, "tls-key", "", "client private key (PEM) for mTLS; overrides the region's tls.keyFile")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "CA certificates (PEM) the server's certificate must chain to, re-read when it changes; overrides the region's tls.caFile (default: the system roots)")
	fl.StringVar(&f.tlsServerName, "tls-server-name", "", "server name to verify, when it differs from the address; overrides the region's tls.serverName")
	fl.StringVar(&f.apiKey, "api-key", "", "deprecated: put apiKey {file: F} or {env: VAR} in the region's config (a file is re-read when it changes); "+
		"still works: an API key sent as a bearer token over TLS, replacing the config's")
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

// workerOptions turns the flags into the worker assembly's options; a
// missing region or half a client certificate is an error naming its flag.
func workerOptions(cfg *configs.Config, f workerFlags, logger *slog.Logger) (workerd.Options, error) {
	if f.region == "" {
		return workerd.Options{}, errors.New("--region is required")
	}
	tlsOverride, err := tlsFlags(f)
	if err != nil {
		return workerd.Options{}, err
	}
	tuning, err := slotTuning(f)
	if err != nil {
		return workerd.Options{}, err
	}
	return workerd.Options{
		ServicesFile: f.servicesFile, ResourceTuning: tuning,
		Config: cfg, Region: f.region, Address: f.address,
		Namespaces: f.namespaces, TaskQueues: f.taskQueues,
		Worker: worker.Options{
			MaxConcurrentActivityExecutionSize:     f.maxActivities,
			MaxConcurrentWorkflowTaskExecutionSize: f.maxWorkflowTasks,
			WorkerStopTimeout:                      f.stopTimeout,
		},
		TLS: tlsOverride, APIKey: f.apiKey,
		CodecKeys:   codec.Source{File: f.codecKeysFile, Require: f.requireEncryption},
		MetricsAddr: f.metricsAddr, Logger: logger,
	}, nil
}

// slotTuning is the resource tuner's settings, or nil for fixed limits; a
// resource tuner and fixed limits together are an error.
func slotTuning(f workerFlags) (*workflows.ResourceTuning, error) {
	switch f.slotTuning {
	case "", "fixed":
		return nil, nil
	case "resource":
		if f.maxActivities > 0 || f.maxWorkflowTasks > 0 {
			return nil, errors.New("--slot-tuning resource hands out slots itself: leave --max-concurrent-activities and --max-concurrent-workflow-tasks at 0")
		}
		return &workflows.ResourceTuning{TargetCPU: f.targetCPU, TargetMemory: f.targetMem}, nil
	}
	return nil, fmt.Errorf("--slot-tuning %q: want fixed or resource", f.slotTuning)
}

// tlsFlags turns the --tls* flags into an override of the region's tls
// block in the config (a flag given wins over its field); nil when none is
// given, so the config alone decides. The files are read, and re-read when
// they change, by the worker assembly, as the gateway reads the config's.
func tlsFlags(f workerFlags) (*configs.TLS, error) {
	if !f.tls && f.tlsCert == "" && f.tlsKey == "" && f.tlsCA == "" && f.tlsServerName == "" {
		return nil, nil
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	return &configs.TLS{CAFile: f.tlsCA, CertFile: f.tlsCert, KeyFile: f.tlsKey, ServerName: f.tlsServerName}, nil
}

func runWorker(ctx context.Context, f workerFlags) error {
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	logger := newLogger(f.logFormat)
	opts, err := workerOptions(cfg, f, logger)
	if err != nil {
		return err
	}
	w, err := workerd.Start(ctx, opts)
	if err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("stopping: running activities get to finish", "region", w.Plan.Region, "stop_timeout", f.stopTimeout)
	w.Stop()
	return nil
}
