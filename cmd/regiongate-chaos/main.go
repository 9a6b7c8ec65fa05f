// Command regiongate-chaos runs the dev stack under load and faults and
// audits what its clients were told against what the regions hold (make
// chaos). A program of its own, so the regiongate binary links no fault
// injection (toxiproxy).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/tool/chaos"
)

// errFailed: the audit found something; the report says what.
var errFailed = errors.New("the auditor found lost, duplicated, misplaced or unresolved workflows (see the report)")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "regiongate-chaos",
		Short:         "Chaos runs of the dev stack, and their auditor",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCmd(), auditCmd(), planCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "regiongate-chaos:", err)
		os.Exit(1)
	}
}

func runCmd() *cobra.Command {
	var o chaos.Options
	var seed int64
	c := &cobra.Command{
		Use:   "run",
		Short: "Bring the dev stack up in Consul mode on free ports, run load, faults and admin actions, heal, audit",
		Long: `Starts deploy/dev/up.sh in Consul mode (two gateway replicas) on free loopback
ports with its state under --out, the gateways reaching each region through an
in-process toxiproxy. For --duration it sends a paced client load (tenants,
countries, classes; starts with ids and Idempotency-Keys, retries with the same
ids, signals, cancels, describes) over both replicas, and on a schedule drawn
from --seed kills (SIGKILL) and restarts region servers, workers, a replica and
Consul, adds latency, resets and blackholes between the gateways and a region,
and drains, drills and edits the config. Then it heals everything, retries
every start that had a 5xx or no answer, audits every region's workflows
against the ledger, prints the report and exits non-zero unless lost,
duplicated, misplaced and unresolved are all 0.

Writes into --out: ledger.jsonl (every request and answer, fault and admin
action), plan.json, report.md, result.json, up.log and the stack's logs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if seed < 0 {
				seed = time.Now().UnixNano() % 1_000_000
			}
			o.Seed = uint64(seed)
			o.Progress = cmd.ErrOrStderr()
			o.Command = fmt.Sprintf("make chaos DURATION=%s SEED=%d", o.Duration, seed)
			res, err := chaos.Run(cmd.Context(), o)
			if res != nil && res.Audit != nil {
				fmt.Fprintln(cmd.OutOrStdout(), res.Markdown())
				if werr := res.Save(); werr != nil && err == nil {
					err = werr
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "ledger, report and logs in %s\n", res.Out)
				if err == nil && !res.Audit.Passed() {
					err = errFailed
				}
			}
			if err != nil && res != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "the stack's state and logs are kept in %s\n", filepath.Join(res.Out, "stack"))
			}
			return err
		},
	}
	fl := c.Flags()
	fl.DurationVar(&o.Duration, "duration", 3*time.Minute, "how long the load and the faults run")
	fl.Int64Var(&seed, "seed", -1, "the seed of the fault schedule and the load's mix (default: drawn, and printed)")
	fl.Float64Var(&o.Load.Rate, "rate", 3, "client requests begun per second (retries come on top)")
	fl.StringVar(&o.Root, "root", ".", "the repository (deploy/dev/up.sh, bin/)")
	fl.StringVar(&o.Out, "out", "", "where the ledger, report, logs and the stack's state go (default ROOT/.dev/chaos; its stack/ is replaced)")
	fl.BoolVar(&o.KeepState, "keep-state", false, "keep the stack's data after a passing run (a failing one always keeps it)")
	return c
}

func auditCmd() *cobra.Command {
	var ledger, config string
	var gateways []string
	c := &cobra.Command{
		Use:   "audit",
		Short: "Audit a ledger against a running stack: retry unsettled starts, list every region's workflows, check",
		Long: `What run does after healing, against a stack that is up: retries every start of
the ledger that had a 5xx or no answer (appending to the ledger), lists every
workflow of every region's namespaces through visibility, checks each against
the ledger and the config's residency, and exits non-zero unless lost,
duplicated, misplaced and unresolved are all 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := configs.LoadFile(config)
			if err != nil {
				return err
			}
			var gws []chaos.Gateway
			for i, u := range gateways {
				gws = append(gws, chaos.Gateway{Name: fmt.Sprintf("gateway-%d", i+1), ClientURL: strings.TrimSuffix(u, "/")})
			}
			res, err := chaos.Audit(cmd.Context(), chaos.AuditOptions{Ledger: ledger, Config: cfg, Gateways: gws, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			if err := writeJSONTo(cmd, res); err != nil {
				return err
			}
			if !res.Passed() {
				return errFailed
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&ledger, "ledger", ".dev/chaos/ledger.jsonl", "the run's ledger")
	fl.StringVar(&config, "config", "", "the stack's config as its workers read it (STATE/stack.yaml: regions at their Temporal frontends)")
	fl.StringSliceVar(&gateways, "gateways", []string{"http://127.0.0.1:8080", "http://127.0.0.1:8090"}, "the replicas' client APIs")
	_ = c.MarkFlagRequired("config")
	return c
}

func planCmd() *cobra.Command {
	var seed uint64
	var d time.Duration
	c := &cobra.Command{
		Use:   "plan",
		Short: "Print the fault and admin schedule a seed and duration give (JSON)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeJSONTo(cmd, chaos.NewPlan(seed, d))
		},
	}
	c.Flags().Uint64Var(&seed, "seed", 1, "the seed")
	c.Flags().DurationVar(&d, "duration", 3*time.Minute, "the run's duration")
	return c
}

func writeJSONTo(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
