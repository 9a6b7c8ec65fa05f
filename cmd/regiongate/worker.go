package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
)

type workerFlags struct {
	config, region, address, namespace, logFormat string
	maxActivities, maxWorkflowTasks               int
}

func workerCmd() *cobra.Command {
	var f workerFlags
	c := &cobra.Command{
		Use:   "worker",
		Short: "Run one region's worker: every dev workflow, on every task queue the gateway routes to",
		RunE:  func(cmd *cobra.Command, _ []string) error { return runWorker(cmd.Context(), f) },
	}
	c.Flags().StringVar(&f.config, "config", os.Getenv("REGIONGATE_CONFIG"), "region config file (default: the embedded configs/dev.yaml)")
	c.Flags().StringVar(&f.region, "region", os.Getenv("REGIONGATE_REGION"), "the region this worker serves (required)")
	c.Flags().StringVar(&f.address, "address", os.Getenv("TEMPORAL_ADDRESS"), "Temporal frontend host:port (default: the region's endpoint in the config)")
	c.Flags().StringVar(&f.namespace, "namespace", os.Getenv("TEMPORAL_NAMESPACE"), "namespace (default: the region's namespace in the config)")
	c.Flags().IntVar(&f.maxActivities, "max-concurrent-activities", 0, "per task queue; 0 means the SDK default")
	c.Flags().IntVar(&f.maxWorkflowTasks, "max-concurrent-workflow-tasks", 0, "per task queue; 0 means the SDK default")
	c.Flags().StringVar(&f.logFormat, "log-format", "json", "json or text")
	return c
}

func runWorker(ctx context.Context, f workerFlags) error {
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	rc, ok := cfg.Region(f.region)
	if !ok {
		return fmt.Errorf("--region %q is not in the config", f.region)
	}
	if f.address == "" {
		f.address = rc.Endpoint
	}
	if f.namespace == "" {
		f.namespace = rc.Namespace
	}
	logger := newLogger(f.logFormat).With("region", f.region)
	c, err := client.DialContext(ctx, client.Options{
		HostPort: f.address, Namespace: f.namespace,
		Logger: log.NewStructuredLogger(logger.With("component", "temporal")),
	})
	if err != nil {
		return fmt.Errorf("dialing %s for region %s: %w", f.address, f.region, err)
	}
	defer c.Close()
	queues := router.TaskQueues(f.region, workflows.Names)
	pool, err := workflows.StartPool(c, queues, workflows.NewActivities(), worker.Options{
		MaxConcurrentActivityExecutionSize:     f.maxActivities,
		MaxConcurrentWorkflowTaskExecutionSize: f.maxWorkflowTasks,
		WorkerStopTimeout:                      10 * time.Second,
	})
	if err != nil {
		return err
	}
	logger.Info("worker polling", "address", f.address, "namespace", f.namespace, "task_queues", len(queues))
	<-ctx.Done()
	pool.Stop()
	return nil
}
