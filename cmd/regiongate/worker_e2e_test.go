package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// The binary's worker, as make dev runs it: two namespaces, encryption from
// the environment, and on shutdown the running activity gets to finish.
func TestWorkerServesNamespacesAndStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("real-server test: needs a Temporal dev server (skipped under -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devstack.StartTemporal(ctx, t.TempDir(), "dev-eu-west", "eu-extra")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	secret := make([]byte, codec.KeySize)
	secret[0] = 7
	t.Setenv(codec.EnvName("eu-west"), "k1:"+base64.StdEncoding.EncodeToString(secret))
	cdc, err := codec.New([]codec.Key{{ID: "k1", Secret: secret}})
	if err != nil {
		t.Fatal(err)
	}

	workerCtx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	done := make(chan error, 1)
	metricsPort, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	cmd := workerCmd()
	cmd.SetArgs([]string{"--region", "eu-west", "--address", srv.Addr, "--namespace", "dev-eu-west,eu-extra",
		"--stop-timeout", "30s", "--require-encryption", "--log-format", "text",
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort)})
	cmd.SetOut(io.Discard)
	go func() { done <- cmd.ExecuteContext(workerCtx) }()

	for _, ns := range []string{"dev-eu-west", "eu-extra"} {
		c := dialNS(t, srv.Addr, ns, cdc)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "eu-west-PropertyBooking-priority"}, "PropertyBooking",
			workflows.BookingInput{PropertyID: "p-1", Nights: 1, AmountCents: 100, CardToken: "tok_visa"})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.BookingResult
		if err := run.Get(ctx, &res); err != nil || res.Status != "confirmed" {
			t.Fatalf("booking in %s: %+v %v", ns, res, err)
		}
	}

	// The SDK's own worker metrics are served, with the bookings counted.
	poll.Until(t, 10*time.Second, "the SDK's workflow metrics", func() bool {
		resp, err := http.Get(metricsURL)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), "temporal_workflow_completed") &&
			strings.Contains(string(body), `workflow_type="PropertyBooking"`)
	})

	c := dialNS(t, srv.Addr, "dev-eu-west", cdc)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "eu-west-PropertyDataSync"}, "PropertyDataSync",
		workflows.PropertyDataSyncInput{PropertyID: "p-1", Pages: 20, PageDelayMs: 100})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the sync activity to start", func() bool {
		d, err := c.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
		return err == nil && len(d.RawResponse.GetPendingActivities()) == 1 &&
			d.RawResponse.GetPendingActivities()[0].GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED
	})
	stopWorker() // what SIGTERM does through main's signal context
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker: %v", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("the worker did not stop")
	}
	if !hasEvent(t, c, run.GetID(), enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
		t.Fatal("the running activity was cut short instead of finishing")
	}
}

func dialNS(t *testing.T, addr, ns string, c *codec.Codec) client.Client {
	t.Helper()
	opts := codec.ClientOptions(client.Options{HostPort: addr, Namespace: ns,
		Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))}, c)
	cl, err := client.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func hasEvent(t *testing.T, c client.Client, id string, typ enumspb.EventType) bool {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetEventType() == typ {
			return true
		}
	}
	return false
}
