package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// Options say what Execute measures, and against what.
type Options struct {
	// SelfContained starts its own stack in-process (Temporal dev servers
	// on free ports, workers, the gateway; a Consul agent and two gateway
	// replicas for propagation). Otherwise Execute measures a running dev
	// stack (make dev) at GatewayURL and the endpoints of Config.
	SelfContained bool
	GatewayURL    string          // default http://127.0.0.1:8080
	Config        *configs.Config // the dev stack's region config; default the embedded one

	// The workload: one workflow type and input, routed by location and
	// class to one region. Default: DataProcessing of no items, German pii.
	WorkflowType, Location, Class string
	Input                         json.RawMessage

	Modes      []string // of allModes; default direct, gateway and naive
	Load       Load     // per mode
	Rounds     int
	ProfileDir string // CPU profiles and execution traces of this process, per run

	// Failover runs the kill -9 experiment (self-contained only).
	Failover        bool
	FailoverOptions FailoverOptions // rate and outage; the rest is filled in

	// Propagation runs the config propagation experiment. Against a dev
	// stack it needs `make dev CONSUL=1`: ConsulAddr, ConsulKey and the
	// replicas' admin URLs, polled with AdminToken (a viewer's).
	Propagation       bool
	PropagationWrites int
	ConsulAddr        string
	ConsulKey         string
	Replicas          []string
	AdminToken        string

	// Ceiling measures what the gateway itself carries against stub
	// frontends (no Temporal needed): without SelfContained it is all
	// Execute measures; with it, it runs after the stack is stopped.
	Ceiling        bool
	CeilingOptions CeilingOptions

	Progress io.Writer // progress lines; nil for none
}

func (o *Options) defaults() {
	if o.WorkflowType == "" {
		o.WorkflowType, o.Input = "DataProcessing", json.RawMessage(`{"items":0,"itemDelayMs":0}`)
	}
	if o.Location == "" {
		o.Location = "DE"
	}
	if o.Class == "" {
		o.Class = "pii"
	}
	if o.GatewayURL == "" {
		o.GatewayURL = "http://127.0.0.1:8080"
	}
	if o.Config == nil {
		o.Config = configs.Default()
	}
	if len(o.Modes) == 0 {
		o.Modes = []string{ModeDirect, ModeGateway, ModeNaive}
	}
	if o.Rounds <= 0 {
		o.Rounds = 2
	}
	if o.AdminToken == "" {
		o.AdminToken = "dev-viewer"
	}
	if o.ConsulKey == "" {
		o.ConsulKey = "regiongate/config"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	o.Load = o.Load.withDefaults()
	o.Load.Progress = o.Progress
}

// Execute runs the benchmark and returns its report.
func Execute(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	compare := o.SelfContained || !o.Ceiling // --ceiling alone measures the ceiling only
	for _, m := range o.Modes {
		switch {
		case !compare: // the modes are not run
		case m == ModeGatewayMemory && !o.SelfContained:
			return nil, fmt.Errorf("mode %s needs --self-contained", m)
		case !slices.Contains(allModes, m):
			return nil, fmt.Errorf("unknown mode %q: want one of %s", m, strings.Join(allModes, ", "))
		}
	}
	if o.Failover && !o.SelfContained {
		return nil, errors.New("--failover needs --self-contained: it kills and restarts a region's dev server, which only a stack it started itself allows")
	}
	r := &Report{
		Date: time.Now().UTC().Format("2006-01-02"), Machine: ThisMachine(), Target: o.GatewayURL,
		LoadAverage: [2]float64{LoadAverage()},
		Settings: Settings{
			Concurrency: o.Load.Concurrency, DurationSeconds: o.Load.Duration.Seconds(),
			WarmupSeconds: max(o.Load.Warmup, 0).Seconds(), Rounds: o.Rounds, MaxRequests: o.Load.MaxRequests,
		},
	}
	runID := "bench-" + time.Now().UTC().Format("20060102T150405")
	var err error
	switch {
	case o.SelfContained:
		r.Target = "self-contained (its own stack on free loopback ports)"
		err = selfContained(ctx, o, r, runID)
	case compare:
		err = devStack(ctx, o, r, runID)
	default:
		r.Target = "the ceiling only: stub frontends in place of Temporal"
	}
	if err == nil && o.Ceiling {
		err = runCeiling(ctx, o, r, runID)
	}
	r.LoadAverage[1] = LoadAverage()
	r.Finish()
	return r, err
}

// devStack measures a running `make dev`.
func devStack(ctx context.Context, o Options, r *Report, runID string) error {
	w, fallback, err := ResolveWorkload(o.Config, o)
	if err != nil {
		return err
	}
	if err := compareModes(ctx, o, r, w, runID, map[string]target{ModeGateway: {url: o.GatewayURL}}); err != nil {
		return err
	}
	r.Notes = append(r.Notes, "dev stack: its gateway keeps routing records in bbolt, or in Consul with `make dev CONSUL=1`",
		fmt.Sprintf("failover (%s -> %s) not measured: it needs --self-contained", w.Region, fallback))
	if !o.Propagation {
		r.Notes = append(r.Notes, "config propagation not measured: pass --propagation against `make dev CONSUL=1`")
		return nil
	}
	return devPropagation(ctx, o, r, runID)
}

// runCeiling measures the ceiling with the workload routed by the dev
// config, which the ceiling's gateways run with (at the stubs).
func runCeiling(ctx context.Context, o Options, r *Report, runID string) error {
	w, _, err := ResolveWorkload(configs.Default(), o)
	if err != nil {
		return err
	}
	co := o.CeilingOptions
	co.Progress, co.IDPrefix = o.Progress, runID+"-ceiling"
	if co.ProfileDir == "" {
		co.ProfileDir = o.ProfileDir
	}
	r.Ceiling, err = Ceiling(ctx, co, w)
	return err
}

// ResolveWorkload routes o's workload (its type, location and class) with
// the config as the gateway would with every region up; it returns the
// workload and the region it should fail over to ("" if none).
func ResolveWorkload(cfg *configs.Config, o Options) (Workload, string, error) {
	p := router.New(cfg, o.WorkflowType)
	d, err := p.Decide(router.Request{Location: o.Location, Class: o.Class, WorkflowType: o.WorkflowType, Priority: router.PriorityNormal}, nil)
	if err != nil {
		return Workload{}, "", fmt.Errorf("routing %s/%s: %w", o.Location, o.Class, err)
	}
	rc, _ := cfg.Region(d.Region)
	w := Workload{
		WorkflowType: o.WorkflowType, Input: o.Input, Location: o.Location, Class: o.Class,
		Region: d.Region, Endpoint: rc.Endpoint, Namespace: d.Namespace,
		TaskQueue: router.TaskQueue(d.Region, o.WorkflowType, router.PriorityNormal),
	}
	fallback := ""
	if len(d.Lawful) > 1 {
		fallback = d.Lawful[1]
	}
	return w, fallback, nil
}

// target is a gateway to start through; overhead, when set, times that
// gateway's regional clients.
type target struct {
	url      string
	overhead *Overhead
}

// compareModes runs the modes side by side, after checking that the
// gateway puts the workload where the direct modes will. gateways holds
// the gateway modes' targets.
func compareModes(ctx context.Context, o Options, r *Report, w Workload, runID string, gateways map[string]target) error {
	r.Settings.Workload = fmt.Sprintf("`%s` with input `%s`, `userLocation` %s, `dataClassification` %s: region %s, namespace %s, task queue %s",
		w.WorkflowType, w.Input, w.Location, w.Class, w.Region, w.Namespace, w.TaskQueue)
	if slices.Contains(o.Modes, ModeHTTPFloor) {
		ov := NewOverhead()
		url, stop, err := startHTTPFloor(ctx, w, ov)
		if err != nil {
			return fmt.Errorf("starting the http floor: %w", err)
		}
		defer stop()
		gateways = maps.Clone(gateways)
		gateways[ModeHTTPFloor] = target{url: url, overhead: ov}
	}
	hc := NewHTTPClient(o.Load.Concurrency)
	for name, g := range gateways {
		if !slices.Contains(o.Modes, name) {
			continue
		}
		if err := probe(ctx, hc, g.url, w, runID+"-probe-"+name); err != nil {
			return err
		}
	}
	overheads := map[string]*Overhead{ModeDirect: NewOverhead()}
	copts := client.Options{HostPort: w.Endpoint, Namespace: w.Namespace, Logger: QuietLogger()}
	copts.ConnectionOptions.DialOptions = []grpc.DialOption{overheads[ModeDirect].DialOption()}
	direct, err := client.DialContext(ctx, copts)
	if err != nil {
		return fmt.Errorf("dialing %s at %s: %w", w.Region, w.Endpoint, err)
	}
	defer direct.Close()
	all := map[string]Mode{ModeDirect: overheads[ModeDirect].Wrap(DirectMode(direct, w)), ModeNaive: NaiveMode(w)}
	for name, g := range gateways {
		all[name] = GatewayMode(name, hc, g.url, w)
		if g.overhead != nil {
			overheads[name] = g.overhead
			all[name] = g.overhead.Wrap(all[name])
		}
	}
	var modes []Mode
	for _, name := range o.Modes {
		modes = append(modes, all[name])
	}
	fmt.Fprintf(o.Progress, "comparing %v: concurrency %d, %s per mode in %d rounds\n", o.Modes, o.Load.Concurrency, o.Load.Duration, o.Rounds)
	r.Modes, err = Compare(ctx, modes, CompareOptions{
		Load: o.Load, Rounds: o.Rounds, IDPrefix: runID, ProfileDir: o.ProfileDir,
		Settle: settle(direct),
	})
	for _, name := range o.Modes {
		if ov := overheads[name]; ov != nil {
			r.Overheads = append(r.Overheads, ov.Summary(name))
			if in, ok := ov.InHandler(name + " " + InHandlerSuffix); ok {
				r.Overheads = append(r.Overheads, in)
			}
		}
	}
	return err
}

// probe checks that the gateway at url starts the workload where the
// config says, so every mode does the same work.
func probe(ctx context.Context, hc *http.Client, url string, w Workload, id string) error {
	st, err := GatewayStart(ctx, hc, url, w, id)
	if err != nil {
		return fmt.Errorf("probing the gateway at %s: %w", url, err)
	}
	if st.Region != w.Region || st.Namespace != w.Namespace || st.TaskQueue != w.TaskQueue {
		return fmt.Errorf("the gateway at %s started the probe in %s/%s/%s, the config says %s/%s/%s: is it the gateway's config?",
			url, st.Region, st.Namespace, st.TaskQueue, w.Region, w.Namespace, w.TaskQueue)
	}
	return nil
}

// settle waits until the worker has finished the last workflow a run
// started: the task queue is first in, first out, so by then it has
// caught up with the run, and the next run does not pay for its backlog.
func settle(c client.Client) func(ctx context.Context, id string) error {
	return func(ctx context.Context, id string) error {
		if id == "" {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // bounded: a stack without a worker never finishes
		defer cancel()
		return c.GetWorkflow(ctx, id, "").Get(ctx, nil)
	}
}

// failoverStarts sends the workload through the gateway for the failover
// experiment.
func failoverStarts(hc *http.Client, gatewayURL string, w Workload) func(ctx context.Context, id string) (Started, error) {
	return func(ctx context.Context, id string) (Started, error) {
		return GatewayStart(ctx, hc, gatewayURL, w, id)
	}
}

// replicaVersions polls each admin URL's config version.
func replicaVersions(hc *http.Client, urls []string, token string) []func(context.Context) (string, error) {
	var out []func(context.Context) (string, error)
	for _, u := range slices.Clone(urls) {
		out = append(out, ReplicaVersion(hc, u, token))
	}
	return out
}
