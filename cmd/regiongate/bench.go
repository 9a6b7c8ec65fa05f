package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

type benchFlags struct {
	opts                bench.Options
	config, input       string
	asJSON              bool
	writeDoc, microFile string
	failoverTrace       string
	commands            []string
	ceilingPin          bool
}

func benchCmd() *cobra.Command {
	var f benchFlags
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure starts direct, through the gateway and with a new connection each; failover; config propagation",
		Long: `Runs, at the same concurrency and duration, workflow starts (a) straight to the
region with one SDK client, (b) through the gateway's HTTP API, (c) with a new
SDK connection per start, and prints throughput and latency for each.

By default it measures a running dev stack (make dev): the gateway at --gateway,
the region's Temporal frontend from --config (default the embedded dev config).
Failover is not measured there (it must kill -9 and restart a region's server);
config propagation only with --propagation against make dev CONSUL=1.

With --self-contained it starts its own stack in-process on free loopback ports
and also measures failover (kill -9 of the home region's server under load) and
config propagation (a Consul agent, two gateway replicas). make bench runs this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, &f) },
	}
	c.AddCommand(benchRecordsCmd(), benchGatewayProcessCmd(), benchFloorProcessCmd())
	fl := c.Flags()
	o := &f.opts
	fl.BoolVar(&o.SelfContained, "self-contained", false, "start an in-process stack on free ports instead of using a running dev stack")
	fl.StringVar(&o.GatewayURL, "gateway", "http://127.0.0.1:8080", "the dev stack's client API")
	fl.StringVar(&f.config, "config", "", "the dev stack's region config (default: the embedded configs/dev.yaml)")
	fl.StringVar(&o.WorkflowType, "workflow-type", "DataProcessing", "workflow type to start")
	fl.StringVar(&f.input, "input", `{"items":0,"itemDelayMs":0}`, "workflow input (a JSON object)")
	fl.StringVar(&o.Location, "location", "DE", "userLocation of every start")
	fl.StringVar(&o.Class, "class", "pii", "dataClassification of every start")
	fl.StringSliceVar(&o.Modes, "modes", []string{bench.ModeDirect, bench.ModeGateway, bench.ModeNaive}, "modes to compare, of direct, gateway, naive, http-floor (a bare net/http handler in front of one SDK client) and (with --self-contained) gateway-memory (a second gateway with its routing records in memory)")
	fl.IntVar(&o.Load.Concurrency, "concurrency", bench.DefaultConcurrency, "concurrent starts per mode")
	fl.DurationVar(&o.Load.Duration, "duration", bench.DefaultDuration, "measured time per mode, split across the rounds")
	fl.DurationVar(&o.Load.Warmup, "warmup", bench.DefaultWarmup, "unmeasured load before each run")
	fl.IntVar(&o.Rounds, "rounds", 2, "interleaved rounds (each runs every mode once)")
	fl.IntVar(&o.Load.MaxRequests, "max-requests", bench.DefaultMaxRequests, "measured starts per mode at most")
	fl.StringVar(&o.ProfileDir, "profile-dir", "", "write a CPU profile and an execution trace of this process per run into this directory")
	fl.BoolVar(&o.Failover, "failover", false, "measure failover (needs --self-contained; on by default with it)")
	fl.Float64Var(&o.FailoverOptions.Rate, "failover-rate", 50, "paced starts per second during the failover experiment")
	fl.DurationVar(&o.FailoverOptions.Outage, "outage", 0, "how long the killed region stays down (default 8s)")
	fl.StringVar(&f.failoverTrace, "failover-trace", "", "write every failover start (times from the kill, status, region, error) as CSV to this file")
	fl.BoolVar(&o.Propagation, "propagation", false, "measure config propagation (on by default with --self-contained)")
	fl.IntVar(&o.PropagationWrites, "propagation-writes", 100, "config writes to time")
	fl.StringVar(&o.ConsulAddr, "consul", "127.0.0.1:8500", "the dev stack's Consul (with --propagation)")
	fl.StringVar(&o.ConsulKey, "consul-key", "regiongate/config", "the config's Consul key")
	fl.StringSliceVar(&o.Replicas, "replicas", []string{"http://127.0.0.1:8081", "http://127.0.0.1:8091"}, "the dev stack's replicas' admin APIs (with --propagation)")
	fl.StringVar(&o.AdminToken, "admin-token", "dev-viewer", "a viewer token for the replicas' admin APIs")
	co := &o.CeilingOptions
	fl.BoolVar(&o.Ceiling, "ceiling", false, "measure what the gateway itself carries against stub Temporal frontends (no Temporal needed): alone, only this; with --self-contained, after the rest")
	fl.StringSliceVar(&co.Modes, "ceiling-modes", []string{bench.ModeGatewayMemory, bench.ModeHTTPFloor}, "processes the ceiling measures: gateway-memory (routing records in memory), http-floor, gateway (bbolt records)")
	fl.Float64SliceVar(&co.Rates, "ceiling-rates", []float64{1000, 5000}, "open-loop rates (starts/s) at which the ceiling measures RSS, CPU and latency")
	fl.DurationVar(&co.Phase, "ceiling-phase", 5*time.Second, "each open-loop phase of the ceiling, per round")
	fl.DurationVar(&co.Step, "ceiling-step", 2*time.Second, "each step of the ceiling's saturation ladder")
	fl.IntSliceVar(&co.Ladder, "ceiling-ladder", []int{1, 2, 4, 8, 16, 32, 64}, "the saturation ladder's concurrencies (closed loop)")
	fl.IntVar(&co.Rounds, "ceiling-rounds", 2, "interleaved rounds of the ceiling, a fresh process per mode and round")
	fl.BoolVar(&f.ceilingPin, "ceiling-pin", true, "pin the measured process to the last CPU and the load generator to the others (taskset)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object instead of tables")
	fl.StringVar(&f.writeDoc, "write-doc", "", "replace the generated section of this markdown file (between the bench markers) with the results")
	fl.StringVar(&f.microFile, "micro", "", "a file of go test -bench output to include in the report")
	fl.StringArrayVar(&f.commands, "command", nil, "a command that produced the --micro file, listed in the report (repeatable)")
	c.AddCommand(benchReplicationCmd())
	return c
}

func runBench(cmd *cobra.Command, f *benchFlags) error {
	o, closeTrace, err := benchOptions(cmd, f)
	if err != nil {
		return err
	}
	defer closeTrace()
	var micro []bench.GoBench
	cpu := ""
	if f.microFile != "" {
		if micro, cpu, err = readMicro(f.microFile); err != nil {
			return err
		}
	}
	r, runErr := bench.Execute(cmd.Context(), o)
	if r == nil {
		return runErr
	}
	r.Micro = micro
	if r.Machine.CPU == "" {
		r.Machine.CPU = cpu
	}
	r.Commands = append(append(r.Commands, f.commands...), invocation(os.Args))
	r.Finish()
	if err := printBenchReport(cmd.OutOrStdout(), r, f.asJSON); err != nil {
		return err
	}
	if f.asJSON { // the tables still reach whoever watches the progress
		fmt.Fprintln(cmd.ErrOrStderr())
		_ = r.WriteText(cmd.ErrOrStderr())
	}
	if runErr != nil {
		return runErr // a partial report is printed, never written to the doc
	}
	if f.writeDoc != "" {
		return writeDoc(f.writeDoc, func(doc []byte) ([]byte, error) { return bench.ReplaceSection(doc, r.Markdown()) })
	}
	return nil
}

// benchOptions completes the options from the flags; closeTrace closes
// the failover trace file, if one was opened.
func benchOptions(cmd *cobra.Command, f *benchFlags) (o bench.Options, closeTrace func(), err error) {
	o, closeTrace = f.opts, func() {}
	if o.SelfContained {
		o.Failover = o.Failover || !cmd.Flags().Changed("failover")
		o.Propagation = o.Propagation || !cmd.Flags().Changed("propagation")
	}
	if o.Config, err = loadConfig(f.config); err != nil {
		return o, closeTrace, err
	}
	if !json.Valid([]byte(f.input)) {
		return o, closeTrace, fmt.Errorf("--input is not valid JSON: %s", f.input)
	}
	o.Input = json.RawMessage(f.input)
	o.Progress = cmd.ErrOrStderr()
	o.CeilingOptions.NoPin = !f.ceilingPin
	if f.failoverTrace != "" {
		trace, err := os.Create(f.failoverTrace)
		if err != nil {
			return o, closeTrace, err
		}
		o.FailoverOptions.Trace, closeTrace = trace, func() { trace.Close() }
	}
	return o, closeTrace, nil
}

func readMicro(path string) ([]bench.GoBench, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer fh.Close()
	micro, cpu, err := bench.ParseGoBench(fh)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", path, err)
	}
	return micro, cpu, nil
}

func printBenchReport(w io.Writer, r *bench.Report, asJSON bool) error {
	if !asJSON {
		return r.WriteText(w)
	}
	return printJSON(w, r)
}

// writeDoc rewrites the markdown file at path (or creates it) with
// replace, which puts a report into its generated section.
func writeDoc(path string, replace func(doc []byte) ([]byte, error)) error {
	doc, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	out, err := replace(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}

// invocation is this command line as a shell would take it, without the
// --command values (they are listed on their own).
func invocation(args []string) string {
	prog := args[0]
	if filepath.Base(prog) == "regiongate" {
		prog = "bin/regiongate"
	}
	parts := []string{prog}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--command" && i+1 < len(args) {
			i++
			continue
		}
		if strings.HasPrefix(a, "--command=") {
			continue
		}
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
