package workflows_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/services"
)

// query runs a query and decodes its answer into out, reporting success.
func query(ctx context.Context, c client.Client, id, name string, out any) bool {
	v, err := c.QueryWorkflow(ctx, id, "", name)
	return err == nil && v.Get(out) == nil
}

func setItemDelay(ctx context.Context, c client.Client, id string, ms int) (int, error) {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: workflows.UpdateSetItemDelay, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.ItemDelay{ItemDelayMs: ms}},
	})
	if err != nil {
		return 0, err
	}
	var prev int
	err = h.Get(ctx, &prev)
	return prev, err
}

func TestDataProcessingNotesAndDelayUpdateOnAServer(t *testing.T) {
	c := dial(t, client.Options{})
	queue := taskQueue(t)
	startPool(t, c, queue, workflows.NewActivities())
	ctx := ctxFor(t, time.Minute)
	// 40 items of 500ms: 20s unless the update speeds it up.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, "DataProcessing",
		workflows.DataProcessingInput{Items: 40, ItemDelayMs: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"first", "second"} {
		if err := c.SignalWorkflow(ctx, queue, "", workflows.SignalNote, workflows.Note{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 10*time.Second, "both notes in getNotes", func() bool {
		var notes []string
		return query(ctx, c, queue, workflows.QueryNotes, &notes) && slices.Equal(notes, []string{"first", "second"})
	})

	_, err = setItemDelay(ctx, c, queue, -1)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != workflows.ErrTypeValidation ||
		appErr.Message() != "itemDelayMs must be between 0 and 60000, got -1" {
		t.Fatalf("a negative delay: want the validator's ValidationError, got %v", err)
	}
	// 0, not 1: the server fires a timer after a second at the least.
	prev, err := setItemDelay(ctx, c, queue, 0)
	if err != nil || prev != 500 {
		t.Fatalf("setItemDelay 0: previous %d, %v; want 500", prev, err)
	}
	var res workflows.DataProcessingResult
	if err := run.Get(ctx, &res); err != nil || res.Processed != 40 {
		t.Fatalf("result %+v, %v", res, err)
	}
}

func TestPropertyDataSyncReactsToUpdatesOnAServer(t *testing.T) {
	c := dial(t, client.Options{})
	queue := taskQueue(t)
	props := services.NewProperties()
	startPool(t, c, queue, workflows.NewActivitiesWith(workflows.Services{Properties: props}))
	ctx := ctxFor(t, time.Minute)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, "PropertyDataSync",
		// 5 s of pages: the re-sync, a moment's work, is done long before.
		workflows.PropertyDataSyncInput{PropertyID: "p-7", Pages: 50, PageDelayMs: 100})
	if err != nil {
		t.Fatal(err)
	}
	updates := []workflows.PropertyUpdate{
		{PropertyID: "p-7", Fields: []string{"price", "title"}},
		{PropertyID: "p-other", Fields: []string{"price"}},
	}
	for _, u := range updates {
		if err := c.SignalWorkflow(ctx, queue, "", workflows.SignalPropertyUpdated, u); err != nil {
			t.Fatal(err)
		}
	}
	var got workflows.PropertyUpdates
	poll.Until(t, 20*time.Second, "the re-sync while the pages sync", func() bool {
		var status string
		return query(ctx, c, queue, workflows.QueryUpdates, &got) && got.FieldsResynced == 2 &&
			query(ctx, c, queue, workflows.QueryStatus, &status) && status == "syncing"
	})
	if got.Received != 2 || got.Ignored != 1 {
		t.Fatalf("getUpdates %+v: want 2 received, 1 ignored", got)
	}
	var res workflows.PropertyDataSyncResult
	if err := run.Get(ctx, &res); err != nil || res.FieldsResynced != 2 || res.PagesSynced != 50 {
		t.Fatalf("result %+v, %v", res, err)
	}
	if f := props.FieldsFetched("p-7"); !slices.Equal(f, []string{"price", "title"}) {
		t.Fatalf("fields fetched %v", f)
	}
}

func TestResilientDataSyncRefusalsOnAServer(t *testing.T) {
	c := dial(t, client.Options{})
	queue := taskQueue(t)
	startPool(t, c, queue, workflows.NewActivities())
	ctx := ctxFor(t, time.Minute)
	for dataset, want := range map[string]string{
		services.InvalidDataset:    workflows.ErrTypeValidation,
		services.AuthFailedDataset: workflows.ErrTypeAuthentication,
	} {
		t.Run(dataset, func(t *testing.T) {
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue + "-" + dataset, TaskQueue: queue},
				"ResilientDataSync", workflows.DataSyncInput{DatasetID: dataset})
			if err != nil {
				t.Fatal(err)
			}
			var appErr *temporal.ApplicationError
			if err := run.Get(ctx, nil); !errors.As(err, &appErr) || appErr.Type() != want || !appErr.NonRetryable() {
				t.Fatalf("want a non-retryable %s, got %v", want, err)
			}
		})
	}
}
