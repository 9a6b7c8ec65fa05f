package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/internal/tool/recordsbench"
)

func benchRecordsCmd() *cobra.Command {
	var o recordsbench.Options
	var asJSON bool
	var writeDocPath string
	var maxRSSMiB uint64
	c := &cobra.Command{
		Use:   "records",
		Short: "Measure the routing-records stores at volume: claims, size, memory and the sweep with millions of records stored",
		Long: `For each store and each size, starts the store empty on loopback (a bbolt file; a private
PostgreSQL with fsync on; a one-server Consul cluster with its data on disk) and fills it in bulk with
records keyed and expiring as a gateway's are. Then, through the store's Claim, it measures the
latency of one caller and the claims/s of many, in rounds that take every size of the store in turn;
then each size's retention sweep, and its size on disk and in memory. PostgreSQL comes
from $REGIONGATE_POSTGRES_BIN (else /usr/lib/postgresql/*/bin), Consul from $REGIONGATE_CONSUL_BIN
(else bin/consul). A fill that takes over --fill-timeout stops, and a server whose memory passes
--max-server-rss-mib is stopped where it is; larger sizes of that store are then not tried.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.MaxServerRSS = maxRSSMiB << 20
			o.Progress = cmd.ErrOrStderr()
			r, err := recordsbench.Run(cmd.Context(), o)
			if r == nil {
				return err
			}
			r.Command = invocation(os.Args)
			if asJSON {
				if perr := printJSON(cmd.OutOrStdout(), r); perr != nil {
					return perr
				}
			} else if perr := r.WriteText(cmd.OutOrStdout()); perr != nil {
				return perr
			}
			if err != nil {
				return err // a partial report is printed, never written to the doc
			}
			if writeDocPath != "" {
				return writeDoc(writeDocPath, r.WriteDoc)
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringSliceVar(&o.Stores, "store", recordsbench.Stores, "stores to measure, of bolt, postgres and consul (repeatable, or a comma list)")
	fl.IntSliceVar(&o.Sizes, "sizes", []int{0, 1_000_000, 10_000_000}, "records in the store before it is measured, each size on a fresh store")
	fl.IntVar(&o.Claims, "claims", 5000, "claims one caller makes, one after another, for p50 and p99")
	fl.IntVar(&o.Rounds, "rounds", 5, "rounds each claim phase is split into, taking every size of a store in turn")
	fl.IntVar(&o.Concurrency, "concurrency", 64, "callers claiming at once, for claims/s at saturation")
	fl.IntVar(&o.SaturationClaims, "saturation-claims", 20_000, "claims at saturation at most")
	fl.DurationVar(&o.SaturationTime, "saturation-time", 15*time.Second, "time at saturation at most")
	fl.IntVar(&o.SweepBatch, "sweep-batch", 500, "records per RemoveExpired call (the config's records.sweepBatch)")
	fl.DurationVar(&o.FillTimeout, "fill-timeout", 20*time.Minute, "a fill that takes longer stops, and larger sizes of that store are not tried")
	fl.DurationVar(&o.SweepTimeout, "sweep-timeout", 5*time.Minute, "the measured sweep stops after this")
	fl.Uint64Var(&maxRSSMiB, "max-server-rss-mib", 8192, "a fill stops when the server's (Consul's) resident memory passes this")
	fl.StringVar(&o.Dir, "dir", "", "where the bbolt files and Consul's data go (default: a temporary directory, removed afterwards; PostgreSQL's data is always in one)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	fl.StringVar(&writeDocPath, "write-doc", "", "replace the section between the bench-records markers of this markdown file with the results")
	return c
}
