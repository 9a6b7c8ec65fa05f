package workflows_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/services"
)

// A worker that can be killed with SIGKILL must be another process: this
// test binary, re-run with these variables set, becomes one (see TestMain).
const (
	helperWorkerEnv = "REGIONGATE_TEST_HELPER_WORKER" // the dev server's address
	helperQueueEnv  = "REGIONGATE_TEST_HELPER_QUEUE"
)

// runHelperWorker polls the queue named in the environment until killed.
func runHelperWorker(addr string) {
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: e2eNamespace, Logger: replayLogger()})
	mustf(err, "helper worker: dialing %s", addr)
	_, err = workflows.StartPool(c, []string{os.Getenv(helperQueueEnv)}, workflows.NewActivities(), worker.Options{})
	mustf(err, "helper worker: starting")
	select {}
}

func startHelperWorker(t *testing.T, addr, queue string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperWorkerEnv+"="+addr, helperQueueEnv+"="+queue)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func TestPropertyDataSyncResumesAfterWorkerDies(t *testing.T) {
	srv := needServer(t)
	c := dial(t, client.Options{})
	queue := taskQueue(t)
	ctx := ctxFor(t, 2*time.Minute)
	helper := startHelperWorker(t, srv.Addr, queue)

	const pages = 60
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, "PropertyDataSync",
		workflows.PropertyDataSyncInput{PropertyID: "p-sync", Pages: pages, PageDelayMs: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK sends the first heartbeat at once and throttles the rest, so
	// a page past 1 on the server proves heartbeats keep arriving.
	var beat int
	poll.Until(t, 30*time.Second, "a heartbeat past page 1", func() bool {
		d, err := c.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
		if err != nil || len(d.RawResponse.GetPendingActivities()) != 1 {
			return false
		}
		details := d.RawResponse.GetPendingActivities()[0].GetHeartbeatDetails()
		return details != nil && converter.GetDefaultDataConverter().FromPayloads(details, &beat) == nil && beat > 1
	})
	// kill -9: the worker gets no chance to report anything.
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	props := services.NewProperties()
	startPool(t, c, queue, workflows.NewActivitiesWith(workflows.Services{Properties: props}))
	var res workflows.PropertyDataSyncResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom < beat || res.ResumedFrom >= pages || res.PagesSynced != pages {
		t.Fatalf("result %+v: want a resume from page %d or later", res, beat)
	}
	if got := props.PagesFetched("p-sync"); got != pages-res.ResumedFrom {
		t.Fatalf("the new worker fetched %d pages, want only the %d after the heartbeat", got, pages-res.ResumedFrom)
	}
}
