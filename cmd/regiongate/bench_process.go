package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/tool/bench"
	"github.com/regiongate/regiongate/regions"
)

// The processes `regiongate bench --ceiling` measures, each its own
// process so the load generator does not share its CPU time. Hidden: only
// the bench runs them.

// benchGatewayProcessCmd runs a gateway through serve's own code (local
// stores under --state-dir, the JSON access log on stderr, dev tokens),
// its routing records in memory or in bbolt, with the bench's statistics
// listener beside it.
func benchGatewayProcessCmd() *cobra.Command {
	var f serveFlags
	var records, readyFile string
	c := &cobra.Command{
		Use:    "gateway-process",
		Short:  "A gateway as serve runs it, for the ceiling measurement (run by bench --ceiling)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if records != "memory" && records != "bolt" {
				return fmt.Errorf("--records: want memory or bolt, not %q", records)
			}
			stats, err := bench.ServeStats(cmd.Context())
			if err != nil {
				return err
			}
			f.clientAddr, f.adminAddr, f.devTokens, f.logFormat = "127.0.0.1:0", "127.0.0.1:0", true, "json"
			return runGateway(cmd.Context(), f, gatewayHooks{
				options: func(o *gatewayd.Options) {
					if records == "memory" {
						// serve's bbolt file stays open, unused.
						o.Records = regions.NewMemoryRecords()
					}
				},
				listening: func(ls gatewayd.Listeners) error {
					return bench.WriteChildReady(readyFile, bench.ChildReady{URL: ls.ClientURL(), Stats: stats})
				},
			})
		},
	}
	c.Flags().StringVar(&f.config, "config", "", "region config file")
	c.Flags().StringVar(&f.stateDir, "state-dir", "", "directory for local state")
	c.Flags().StringVar(&records, "records", "memory", "routing records: memory or bolt")
	c.Flags().StringVar(&readyFile, "ready-file", "", "where to write the URLs once serving")
	for _, name := range []string{"config", "state-dir", "ready-file"} {
		_ = c.MarkFlagRequired(name)
	}
	return c
}

// benchFloorProcessCmd runs the http floor in front of one SDK client.
func benchFloorProcessCmd() *cobra.Command {
	var w bench.Workload
	var readyFile string
	c := &cobra.Command{
		Use:    "floor-process",
		Short:  "The bare HTTP front to the SDK, for the ceiling measurement (run by bench --ceiling)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bench.ServeFloorProcess(cmd.Context(), w, readyFile)
		},
	}
	fl := c.Flags()
	fl.StringVar(&w.Endpoint, "endpoint", "", "the region's Temporal frontend")
	fl.StringVar(&w.Namespace, "namespace", "", "its namespace")
	fl.StringVar(&w.Region, "region", "", "the region's name, for the answers")
	fl.StringVar(&w.TaskQueue, "task-queue", "", "task queue of every start")
	fl.StringVar(&w.WorkflowType, "workflow-type", "", "workflow type of every start")
	fl.StringVar(&readyFile, "ready-file", "", "where to write the URLs once serving")
	for _, name := range []string{"endpoint", "namespace", "region", "task-queue", "workflow-type", "ready-file"} {
		_ = c.MarkFlagRequired(name)
	}
	return c
}
