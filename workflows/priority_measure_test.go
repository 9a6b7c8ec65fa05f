package workflows_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/workflows"
)

var measurePriority = flag.Bool("measure-priority", false,
	"measure the task-queue designs for priority and fairness on dev servers of their own (docs/BENCHMARKS.md)")

// The load of one measurement: a backlog of low-priority work that keeps a
// worker's activity slots busy for about backlog*activity/slots, then
// urgent work started behind it.
const (
	measureBacklog = 60
	measureUrgent  = 10
	measureSlots   = 2
	measureReps    = 3
)

// measureInput is one PropertyDataSync of about 200 ms of activity.
var measureInput = workflows.PropertyDataSyncInput{PropertyID: "p-measure", Pages: 2, PageDelayMs: 100}

// queueDesign is where a design starts backlog and urgent work, and what
// its workers poll.
type queueDesign struct {
	id     string // in task queue names
	name   string
	polls  func(q string) []string
	start  func(q string, urgent bool, tenant string) client.StartWorkflowOptions
	tenant bool // the urgent work is another tenant's, not another priority's
}

var (
	// separateQueues is today's routing: -priority and -batch queues,
	// each with a worker of its own.
	separateQueues = queueDesign{id: "queues", name: "separate queues (today)",
		polls: func(q string) []string { return []string{q, q + "-priority", q + "-batch"} },
		start: func(q string, urgent bool, _ string) client.StartWorkflowOptions {
			if urgent {
				return client.StartWorkflowOptions{TaskQueue: q + "-priority"}
			}
			return client.StartWorkflowOptions{TaskQueue: q + "-batch"}
		}}
	priorityKeys = queueDesign{id: "keys", name: "one queue, priority keys 1 / 5",
		polls: func(q string) []string { return []string{q} },
		start: func(q string, urgent bool, _ string) client.StartWorkflowOptions {
			key := 5
			if urgent {
				key = 1
			}
			return client.StartWorkflowOptions{TaskQueue: q, Priority: temporal.Priority{PriorityKey: key}}
		}}
	noKeys = queueDesign{id: "fifo", name: "one queue, no keys",
		polls: func(q string) []string { return []string{q} },
		start: func(q string, _ bool, _ string) client.StartWorkflowOptions {
			return client.StartWorkflowOptions{TaskQueue: q}
		}}
	fairnessKeys = queueDesign{id: "fair", name: "one queue, fairness key = tenant", tenant: true,
		polls: func(q string) []string { return []string{q} },
		start: func(q string, _ bool, tenant string) client.StartWorkflowOptions {
			return client.StartWorkflowOptions{TaskQueue: q, Priority: temporal.Priority{FairnessKey: tenant}}
		}}
	tenantsNoKeys = queueDesign{id: "unfair", name: "one queue, no fairness key", tenant: true,
		polls: noKeys.polls, start: noKeys.start}
)

// measuredServer is a dev server configuration and the designs run on it.
type measuredServer struct {
	name    string
	dynamic []string // --dynamic-config-value
	designs []queueDesign
}

func TestMeasureTaskQueuePriority(t *testing.T) {
	if !*measurePriority {
		t.Skip("a measurement, not a test: run with -measure-priority (docs/BENCHMARKS.md)")
	}
	servers := []measuredServer{
		{name: "default (v1.29.1)", designs: []queueDesign{separateQueues, priorityKeys}},
		{name: "matching.useNewMatcher=true", dynamic: []string{"matching.useNewMatcher=true"},
			designs: []queueDesign{separateQueues, priorityKeys, noKeys}},
		{name: "matching.enableFairness=true", dynamic: []string{"matching.enableFairness=true"},
			designs: []queueDesign{priorityKeys, tenantsNoKeys, fairnessKeys}},
	}
	rows := []string{
		"| server dynamic config | design | urgent: time to start p50 / max | urgent: start to result p50 / max | backlog drained in (median) |",
		"|---|---|---|---|---|",
	}
	for _, s := range servers {
		c := startMeasuredServer(t, s.dynamic)
		for _, d := range s.designs {
			var m measurement
			for rep := range measureReps {
				m.add(measureDesign(t, c, d, fmt.Sprintf("m%d-%s", rep, d.id)))
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s / %s | %s / %s | %s |", s.name, d.name,
				pct(m.toStart, 50), pct(m.toStart, 100), pct(m.toResult, 50), pct(m.toResult, 100), pct(m.drains, 50)))
		}
	}
	t.Logf("%d backlog workflows then %d urgent ones, %dms of activity each, %d activity slots per worker, %d runs:\n%s",
		measureBacklog, measureUrgent, measureInput.Pages*measureInput.PageDelayMs, measureSlots, measureReps, strings.Join(rows, "\n"))
}

func startMeasuredServer(t *testing.T, dynamic []string) client.Client {
	t.Helper()
	bin, err := devstack.TemporalBin()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{}
	for _, kv := range dynamic {
		args = append(args, "--dynamic-config-value", kv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: bin, ExtraArgs: args, LogLevel: "error", Stdout: io.Discard, Stderr: io.Discard,
		ClientOptions: &client.Options{Namespace: "measure", Logger: replayLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv.Client()
}

// measurement collects the timings of the runs of one design: for each
// urgent workflow, from its start to its activity's start (the server's
// clock: history event times) and to its result (the client's clock); for
// each run, the backlog's drain time.
type measurement struct{ toStart, toResult, drains []time.Duration }

func (m *measurement) add(o measurement) {
	m.toStart = append(m.toStart, o.toStart...)
	m.toResult = append(m.toResult, o.toResult...)
	m.drains = append(m.drains, o.drains...)
}

// measureDesign starts the backlog, waits until its activities queue up,
// starts the urgent work and times it, and the backlog from its first start
// to its last result.
func measureDesign(t *testing.T, c client.Client, d queueDesign, q string) (m measurement) {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	p, err := workflows.StartPool(c, d.polls(q), workflows.NewActivities(),
		worker.Options{MaxConcurrentActivityExecutionSize: measureSlots, WorkerStopTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	begin := time.Now()
	var backlog []client.WorkflowRun
	for i := range measureBacklog {
		o := d.start(q, false, "tenant-a")
		o.ID = fmt.Sprintf("%s-low-%d", q, i)
		run, err := c.ExecuteWorkflow(ctx, o, "PropertyDataSync", measureInput)
		if err != nil {
			t.Fatal(err)
		}
		backlog = append(backlog, run)
	}
	last := backlog[len(backlog)-1]
	poll.Until(t, 30*time.Second, "the backlog's last activity to be scheduled", func() bool {
		desc, err := c.DescribeWorkflow(ctx, last.GetID(), "")
		return err == nil && len(desc.RawResponse.GetPendingActivities()) > 0
	})

	var mu sync.Mutex
	var wg sync.WaitGroup
	var urgent []client.WorkflowRun
	for i := range measureUrgent {
		o := d.start(q, true, "tenant-b")
		o.ID = fmt.Sprintf("%s-urgent-%d", q, i)
		started := time.Now()
		run, err := c.ExecuteWorkflow(ctx, o, "PropertyDataSync", measureInput)
		if err != nil {
			t.Fatal(err)
		}
		urgent = append(urgent, run)
		wg.Go(func() {
			if err := run.Get(ctx, nil); err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			m.toResult = append(m.toResult, time.Since(started))
		})
	}
	for _, run := range backlog {
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	m.drains = []time.Duration{time.Since(begin)}
	wg.Wait()
	for _, run := range urgent {
		m.toStart = append(m.toStart, timeToActivity(ctx, t, c, run))
	}
	return m
}

// timeToActivity is the time from the run's start to its first activity
// attempt's start, from the history's event times.
func timeToActivity(ctx context.Context, t *testing.T, c client.Client, run client.WorkflowRun) time.Duration {
	t.Helper()
	var started, activity time.Time
	iter := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() && activity.IsZero() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			started = e.GetEventTime().AsTime()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			activity = e.GetEventTime().AsTime()
		}
	}
	if activity.IsZero() {
		t.Fatalf("%s has no activity start", run.GetID())
	}
	return activity.Sub(started)
}

// pct is the p-th percentile (nearest rank) of ds, rounded to 10 ms.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max(0, (p*len(s)+99)/100-1)
	return s[i].Round(10 * time.Millisecond)
}
