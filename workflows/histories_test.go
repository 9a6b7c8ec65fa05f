package workflows_test

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/services"
)

var recordHistories = flag.Bool("record-histories", false,
	"run the history scenarios on a dev server and write the ones missing from "+historiesDir)

const historiesDir = "testdata/histories"

// historyScenario is one workflow run whose history is committed, so that
// TestReplayCommittedHistories can prove later code still replays it.
type historyScenario struct {
	file     string // under historiesDir
	workflow string
	input    any
	// drive, if set, acts on the running workflow (e.g. cancels it).
	drive func(ctx context.Context, t *testing.T, c client.Client, id string)
}

// historyScenarios are the runs of the current code. A committed history is
// never re-recorded: it is the record of the code that produced it, and
// replaying it is how a change proves it is compatible. When a change makes
// a scenario take a new path, add a scenario with a new file name.
//
// Retired scenarios, whose histories stay committed: PropertyBooking-
// confirmed, -declined and -unavailable were recorded before the
// add-risk-check change and prove that runs started then still replay.
// PropertyDataSync-completed and -signaled-unversioned were recorded before
// the react-to-property-updates change (the second got a propertyUpdated
// signal that code ignored): replaying them proves the version guard.
var historyScenarios = []historyScenario{
	{file: "PropertyBooking-risk-checked-confirmed.json", workflow: "PropertyBooking",
		input: workflows.BookingInput{PropertyID: "p-1", Nights: 2, AmountCents: 25000, CardToken: "tok_visa"}},
	{file: "PropertyBooking-risk-checked-fraud.json", workflow: "PropertyBooking",
		input: workflows.BookingInput{PropertyID: "p-1", Nights: 2, AmountCents: 25000, CardToken: "tok_fraud"}},
	{file: "PropertyBooking-risk-checked-declined.json", workflow: "PropertyBooking",
		input: workflows.BookingInput{PropertyID: "p-1", Nights: 2, AmountCents: 25000, CardToken: "tok_declined"}},
	{file: "PropertyBooking-risk-checked-unavailable.json", workflow: "PropertyBooking",
		input: workflows.BookingInput{PropertyID: "p-unavailable", Nights: 2, AmountCents: 25000, CardToken: "tok_visa"}},
	{file: "DataProcessing-completed.json", workflow: "DataProcessing",
		input: workflows.DataProcessingInput{Items: 3, ItemDelayMs: 10}},
	{file: "DataProcessing-canceled.json", workflow: "DataProcessing",
		input: workflows.DataProcessingInput{Items: 100, ItemDelayMs: 1000}, drive: cancelWhenProcessing},
	// Signals the workflows ignored until they had handlers: recorded so
	// that the handlers are proven to replay runs that received them.
	{file: "DataProcessing-noted.json", workflow: "DataProcessing",
		input: workflows.DataProcessingInput{Items: 5, ItemDelayMs: 300}, drive: signalWhenProcessing("note",
			map[string]string{"text": "first"}, map[string]string{"text": "second"})},
	{file: "DataProcessing-noted-delay-updated.json", workflow: "DataProcessing",
		input: workflows.DataProcessingInput{Items: 5, ItemDelayMs: 1000}, drive: driveAll(
			signalWhenProcessing(workflows.SignalNote, workflows.Note{Text: "first"}, workflows.Note{Text: "second"}),
			updateItemDelay(-1), updateItemDelay(0))},
	{file: "PropertyDataSync-versioned-completed.json", workflow: "PropertyDataSync",
		input: workflows.PropertyDataSyncInput{PropertyID: "p-1", Pages: 3, PageDelayMs: 10}},
	{file: "PropertyDataSync-fields-resynced.json", workflow: "PropertyDataSync",
		input: workflows.PropertyDataSyncInput{PropertyID: "p-1", Pages: 10, PageDelayMs: 150},
		drive: signalWhenSyncing(workflows.SignalPropertyUpdated,
			workflows.PropertyUpdate{PropertyID: "p-1", Fields: []string{"price"}},
			workflows.PropertyUpdate{PropertyID: "p-1", Fields: []string{"price", "title"}},
			workflows.PropertyUpdate{PropertyID: "p-2", Fields: []string{"title"}})},
	{file: "ResilientDataSync-completed.json", workflow: "ResilientDataSync",
		input: workflows.DataSyncInput{DatasetID: "ds-1", Records: 50, BatchSize: 25}},
	{file: "ResilientDataSync-retried.json", workflow: "ResilientDataSync",
		input: workflows.DataSyncInput{DatasetID: services.FlakyDataset, Records: 20, BatchSize: 10}},
	{file: "ResilientDataSync-invalid.json", workflow: "ResilientDataSync",
		input: workflows.DataSyncInput{DatasetID: services.InvalidDataset}},
	{file: "LongRunningProcessing-continued.json", workflow: "LongRunningProcessing",
		input: workflows.LongRunningInput{BatchSize: 5, MaxPerRun: 10}},
}

func TestReplayCommittedHistories(t *testing.T) {
	files := committedHistories(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workflows.RegisterWorkflows(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(replayLogger(), f); err != nil {
				t.Fatalf("%s no longer replays: the change is not deterministic; put it behind "+
					"workflow.GetVersion (see docs/workflows.md): %v", f, err)
			}
		})
	}
}

// TestReplayCatchesNonDeterminism proves the replay test has teeth: a
// booking that reserves before it charges must not replay the committed
// booking histories.
func TestReplayCatchesNonDeterminism(t *testing.T) {
	reordered := func(ctx workflow.Context, in workflows.BookingInput) (workflows.BookingResult, error) {
		var a *workflows.Activities
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Second})
		var id string
		err := workflow.ExecuteActivity(ctx, a.ReserveProperty, workflows.ReserveRequest{
			IdempotencyKey: "k", PropertyID: in.PropertyID, Nights: in.Nights,
		}).Get(ctx, &id)
		return workflows.BookingResult{ReservationID: id}, err
	}
	files, _ := filepath.Glob(filepath.Join(historiesDir, "PropertyBooking-*.json"))
	if len(files) == 0 {
		t.Fatal("no committed PropertyBooking histories")
	}
	for _, f := range files {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(reordered, workflow.RegisterOptions{Name: "PropertyBooking"})
		if err := r.ReplayWorkflowHistoryFromJSONFile(replayLogger(), f); err == nil {
			t.Errorf("%s replayed on a reordered workflow", f)
		}
	}
}

// committedHistories lists the committed histories.
func committedHistories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no histories in %s", historiesDir)
	}
	return files
}

// TestHistoryScenariosRecorded fails while a scenario has no committed
// history, so none can be added without recording it. With
// -record-histories it records the missing ones on a dev server instead.
func TestHistoryScenariosRecorded(t *testing.T) {
	var missing []historyScenario
	for _, s := range historyScenarios {
		if _, err := os.Stat(filepath.Join(historiesDir, s.file)); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, s)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if !*recordHistories {
		for _, s := range missing {
			t.Errorf("scenario %s has no committed history: run "+
				"`go test ./workflows -run TestHistoryScenariosRecorded -record-histories`", s.file)
		}
		return
	}
	c := dial(t, client.Options{})
	queue := taskQueue(t)
	startPool(t, c, queue, workflows.NewActivities())
	for _, s := range missing {
		t.Run(s.file, func(t *testing.T) { recordHistory(t, c, queue, s) })
	}
}

// recordHistory runs s and writes its history. Existing files are never
// touched: committed histories are the record of the code that made them.
func recordHistory(t *testing.T, c client.Client, queue string, s historyScenario) {
	t.Helper()
	h := runScenario(t, c, queue, s)
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(historiesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(historiesDir, s.file)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(data, '\n')); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}

// runScenario runs s to the end of its first run and returns that run's
// history.
func runScenario(t *testing.T, c client.Client, queue string, s historyScenario) *historypb.History {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	id := "history-" + s.file + "-" + time.Now().UTC().Format("20060102T150405.000")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, s.workflow, s.input)
	if err != nil {
		t.Fatal(err)
	}
	if s.drive != nil {
		s.drive(ctx, t, c, id)
	}
	poll.Until(t, 30*time.Second, s.file+" to close", func() bool {
		d, err := c.DescribeWorkflow(ctx, id, run.GetRunID())
		return err == nil && d.RawResponse.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	})
	// A run that continued as new left a successor running; stop it.
	_ = c.TerminateWorkflow(ctx, id, "", "history recorded")
	h := &historypb.History{}
	iter := c.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

func cancelWhenProcessing(ctx context.Context, t *testing.T, c client.Client, id string) {
	t.Helper()
	poll.Until(t, 20*time.Second, "processing to start", func() bool {
		v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
		var s string
		return err == nil && v.Get(&s) == nil && s == "processing"
	})
	if err := c.CancelWorkflow(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
}

// signalWhenProcessing sends each input as a signal once the workflow says
// it is processing.
func signalWhenProcessing(name string, inputs ...any) func(context.Context, *testing.T, client.Client, string) {
	return signalWhenStatus("processing", name, inputs...)
}

// signalWhenSyncing is signalWhenProcessing for PropertyDataSync.
func signalWhenSyncing(name string, inputs ...any) func(context.Context, *testing.T, client.Client, string) {
	return signalWhenStatus("syncing", name, inputs...)
}

// updateItemDelay sends DataProcessing a setItemDelay update and waits for
// its outcome; a rejected one leaves nothing in the history.
func updateItemDelay(ms int) func(context.Context, *testing.T, client.Client, string) {
	return func(ctx context.Context, t *testing.T, c client.Client, id string) {
		t.Helper()
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: workflows.UpdateSetItemDelay, WaitForStage: client.WorkflowUpdateStageCompleted,
			Args: []any{workflows.ItemDelay{ItemDelayMs: ms}},
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if rejected := ms < 0; (err != nil) != rejected {
			t.Fatalf("setItemDelay %d: %v", ms, err)
		}
	}
}

// driveAll runs each drive in turn.
func driveAll(drives ...func(context.Context, *testing.T, client.Client, string)) func(context.Context, *testing.T, client.Client, string) {
	return func(ctx context.Context, t *testing.T, c client.Client, id string) {
		for _, d := range drives {
			d(ctx, t, c, id)
		}
	}
}

func signalWhenStatus(status, name string, inputs ...any) func(context.Context, *testing.T, client.Client, string) {
	return func(ctx context.Context, t *testing.T, c client.Client, id string) {
		t.Helper()
		poll.Until(t, 20*time.Second, "status "+status, func() bool {
			v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
			var s string
			return err == nil && v.Get(&s) == nil && s == status
		})
		for _, in := range inputs {
			if err := c.SignalWorkflow(ctx, id, "", name, in); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func replayLogger() log.Logger { return log.NewStructuredLogger(quietLogger()) }
