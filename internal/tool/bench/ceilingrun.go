package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// child is a measured process: a gateway or the http floor.
type child struct {
	proc  *devstack.Process
	ready ChildReady
	hc    *http.Client
}

// startChild runs mode's process (pinned when the ceiling pins) and waits
// until it serves.
func (c *ceiling) startChild(ctx context.Context, mode string, round int) (*child, error) {
	dir := filepath.Join(c.dir, fmt.Sprintf("%s-%d", mode, round+1))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	readyFile := filepath.Join(dir, "ready.json")
	var args []string
	switch mode {
	case ModeHTTPFloor:
		args = []string{"bench", "floor-process", "--endpoint", c.w.Endpoint, "--namespace", c.w.Namespace,
			"--region", c.w.Region, "--task-queue", c.w.TaskQueue, "--workflow-type", c.w.WorkflowType}
	default:
		records := "memory"
		if mode == ModeGateway {
			records = "bolt"
		}
		args = []string{"bench", "gateway-process", "--config", c.cfgFile, "--state-dir", dir, "--records", records}
	}
	args = append(args, "--ready-file", readyFile)
	bin := c.bin
	if c.childCPU != "" {
		bin, args = "taskset", append([]string{"-c", c.childCPU, c.bin}, args...)
	}
	ch := &child{hc: NewHTTPClient(c.o.MaxInFlight)}
	var err error
	ch.proc, err = devstack.StartProcess(ctx, mode+" process", filepath.Join(dir, "process.log"), bin, args,
		func(context.Context) (err error) { ch.ready, err = readChildReady(readyFile); return err })
	return ch, err
}

// stats reads the child's runtime counters.
func (ch *child) stats(ctx context.Context) (RuntimeStats, error) {
	var s RuntimeStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ch.ready.Stats+"/stats", nil)
	if err != nil {
		return s, err
	}
	resp, err := ch.hc.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// profile writes a CPU profile of the child, taken over d, to path, with
// its allocation profiles before and after (path's name with -allocs-0
// and -allocs-1: `go tool pprof -sample_index=alloc_objects -base` the
// first shows the allocations in between).
func (ch *child) profile(ctx context.Context, d time.Duration, path string) error {
	allocs := strings.TrimSuffix(path, ".pprof") + "-allocs-%d.pprof"
	err := ch.fetch(ctx, "/allocs", fmt.Sprintf(allocs, 0))
	err = errors.Join(err, ch.fetch(ctx, fmt.Sprintf("/profile?seconds=%g", d.Seconds()), path))
	return errors.Join(err, ch.fetch(ctx, "/allocs", fmt.Sprintf(allocs, 1)))
}

// fetch writes what the child's statistics listener answers at path to a
// file.
func (ch *child) fetch(ctx context.Context, path, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ch.ready.Stats+path, nil)
	if err != nil {
		return err
	}
	resp, err := ch.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// measure runs one mode's round: a fresh process, a warm-up, the open-loop
// rates, the saturation ladder, then half the ceiling it found.
func (c *ceiling) measure(ctx context.Context, mode string, round int) (CeilingRound, error) {
	r := CeilingRound{Round: round + 1}
	fmt.Fprintf(c.o.Progress, "ceiling: %s, round %d/%d\n", mode, round+1, c.o.Rounds)
	ch, err := c.startChild(ctx, mode, round)
	if err != nil {
		return r, err
	}
	defer ch.proc.Stop()
	start := GatewayMode(mode, ch.hc, ch.ready.URL, c.w).Start
	prefix := fmt.Sprintf("%s-%s-r%d", c.o.IDPrefix, mode, round+1)
	ids := func(phase string) func(int) string {
		return func(seq int) string { return prefix + "-" + phase + "-" + strconv.Itoa(seq) }
	}
	// Connections, the lazy clients and the caches warm up unmeasured.
	if s := closedLoop(ctx, 4, c.o.Warmup, start, ids("warmup")); s.ok() == 0 {
		return r, fmt.Errorf("warming up: no start succeeded: %s", s.firstError)
	}
	if rt, err := ch.stats(ctx); err == nil {
		r.GOMAXPROCS = rt.GOMAXPROCS
	}
	for _, rate := range c.o.Rates {
		p, err := c.phase(ctx, ch, fmt.Sprintf("%.0f/s", rate), func() loadSample {
			return openLoop(ctx, rate, c.o.Phase, c.o.MaxInFlight, start, ids(fmt.Sprintf("%.0f", rate)), c.st)
		})
		if err != nil {
			return r, err
		}
		p.Rate = rate
		r.Rates = append(r.Rates, p)
		c.progress(mode, p)
	}
	if err := c.ladder(ctx, ch, mode, &r, start, ids); err != nil {
		return r, err
	}
	if err := c.profiles(ctx, ch, mode, round, r, start, ids); err != nil {
		fmt.Fprintf(c.o.Progress, "ceiling: profiling %s: %v\n", mode, err)
	}
	half := r.Ladder[r.Saturation].RPS / 2
	p, err := c.phase(ctx, ch, fmt.Sprintf("half the ceiling, %.0f/s", half), func() loadSample {
		return openLoop(ctx, half, c.o.Phase, c.o.MaxInFlight, start, ids("half"), c.st)
	})
	if err != nil {
		return r, err
	}
	p.Rate, r.Half = half, &p
	c.progress(mode, p)
	if m, err := procMem(ch.proc.Pid()); err == nil {
		r.HWMMB = mb(m.hwm)
	}
	return r, nil
}

// ladder runs the closed loop at each concurrency of the ladder; the step
// with the most starts/s is the saturation the half-ceiling phase halves.
func (c *ceiling) ladder(ctx context.Context, ch *child, mode string, r *CeilingRound,
	start func(context.Context, string) error, ids func(string) func(int) string) error {
	for _, n := range c.o.Ladder {
		phase := "c=" + strconv.Itoa(n)
		closedLoop(ctx, n, c.o.Step/8, start, ids(phase+"-warmup"))
		p, err := c.phase(ctx, ch, phase, func() loadSample { return closedLoop(ctx, n, c.o.Step, start, ids(phase)) })
		if err != nil {
			return err
		}
		p.Concurrency = n
		r.Ladder = append(r.Ladder, p)
		c.progress(mode, p)
		if p.RPS > r.Ladder[r.Saturation].RPS {
			r.Saturation = len(r.Ladder) - 1
		}
	}
	return nil
}

// profiles takes CPU profiles of the child at its first rate and at
// saturation, in extra unmeasured runs, when ProfileDir is set.
func (c *ceiling) profiles(ctx context.Context, ch *child, mode string, round int, r CeilingRound,
	start func(context.Context, string) error, ids func(string) func(int) string) error {
	if c.o.ProfileDir == "" {
		return nil
	}
	if err := os.MkdirAll(c.o.ProfileDir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(c.o.ProfileDir, fmt.Sprintf("ceiling-%s-%d", mode, round+1))
	var errs []error
	run := func(name string, load func() loadSample) {
		var wg sync.WaitGroup
		var s loadSample
		cpu0, _ := procCPU(ch.proc.Pid())
		wg.Go(func() { s = load() })
		errs = append(errs, ch.profile(ctx, c.o.Phase, base+"-"+name+".pprof"))
		wg.Wait()
		cpu1, _ := procCPU(ch.proc.Pid())
		c.forget()
		// How many starts the profile saw, roughly (the load and the
		// profile start together), to turn its samples into per start,
		// and the CPU time /proc saw meanwhile, to compare.
		errs = append(errs, os.WriteFile(base+"-"+name+".starts", fmt.Appendf(nil, "%d starts, %d errors, %.3f s, %.2f s of CPU (/proc)\n",
			s.ok(), s.errors, s.elapsed.Seconds(), (cpu1-cpu0).Seconds()), 0o644))
	}
	if len(c.o.Rates) > 0 {
		rate := c.o.Rates[0]
		run(fmt.Sprintf("%.0f", rate), func() loadSample {
			return openLoop(ctx, rate, c.o.Phase, c.o.MaxInFlight, start, ids("profile-rate"), c.st)
		})
	}
	n := c.o.Ladder[len(c.o.Ladder)-1]
	run("saturation", func() loadSample { return closedLoop(ctx, n, c.o.Phase, start, ids("profile-saturation")) })
	return errors.Join(errs...)
}

// phase runs load and measures the child meanwhile, from outside (CPU
// time and memory from /proc) and from inside (its runtime's counters).
func (c *ceiling) phase(ctx context.Context, ch *child, name string, load func() loadSample) (CeilingPhase, error) {
	defer c.forget()
	pid, self := ch.proc.Pid(), os.Getpid()
	rt0, err := ch.stats(ctx)
	if err != nil {
		return CeilingPhase{}, fmt.Errorf("reading the process's stats: %w", err)
	}
	cpu0, err := procCPU(pid)
	if err != nil {
		return CeilingPhase{}, err
	}
	self0, _ := procCPU(self)
	wait0, _ := procRunDelay(pid)
	cpus0 := readCPUTimes()
	rss := sampleRSS(pid)
	s := load()
	maxRSS, lastRSS := rss()
	cpu1, err := procCPU(pid)
	if err != nil {
		return CeilingPhase{}, err
	}
	self1, _ := procCPU(self)
	wait1, _ := procRunDelay(pid)
	cpus1 := readCPUTimes()
	rt1, err := ch.stats(ctx)
	if err != nil {
		return CeilingPhase{}, fmt.Errorf("reading the process's stats: %w", err)
	}
	p := CeilingPhase{
		Phase: name, Starts: s.ok(), Errors: s.errors, Skipped: s.skipped, FirstError: s.firstError,
		Seconds: round3(s.elapsed.Seconds()), CPUSeconds: round3((cpu1 - cpu0).Seconds()),
		GCs: rt1.GCCycles - rt0.GCCycles, RSSMaxMB: mb(maxRSS.rss), RSSAnonMaxMB: mb(maxRSS.anon), RSSEndMB: mb(lastRSS.rss),
		latencies: s.latencies, added: s.added,
	}
	if s.elapsed > 0 {
		p.RPS = round3(float64(s.ok()) / s.elapsed.Seconds())
		p.Cores = round3((cpu1 - cpu0).Seconds() / s.elapsed.Seconds())
		p.GenCores = round3((self1 - self0).Seconds() / s.elapsed.Seconds())
		p.RunWait = round3((wait1 - wait0).Seconds() / s.elapsed.Seconds())
	}
	if n := s.ok() + s.errors; n > 0 {
		p.CPUUsPerStart = round3(float64((cpu1 - cpu0).Microseconds()) / float64(n))
		p.AllocsPerStart = round3(float64(rt1.AllocObjects-rt0.AllocObjects) / float64(n))
		p.BytesPerStart = round3(float64(rt1.AllocBytes-rt0.AllocBytes) / float64(n))
	}
	p.ChildCPUBusy, p.GenCPUBusy = c.busy(cpus0, cpus1)
	slices.Sort(s.latencies)
	slices.Sort(s.added)
	slices.Sort(s.late)
	p.P50Ms, p.P99Ms = ms(Percentile(s.latencies, 50)), ms(Percentile(s.latencies, 99))
	p.AddedP50Ms, p.AddedP99Ms = ms(Percentile(s.added, 50)), ms(Percentile(s.added, 99))
	p.LateP99Ms = ms(Percentile(s.late, 99))
	return p, nil
}

// busy is how busy the measured process's CPU and the load generator's
// were (every process on them), when pinned.
func (c *ceiling) busy(before, after map[int]cpuTimes) (childCPU, genCPUs float64) {
	if c.childCPU == "" {
		return 0, 0
	}
	n, _ := strconv.Atoi(c.childCPU)
	childCPU = round3(busyShare(before, after, n))
	gen := cpuList(c.genCPUs)
	for _, g := range gen {
		genCPUs += busyShare(before, after, g)
	}
	return childCPU, round3(genCPUs / float64(len(gen)))
}

func (c *ceiling) progress(mode string, p CeilingPhase) {
	open := ""
	if p.Rate > 0 {
		open = fmt.Sprintf("  added p50 %.2f p99 %.2f ms  late p99 %.2f ms  skipped %d", p.AddedP50Ms, p.AddedP99Ms, p.LateP99Ms, p.Skipped)
	}
	if p.FirstError != "" {
		open += "  first error: " + p.FirstError
	}
	fmt.Fprintf(c.o.Progress, "  %-14s %-26s %6.0f starts/s  %4.2f cores (CPU %.0f%% busy)  %5.1f us/start  %5.1f allocs/start  RSS max %5.1f MB  p50 %.2f p99 %.2f ms  waiting for a CPU %.2f  generator %.2f cores (CPU %.0f%% busy)  errors %d%s\n",
		mode, p.Phase, p.RPS, p.Cores, 100*p.ChildCPUBusy, p.CPUUsPerStart, p.AllocsPerStart, p.RSSMaxMB, p.P50Ms, p.P99Ms, p.RunWait, p.GenCores, 100*p.GenCPUBusy, p.Errors, open)
}

// sampleRSS samples pid's memory every 100 ms until the returned func is
// called, which returns the largest resident set and anonymous part seen
// (each its own largest) and the last sample.
func sampleRSS(pid int) func() (peak, last memStat) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak, last memStat
	read := func() {
		if m, err := procMem(pid); err == nil {
			peak.rss, peak.anon, last = max(peak.rss, m.rss), max(peak.anon, m.anon), m
		}
	}
	read()
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return func() (memStat, memStat) { close(done); wg.Wait(); return peak, last }
}

func mb(b uint64) float64 { return round3(float64(b) / (1 << 20)) }
