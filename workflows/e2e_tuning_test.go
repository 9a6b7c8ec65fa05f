package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/workflows"
)

func TestPoolRunsWithTheResourceTuner(t *testing.T) {
	c := dial(t, client.Options{})
	queue := taskQueue(t)
	tuner, err := workflows.NewResourceTuner(workflows.ResourceTuning{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := workflows.StartPool(c, []string{queue}, workflows.NewActivities(),
		worker.Options{Tuner: tuner, WorkerStopTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	ctx := ctxFor(t, time.Minute)
	starts := map[string]any{
		"PropertyBooking":   workflows.BookingInput{PropertyID: "p-1", Nights: 1, AmountCents: 100, CardToken: "tok_visa"},
		"ResilientDataSync": workflows.DataSyncInput{DatasetID: "ds-tuned"},
	}
	for typ, in := range starts {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue + "-" + typ, TaskQueue: queue}, typ, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			t.Fatalf("%s on a tuned pool: %v", typ, err)
		}
	}
}
