package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/tool/bench/stubfrontend"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/router"
)

// CeilingOptions shape the ceiling measurement: what the gateway itself
// carries, per core and per megabyte, with a stub frontend (package
// stubfrontend) in place of Temporal so the gateway is the bottleneck.
// Zero values take the defaults in withDefaults.
type CeilingOptions struct {
	// Modes are the processes measured, each in turn: ModeGatewayMemory
	// (a gateway as serve runs it, routing records in memory),
	// ModeHTTPFloor (the bare HTTP front) and ModeGateway (bbolt records).
	// Default: gateway-memory, http-floor.
	Modes []string
	// Rates are the open-loop rates (starts/s) at which RSS, CPU and
	// latency are measured. Default 1000, 5000.
	Rates []float64
	// Phase is how long each open-loop phase runs per round (default 5s);
	// Step each step of the saturation ladder (default 2s).
	Phase, Step time.Duration
	// Ladder is the closed loop's rising concurrency. Default 1, 2, 4, ..., 64.
	Ladder []int
	// Rounds interleave the modes (a fresh process per mode and round);
	// odd rounds run them in reverse order. Default 2.
	Rounds int
	// MaxInFlight bounds the open loop's starts in flight. Default 1024.
	MaxInFlight int
	// Warmup is the unmeasured load on each fresh process. Default 1s.
	Warmup time.Duration
	// NoPin leaves every process free to run on every CPU. By default the
	// measured process runs on the last CPU and this process (the load
	// generator and the stubs) on the others, with taskset.
	NoPin bool
	// Bin is the regiongate binary the child processes run; default this
	// executable.
	Bin string
	// ProfileDir, when set, gets a CPU profile of each measured process
	// at saturation and at the first rate (extra runs, not measured).
	ProfileDir string
	// IDPrefix starts every workflow id.
	IDPrefix string
	Progress io.Writer
}

func (o CeilingOptions) withDefaults() CeilingOptions {
	if len(o.Modes) == 0 {
		o.Modes = []string{ModeGatewayMemory, ModeHTTPFloor}
	}
	if len(o.Rates) == 0 {
		o.Rates = []float64{1000, 5000}
	}
	if o.Phase <= 0 {
		o.Phase = 5 * time.Second
	}
	if o.Step <= 0 {
		o.Step = 2 * time.Second
	}
	if len(o.Ladder) == 0 {
		o.Ladder = []int{1, 2, 4, 8, 16, 32, 64}
	}
	if o.Rounds <= 0 {
		o.Rounds = 2
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1024
	}
	if o.Warmup <= 0 {
		o.Warmup = time.Second
	}
	if o.IDPrefix == "" {
		o.IDPrefix = "ceiling-" + time.Now().UTC().Format("20060102T150405")
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// ceilingModes are the modes the ceiling knows.
var ceilingModes = []string{ModeGatewayMemory, ModeHTTPFloor, ModeGateway}

// ceiling is one measurement in progress.
type ceiling struct {
	o       CeilingOptions
	dir     string
	bin     string
	cfgFile string
	w       Workload
	st      *serviceTimes
	stubs   []*stubfrontend.Server
	// childCPU and genCPUs are where the measured process and this one
	// run ("" when not pinned).
	childCPU, genCPUs string
}

// Ceiling measures the modes against stub frontends, one per region of
// the dev config, and returns what it saw. workload's region is where the
// starts go (its Endpoint is replaced by that region's stub).
func Ceiling(ctx context.Context, o CeilingOptions, workload Workload) (_ *CeilingResult, err error) {
	o = o.withDefaults()
	for _, m := range o.Modes {
		if !slices.Contains(ceilingModes, m) {
			return nil, fmt.Errorf("unknown ceiling mode %q: want one of %s", m, strings.Join(ceilingModes, ", "))
		}
	}
	c := &ceiling{o: o, st: newServiceTimes(), bin: o.Bin}
	if c.dir, err = os.MkdirTemp("", "regiongate-ceiling-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(c.dir)
	if c.bin == "" {
		if c.bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	defer c.stopStubs()
	if err := c.startStubs(workload); err != nil {
		return nil, err
	}
	res := &CeilingResult{Settings: c.settings(), Modes: make([]CeilingMode, len(o.Modes))}
	for i, m := range o.Modes {
		res.Modes[i].Mode = m
	}
	unpin, note := c.pin()
	defer unpin()
	res.Notes = append(res.Notes, note)
	for round := range o.Rounds {
		order := slices.Clone(o.Modes)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, m := range order {
			r, err := c.measure(ctx, m, round)
			if err != nil {
				return res, fmt.Errorf("ceiling, %s round %d: %w", m, round+1, err)
			}
			res.mode(m).Rounds = append(res.mode(m).Rounds, r)
		}
	}
	res.finish()
	res.Notes = append(res.Notes, res.gomaxprocs())
	return res, nil
}

func (c *ceiling) settings() CeilingSettings {
	return CeilingSettings{
		Rates: c.o.Rates, PhaseSeconds: c.o.Phase.Seconds(), StepSeconds: c.o.Step.Seconds(),
		Ladder: c.o.Ladder, Rounds: c.o.Rounds, MaxInFlight: c.o.MaxInFlight,
		Workload: fmt.Sprintf("`%s` with input `%s`, `userLocation` %s, `dataClassification` %s: region %s, namespace %s, task queue %s",
			c.w.WorkflowType, c.w.Input, c.w.Location, c.w.Class, c.w.Region, c.w.Namespace, c.w.TaskQueue),
	}
}

// startStubs starts a stub per region of the dev config and writes the
// config the gateways read: the dev config at the stubs.
func (c *ceiling) startStubs(w Workload) error {
	base := configs.Default()
	endpoints := map[string]string{}
	for _, rc := range base.Regions {
		s, err := stubfrontend.Start("127.0.0.1:0", stubfrontend.Options{
			Namespaces: router.Namespaces(base, rc), ObserveStart: c.st.observe,
		})
		if err != nil {
			return err
		}
		c.stubs = append(c.stubs, s)
		endpoints[rc.Name] = s.Addr()
	}
	text, err := devstack.DevConfigAt(endpoints, nil)
	if err != nil {
		return err
	}
	c.cfgFile = filepath.Join(c.dir, "config.yaml")
	if err := os.WriteFile(c.cfgFile, text, 0o600); err != nil {
		return err
	}
	c.w = w
	c.w.Endpoint = endpoints[w.Region]
	if c.w.Endpoint == "" {
		return fmt.Errorf("the workload's region %q is not in the dev config", w.Region)
	}
	return nil
}

func (c *ceiling) stopStubs() {
	for _, s := range c.stubs {
		s.Stop()
	}
}

func (c *ceiling) forget() {
	for _, s := range c.stubs {
		s.Forget()
	}
	c.st.reset()
}

// pin puts the measured processes on the last CPU this process may use
// and this process (the load generator and the stubs) on the others, so
// the load does not take the measured process's CPU. It returns how to
// undo it and a note saying what it did.
func (c *ceiling) pin() (undo func(), note string) {
	undo = func() {}
	allowed, err := allowedCPUs()
	cpus := cpuList(allowed)
	_, lookErr := exec.LookPath("taskset")
	switch {
	case c.o.NoPin:
		return undo, "not pinned (--ceiling-pin=false): the measured process, the load generator and the stubs share every CPU"
	case err != nil || len(cpus) < 2 || lookErr != nil:
		return undo, fmt.Sprintf("not pinned: %d CPUs allowed (%s), taskset %v", len(cpus), allowed, errors.Join(err, lookErr))
	}
	c.childCPU = strconv.Itoa(cpus[len(cpus)-1])
	var gen []string
	for _, n := range cpus[:len(cpus)-1] {
		gen = append(gen, strconv.Itoa(n))
	}
	c.genCPUs = strings.Join(gen, ",")
	if err := pinSelf(c.genCPUs); err != nil {
		c.childCPU, c.genCPUs = "", ""
		return undo, "not pinned: " + err.Error()
	}
	runtime.GOMAXPROCS(len(gen))
	return func() {
			_ = pinSelf(allowed)
			runtime.SetDefaultGOMAXPROCS()
		}, fmt.Sprintf("pinned with taskset: the measured process on CPU %s (its GOMAXPROCS follows its affinity), the load generator and the stubs (this process) on CPU %s; other work on the machine is not pinned and shares both",
			c.childCPU, c.genCPUs)
}

// cpuList expands taskset's list syntax ("0-3,5") into CPU numbers.
func cpuList(s string) []int {
	var out []int
	for part := range strings.SplitSeq(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for n := a; n <= b; n++ {
			out = append(out, n)
		}
	}
	return out
}
