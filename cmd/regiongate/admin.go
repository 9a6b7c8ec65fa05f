package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/internal/tool/apiclient"
	"github.com/regiongate/regiongate/internal/tool/apiclient/admin"
)

type adminFlags struct {
	url, token string
	asJSON     bool
}

// adminEnv names the environment variable each admin flag falls back to.
var adminEnv = map[string]string{
	"admin-url": "REGIONGATE_ADMIN_URL",
	"token":     "REGIONGATE_TOKEN",
}

func (f *adminFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.url, "admin-url", "http://127.0.0.1:8081", "the gateway's admin API")
	c.Flags().StringVar(&f.token, "token", "", "admin bearer token")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON instead of a table")
	for name, env := range adminEnv {
		c.Flags().Lookup(name).Usage += " [$" + env + "]"
	}
	c.PreRunE = func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd, adminEnv, os.Getenv) }
}

// client is the admin API client generated from its OpenAPI document.
func (f *adminFlags) client() (*admin.ClientWithResponses, error) {
	return apiclient.Admin(f.url, f.token, nil)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func regionsCmd() *cobra.Command {
	var f adminFlags
	c := &cobra.Command{
		Use:   "regions",
		Short: "Show every region's state, breaker, health and traffic (admin API, viewer role)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := f.client()
			if err != nil {
				return err
			}
			r, err := cl.ListRegionsWithResponse(cmd.Context())
			if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil {
				return err
			}
			regions := r.JSON200.Regions
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), regions)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REGION\tSTATE\tBREAKER\tHEALTHY\tENDPOINT\tNAMESPACE\tRESIDENCY\tFAILOVER\tREPLICA\tDRILL\tIN FLIGHT\tERRORS/1m")
			for _, r := range regions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d/%d\n", r.Name, r.State, r.Breaker, r.Healthy,
					r.Endpoint, r.Namespace, strings.Join(r.Residency, ","), strings.Join(r.Failover, ","), dash(deref(r.Replica)), dash(deref(r.Drill)),
					r.Traffic.InFlight, r.Traffic.Errors, r.Traffic.Requests)
			}
			return tw.Flush()
		},
	}
	f.register(c)
	c.AddCommand(failoverCmd())
	return c
}

func failoverCmd() *cobra.Command {
	var f adminFlags
	var mode, to string
	var catchUp, observe int
	c := &cobra.Command{
		Use:   "failover REGION",
		Short: "Fail a replicated region's namespaces over to its replica, or back (admin API, operator role)",
		Long: "planned: the active cluster answers; it waits until the replica has every event of the running\n" +
			"workflows, then hands over. forced: the active cluster is gone; the replica takes over with what\n" +
			"it has (events it never received are lost). Prints the report: replication lag before, time\n" +
			"to active, workflows that continued.",
		Example: "  regiongate regions failover eu-west --mode planned --token dev-operator\n" +
			"  regiongate regions failover eu-west --mode forced --token dev-operator\n" +
			"  regiongate regions failover eu-west --mode planned --to eu-west --token dev-operator   # fail back",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := f.client()
			if err != nil {
				return err
			}
			req := admin.FailoverRequest{Mode: admin.FailoverRequestMode(mode)}
			if to != "" {
				req.To = &to
			}
			if catchUp != 0 {
				req.CatchUpSeconds = &catchUp
			}
			if observe != 0 {
				req.ObserveSeconds = &observe
			}
			r, err := cl.FailoverRegionWithResponse(cmd.Context(), args[0], req)
			if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), r.JSON200)
			}
			return printFailover(cmd.OutOrStdout(), *r.JSON200)
		},
	}
	f.register(c)
	c.Flags().StringVar(&mode, "mode", "", "planned or forced (required)")
	c.Flags().StringVar(&to, "to", "", "the region to make active: its replica, or the region itself to fail back (default: the other one)")
	c.Flags().IntVar(&catchUp, "catch-up-seconds", 0, "planned: how long to wait for the replica to catch up (default 10)")
	c.Flags().IntVar(&observe, "observe-seconds", 0, "how long to watch running workflows continue (default 10)")
	_ = c.MarkFlagRequired("mode")
	return c
}

func printFailover(w io.Writer, r admin.FailoverReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "failover\t%s of %s: %s -> %s\n", r.Mode, r.Region, r.From, r.To)
	fmt.Fprintf(tw, "namespaces\t%s\n", strings.Join(deref(r.Namespaces), ", "))
	if l := r.ReplicationLagBefore; l != nil {
		fmt.Fprintf(tw, "replication lag before\t%d events (%d of %d sampled workflows behind, %d missing)\n", l.Events, l.Behind, l.Sampled, l.Missing)
	} else {
		fmt.Fprintln(tw, "replication lag before\tunknown (the active cluster could not be asked)")
	}
	if r.Mode == admin.FailoverReportModePlanned {
		fmt.Fprintf(tw, "caught up after\t%dms\n", r.CaughtUpMs)
	}
	fmt.Fprintf(tw, "time to active\t%s\n", r.TimeToActive)
	fmt.Fprintf(tw, "workflows continued\t%d of %d running (first after %dms, watched %dms)\n", r.WorkflowsContinued, r.WorkflowsOpen, deref(r.FirstProgressMs), r.ObservedMs)
	for _, n := range deref(r.Notes) {
		fmt.Fprintf(tw, "note\t%s\n", n)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func drillCmd() *cobra.Command {
	c := &cobra.Command{Use: "drill", Short: "Failover drills (admin API, operator role)"}
	var f adminFlags
	var region, mode string
	var duration time.Duration
	var force, wait bool
	run := &cobra.Command{
		Use:     "run",
		Short:   "Drain a region for a bounded time; it comes back by itself",
		Example: "  regiongate drill run --region eu-west --duration 2m --token dev-operator",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := f.client()
			if err != nil {
				return err
			}
			dm := admin.DrillRequestMode(mode)
			r, err := cl.StartDrillWithResponse(cmd.Context(), admin.DrillRequest{
				Region: region, DurationSeconds: int(duration.Seconds()), Force: &force, Mode: &dm})
			if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil {
				return err
			}
			d := *r.JSON201
			if !wait {
				if f.asJSON {
					return printJSON(cmd.OutOrStdout(), d)
				}
				what := "drained"
				if deref(d.Mode) == admin.DrillModeFailover {
					what = "failed over to its replica"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "drill %s: %s %s until %s\n", d.Id, d.Region, what, d.End.Local().Format(time.TimeOnly))
				return nil
			}
			rep, err := waitForDrill(cmd.Context(), cl, d)
			if err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			return printReport(cmd.OutOrStdout(), rep)
		},
	}
	f.register(run)
	run.Flags().StringVar(&region, "region", "", "region to drill (required)")
	run.Flags().DurationVar(&duration, "duration", time.Minute, "how long to drain it (whole seconds, at most 24h)")
	run.Flags().BoolVar(&force, "force", false, "drill even if some resident data would have no available lawful region")
	run.Flags().StringVar(&mode, "mode", "drain", "drain (take it out of rotation) or failover (fail its namespaces over to its replica, and back at the end)")
	run.Flags().BoolVar(&wait, "wait", false, "wait for the drill to end and print its report")
	_ = run.MarkFlagRequired("region")

	var rf adminFlags
	report := &cobra.Command{
		Use:   "report ID",
		Short: "Print a drill's report",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := rf.client()
			if err != nil {
				return err
			}
			rep, err := drillReport(cmd.Context(), cl, args[0])
			if err != nil {
				return err
			}
			if rf.asJSON {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			return printReport(cmd.OutOrStdout(), rep)
		},
	}
	rf.register(report)
	c.AddCommand(run, report)
	return c
}

func drillReport(ctx context.Context, cl *admin.ClientWithResponses, id string) (admin.DrillReport, error) {
	r, err := cl.DrillReportWithResponse(ctx, id)
	if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil {
		return admin.DrillReport{}, err
	}
	return *r.JSON200, nil
}

func printReport(w io.Writer, r admin.DrillReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "drill\t%s (%s)\n", r.Id, r.Status)
	fmt.Fprintf(tw, "region\t%s\n", r.Region)
	fmt.Fprintf(tw, "start\t%s\n", r.Start.Local().Format(time.RFC3339))
	fmt.Fprintf(tw, "end\t%s\n", r.End.Local().Format(time.RFC3339))
	fmt.Fprintf(tw, "rerouted\t%d\nrefused\t%d\nerrors\t%d\n", r.Rerouted, r.Refused, r.Errors)
	fmt.Fprintln(tw, "\nWINDOW\tREQUESTS\tP50 ms\tP99 ms")
	for _, l := range []struct {
		name string
		l    admin.Latency
	}{{"before", r.Latency.Before}, {"during", r.Latency.During}, {"after", r.Latency.After}} {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\n", l.name, l.l.Requests, l.l.P50Ms, l.l.P99Ms)
	}
	return tw.Flush()
}

// waitForDrill sleeps until the drill's end, then asks for its report until
// the gateway has restored the region (status completed), for at most a
// minute more.
func waitForDrill(ctx context.Context, cl *admin.ClientWithResponses, d admin.Drill) (admin.DrillReport, error) {
	timer := time.NewTimer(time.Until(d.End))
	defer timer.Stop()
	deadline := d.End.Add(time.Minute)
	for {
		select {
		case <-ctx.Done():
			return admin.DrillReport{}, ctx.Err()
		case <-timer.C:
		}
		rep, err := drillReport(ctx, cl, d.Id)
		if err != nil || rep.Status == admin.Completed {
			return rep, err
		}
		if time.Now().After(deadline) {
			return rep, fmt.Errorf("drill %s still %s a minute after its end: is any gateway running its drills?", d.Id, rep.Status)
		}
		timer.Reset(time.Second) // polling interval
	}
}
