package devstack_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// TestReplicationRecipe walks ../shared/TOOLCHAIN.md's "Replicated Temporal
// dev clusters" with temporal-replica and reports each step's time: two
// clusters, connected both ways, a global namespace active in one and
// replicated to the other, a workflow's history on both, a planned
// failover, a signal to the new active cluster replicated back, then a
// forced failover of a killed active cluster and its return.
func TestReplicationRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("needs real Temporal servers (skipped under -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var steps []string
	step := func(what string, began time.Time) {
		steps = append(steps, fmt.Sprintf("%-62s %6dms", what, time.Since(began).Milliseconds()))
	}
	defer func() { t.Logf("replication recipe, step times:\n  %s", strings.Join(steps, "\n  ")) }()

	began := time.Now()
	a, b := startPair(ctx, t, dir)
	step("start clusters a and b (in parallel)", began)

	began = time.Now()
	if err := devstack.Connect(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	step("connect them both ways (cluster upsert)", began)

	began = time.Now()
	if err := devstack.RegisterGlobal(ctx, a, b, "recipe"); err != nil {
		t.Fatal(err)
	}
	step("register global namespace active in a, until b has it", began)

	ca, cb := dial(t, a), dial(t, b)
	run, err := ca.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "recipe-1", TaskQueue: "recipe"}, "Recipe")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.SignalWorkflow(ctx, "recipe-1", "", "step", "on a"); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	// Started, its first workflow task scheduled, signalled: 3 events.
	waitEvents(t, cb, "recipe-1", 3, "b to hold the history written in a")
	step("workflow started and signalled in a: same history in b", began)

	began = time.Now()
	if err := devstack.Failover(ctx, a, "recipe", "b"); err != nil {
		t.Fatal(err)
	}
	signalUntilAccepted(t, cb, "recipe-1", "on b")
	step("planned failover to b: until b takes a signal", began)

	began = time.Now()
	waitEvents(t, ca, "recipe-1", 4, "a to hold the signal sent to b")
	step("signal sent to b replicated back to a", began)

	b.Kill()
	began = time.Now()
	if err := devstack.Failover(ctx, a, "recipe", "a"); err != nil {
		t.Fatal(err)
	}
	signalUntilAccepted(t, ca, "recipe-1", "on a, b gone")
	step("kill -9 b, forced failover to a: until a takes a signal", began)

	began = time.Now()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	step("restart b on its port and state", began)
	began = time.Now()
	poll.Until(t, time.Minute, "b to learn that a is active again", func() bool {
		active, err := devstack.ActiveCluster(ctx, b, "recipe")
		return err == nil && active == "a"
	})
	waitEvents(t, cb, "recipe-1", 5, "b to hold the signal a took while b was gone")
	step("b back: knows a is active, holds a's history", began)

	if err := ca.TerminateWorkflow(ctx, "recipe-1", run.GetRunID(), "recipe done"); err != nil {
		t.Fatal(err)
	}
}

func startPair(ctx context.Context, t *testing.T, dir string) (a, b *devstack.Temporal) {
	t.Helper()
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { a, errA = devstack.StartCluster(ctx, dir, "a", 1) })
	wg.Go(func() { b, errB = devstack.StartCluster(ctx, dir, "b", 2) })
	wg.Wait()
	for _, c := range []*devstack.Temporal{a, b} {
		if c != nil {
			t.Cleanup(c.Stop)
		}
	}
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func dial(t *testing.T, c *devstack.Temporal) client.Client {
	t.Helper()
	cl, err := client.Dial(client.Options{HostPort: c.Addr, Namespace: "recipe", Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// waitEvents waits until the cluster holds at least n events of the
// workflow's history.
func waitEvents(t *testing.T, c client.Client, id string, n int64, what string) {
	t.Helper()
	poll.Until(t, time.Minute, what, func() bool {
		d, err := c.DescribeWorkflow(context.Background(), id, "")
		return err == nil && d.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength() >= n
	})
}

// signalUntilAccepted signals until the cluster takes it: until it knows
// it is the namespace's active cluster, it answers NamespaceNotActive.
func signalUntilAccepted(t *testing.T, c client.Client, id, text string) {
	t.Helper()
	var last error
	poll.Until(t, time.Minute, "the new active cluster to take a signal", func() bool {
		last = c.SignalWorkflow(context.Background(), id, "", "step", text)
		var notActive *serviceerror.NamespaceNotActive
		if last != nil && !errors.As(last, &notActive) {
			t.Logf("signal: %v", last)
		}
		return last == nil
	})
}
