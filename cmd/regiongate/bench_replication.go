package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

func benchReplicationCmd() *cobra.Command {
	var o bench.ReplicationOptions
	var asJSON bool
	c := &cobra.Command{
		Use:   "replication",
		Short: "Measure RPO and RTO of namespace failover on replicated pairs (a stack of its own)",
		Long: `Starts the replicated dev stack in-process (temporal-replica clusters, eu-west <-> eu-central,
us-east <-> us-west, as make dev REPLICATION=1 runs them) and, --runs times each, fails eu-west
over to eu-central planned (through the admin API, no kill) and forced (after kill -9 of eu-west's
cluster, as soon as the gateway's health checks mark it unhealthy), failing back after each.

While it does, a client signals a running DataProcessing every 20ms through the gateway. RPO is
the signals the gateway acknowledged (202) that the new active cluster's history lacks, and how
long before the kill the oldest of them was acknowledged. RTO runs from the kill (forced) or the
failover call (planned) until another running DataProcessing has a new event in eu-central.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Progress = os.Stderr
			runs, err := bench.Replication(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), runs)
			}
			return bench.WriteReplication(cmd.OutOrStdout(), runs)
		},
	}
	c.Flags().IntVar(&o.Runs, "runs", 3, "runs of each mode")
	c.Flags().DurationVar(&o.SignalEvery, "signal-every", 0, "pace of the acknowledged writes (default 20ms)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the runs as JSON")
	return c
}
