// Package chaos runs the dev stack in Consul mode under a client load while
// it kills and restarts its processes, breaks the network between the
// gateways and the regions, and drains, drills and edits the config on a
// seeded schedule; a client ledger of every request and answer then lets
// the auditor check that no acknowledged workflow was lost, duplicated or
// placed outside its lawful regions.
package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/regiongate/regiongate/configs"
)

// Options configure a run; zero values take the defaults.
type Options struct {
	Root     string        // the repository: deploy/dev/up.sh and bin/; default "."
	Out      string        // ledger, plan, report, logs and the stack's state; default .dev/chaos
	Duration time.Duration // load and faults; default 3m
	Seed     uint64        // the schedule and the load's mix
	Load     LoadOptions
	Progress io.Writer // default io.Discard
	// KeepState keeps the stack's data (Temporal's and Consul's) after a
	// run that passed; a failed run always keeps it, for investigation.
	KeepState bool
	Command   string // how the run was invoked, for the report
}

// Result is a run's report.
type Result struct {
	Seed       uint64        `json:"seed"`
	Duration   time.Duration `json:"duration"`
	Began      time.Time     `json:"began"`
	Took       time.Duration `json:"took"` // stack start to stack stop
	Command    string        `json:"command"`
	LoadBefore string        `json:"loadBefore"` // /proc/loadavg's 1, 5 and 15 minute averages
	LoadAfter  string        `json:"loadAfter"`
	Rate       float64       `json:"rate"`
	Summary
	Audit *AuditResult `json:"audit"`
	Out   string       `json:"out"`
}

// Run brings the stack up, runs the load, the faults and the admin
// actions for o.Duration, heals everything, audits, and stops the stack.
// A run whose audit fails returns a result and no error: Passed says.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults()
	res := &Result{Seed: o.Seed, Duration: o.Duration, Began: time.Now(), Command: o.Command, Rate: o.Load.withDefaults().Rate, Out: o.Out}
	state, logs := filepath.Join(o.Out, "stack"), filepath.Join(o.Out, "logs")
	for _, stale := range []string{state, logs} {
		if err := os.RemoveAll(stale); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(state, 0o755); err != nil {
		return nil, err
	}
	plan := NewPlan(o.Seed, o.Duration)
	if err := writeJSON(filepath.Join(o.Out, "plan.json"), plan); err != nil {
		return nil, err
	}
	ports, err := allocatePorts()
	if err != nil {
		return nil, err
	}
	upstream := map[string]string{}
	for i, r := range Regions {
		upstream[r] = fmt.Sprintf("127.0.0.1:%d", ports["DEV_TEMPORAL_PORTS"][i])
	}
	px, err := startProxies(upstream)
	if err != nil {
		return nil, err
	}
	defer px.Close()
	var via []string
	for _, r := range Regions {
		via = append(via, px.Port(r))
	}
	upLog, err := os.Create(filepath.Join(o.Out, "up.log"))
	if err != nil {
		return nil, err
	}
	defer upLog.Close()
	fmt.Fprintf(o.Progress, "%s  starting the stack (up.sh CONSUL=1, state in %s; load average %s)\n", clock(), state, loadAverage())
	st, err := startStack(ctx, o.Root, state, ports, via, upLog)
	if err != nil {
		return nil, err
	}
	defer func() {
		if st != nil {
			_ = st.stop()
		}
	}()
	err = res.exercise(ctx, o, plan, st, px)
	res.Took = time.Since(res.Began)
	stopErr := st.stop()
	st = nil
	if err != nil {
		return res, err
	}
	if stopErr != nil {
		return res, stopErr
	}
	if res.Audit.Passed() && !o.KeepState {
		// Keep the logs; drop the workflows' and Consul's data.
		_ = os.Rename(filepath.Join(state, "logs"), logs)
		_ = os.RemoveAll(state)
	}
	return res, nil
}

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Out == "" {
		o.Out = filepath.Join(o.Root, ".dev", "chaos")
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// exercise runs the load, faults and admin actions on a running stack,
// heals it and audits.
func (res *Result) exercise(ctx context.Context, o Options, plan Plan, st *stack, px *proxies) error {
	cfg, err := configs.LoadFile(st.ConfigPath())
	if err != nil {
		return err
	}
	ledgerPath := filepath.Join(o.Out, "ledger.jsonl")
	ledger, err := CreateLedger(ledgerPath)
	if err != nil {
		return err
	}
	defer ledger.Close()
	gws := st.Gateways()
	res.LoadBefore = loadAverage()
	fmt.Fprintf(o.Progress, "%s  stack up; load and faults for %s (seed %d), load average %s\n", clock(), o.Duration, o.Seed, res.LoadBefore)
	until := time.Now().Add(o.Duration)
	stop, stopLoad := context.WithDeadline(ctx, until)
	defer stopLoad()
	l := newLoad(o.Load, newCaller(gws, ledger), o.Seed)
	f := &faulter{st: st, px: px, ledger: ledger, progress: o.Progress}
	a := newAdmin(gws, ledger, o.Progress)
	var wg sync.WaitGroup
	wg.Go(func() { l.run(ctx, stop) })
	wg.Go(func() { f.run(ctx, plan.Faults, until) })
	wg.Go(func() { a.run(ctx, plan.Admin, until) })
	wg.Go(func() { progress(stop, o.Progress, ledger, until) })
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "%s  load stopped (%d requests skipped: the gateways were slower than the pace); healing\n", clock(), l.skipped.Load())
	if err := heal(ctx, st, px, a); err != nil {
		return fmt.Errorf("healing the stack after the run: %w", err)
	}
	res.LoadAfter = loadAverage()
	if err := ledger.Close(); err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "%s  healed; auditing\n", clock())
	res.Audit, err = Audit(ctx, AuditOptions{Ledger: ledgerPath, Config: cfg, Gateways: gws, Progress: o.Progress})
	if err != nil {
		return fmt.Errorf("auditing: %w", err)
	}
	entries, err := ReadLedger(ledgerPath)
	if err != nil {
		return err
	}
	res.Summary = Summarize(entries)
	res.Summary.Skipped = l.skipped.Load()
	return nil
}

// progress prints a line every 15s until stop ends.
func progress(stop context.Context, w io.Writer, l *Ledger, until time.Time) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop.Done():
			return
		case <-t.C:
			n, errs := l.Counts()
			fmt.Fprintf(w, "%s  %s left: %d requests, %d answered 5xx or not at all; load average %s\n",
				clock(), time.Until(until).Round(time.Second), n, errs, loadAverage())
		}
	}
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Save writes the report (report.md) and the result (result.json) into
// r.Out, where the run left its ledger and plan.
func (r *Result) Save() error {
	return errors.Join(
		os.WriteFile(filepath.Join(r.Out, "report.md"), []byte(r.Markdown()), 0o644),
		writeJSON(filepath.Join(r.Out, "result.json"), r))
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
