package regions_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

func waitStatus(t *testing.T, st *devstack.Stack, id, status string) {
	t.Helper()
	poll.Until(t, time.Minute, id+" to be "+status, func() bool {
		r := call(t, "GET", st.ClientURL+"/v1/workflows/"+id, nil)
		return r.Status == 200 && r.str("status") == status
	})
}

// startProcessing starts a DataProcessing workflow that runs for long.
func startProcessing(t *testing.T, st *devstack.Stack, id string) {
	t.Helper()
	r := call(t, "POST", st.ClientURL+"/v1/workflows", map[string]any{
		"workflowType": "DataProcessing", "workflowId": id, "userLocation": "DE", "dataClassification": "pii",
		"input": map[string]any{"items": 1000, "itemDelayMs": 1000},
	})
	if r.Status != 201 {
		t.Fatalf("start %s: %d %v", id, r.Status, r.Body)
	}
}

func countRecords(t *testing.T, rs regions.Records) int {
	t.Helper()
	n, err := rs.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRecordsStayBoundedUnderSteadyLoad: rounds of starts that complete,
// each followed by a sweep once their retention has passed (an injected
// clock), leave the store at the same size every time: the marker and the
// one workflow still running. A sweep before the retention has passed
// removes nothing.
func TestRecordsStayBoundedUnderSteadyLoad(t *testing.T) {
	needServers(t)
	store := regions.NewMemoryRecords()
	st := startStack(t, devstack.StackOptions{Records: store, RecordKeys: regions.RandomRecordKeys()})
	ctx := context.Background()
	running := uniqueID(t, "running")
	startProcessing(t, st, running)
	t.Cleanup(func() { call(t, "POST", st.ClientURL+"/v1/workflows/"+running+"/cancel", nil) })
	const rounds, perRound = 3, 10
	retention := st.Config.RecordsRetention()
	// Before the first round: the marker and the running workflow. After
	// a sweep: those and eu-west's sweep mark (German bookings live there).
	size := countRecords(t, store)
	if size != 2 {
		t.Fatalf("%d records before the first round, want the marker and the running workflow", size)
	}
	for round := range rounds {
		var ids []string
		for i := range perRound {
			id := uniqueID(t, "booking")
			if r := startGerman(t, st, id); r.Status != 201 {
				t.Fatalf("round %d start %d: %d %v", round, i, r.Status, r.Body)
			}
			ids = append(ids, id)
		}
		for _, id := range ids {
			waitStatus(t, st, id, "COMPLETED")
		}
		full := countRecords(t, store)
		if full != size+perRound {
			t.Fatalf("round %d: %d records before the sweep, want %d", round, full, size+perRound)
		}
		early := st.Manager.Sweep(ctx, regions.SweepOptions{})
		if len(early.Errors) > 0 || early.Removed != 0 || countRecords(t, store) > full+1 {
			t.Fatalf("round %d: a sweep within the retention: %+v, %d records", round, early, countRecords(t, store))
		}
		later := func() time.Time { return time.Now().Add(retention + time.Hour) }
		rep := st.Manager.Sweep(ctx, regions.SweepOptions{Now: later})
		if len(rep.Errors) > 0 || rep.Removed != perRound {
			t.Fatalf("round %d: sweep after the retention: %+v", round, rep)
		}
		after := countRecords(t, store)
		if after != 3 {
			t.Fatalf("round %d: %d records after the sweep, want 3 (the marker, the running workflow, eu-west's sweep mark)", round, after)
		}
		size = after
	}
	if r := call(t, "GET", st.ClientURL+"/v1/workflows/"+running, nil); r.Status != 200 || r.str("status") != "RUNNING" {
		t.Fatalf("the running workflow after the sweeps: %d %v", r.Status, r.Body)
	}
	metrics := metricsText(t, st.ClientURL)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^regiongate_records_stored\{[^}]*\} 3$`),
		regexp.MustCompile(`(?m)^regiongate_records_complete\{[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^regiongate_records_swept_total\{[^}]*what="removed"[^}]*\} (\d+)$`),
	} {
		if !want.MatchString(metrics) {
			t.Errorf("no metric line matches %s", want)
		}
	}
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRecordsStoreDownThroughTheClientAPI: with the records in a real
// Consul agent that is stopped, starts fail closed (503 records-unavailable
// with Retry-After, nothing started anywhere) while describe, query,
// signal and cancel of known workflows keep answering; when the agent is
// back (empty: a dev agent keeps nothing) starts work again without a
// restart, and a retry of an old id goes to the region that has it. Then
// the same with a bbolt store whose writes fail.
func TestRecordsStoreDownThroughTheClientAPI(t *testing.T) {
	needServers(t)
	ctx := context.Background()
	agent, err := devstack.StartConsul(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	store := regions.NewFlakyRecords(regions.NewConsulRecords(consulClient(t, agent.Addr), "regiongate/records/"))
	st := startStack(t, devstack.StackOptions{Records: store, RecordKeys: regions.RandomRecordKeys()})

	booking, processing := uniqueID(t, "booking"), uniqueID(t, "processing")
	r := startGerman(t, st, booking)
	if r.Status != 201 {
		t.Fatalf("start: %d %v", r.Status, r.Body)
	}
	startProcessing(t, st, processing)
	waitStatus(t, st, booking, "COMPLETED")
	// One this gateway has never seen: started in eu-west directly.
	direct := uniqueID(t, "direct")
	if _, err := st.Direct["eu-west"].ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: direct, TaskQueue: r.str("taskQueue")},
		"PropertyBooking", germanBooking(direct)["input"]); err != nil {
		t.Fatal(err)
	}

	agent.Stop()
	storeDownAnswers(t, st, booking, processing, "consul")
	if r := call(t, "GET", st.ClientURL+"/v1/workflows/"+direct, nil); r.Status != 200 || r.str("region") != "eu-west" {
		t.Fatalf("consul down: describe of a workflow the gateway never saw: %d %v", r.Status, r.Body)
	}
	if err := agent.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Back, but empty: new starts work again, by themselves.
	if r := startGerman(t, st, uniqueID(t, "after")); r.Status != 201 {
		t.Fatalf("start once Consul is back: %d %v", r.Status, r.Body)
	}
	// The gateway notices the loss (at its next sweep; here at once) and a
	// retry of the old id still lands where the workflow is.
	if err := st.Manager.CheckRecords(ctx); err != nil || st.Manager.RecordsComplete() {
		t.Fatalf("after the loss: complete %v, %v", st.Manager.RecordsComplete(), err)
	}
	if r := startGerman(t, st, booking); r.Status != 200 || r.str("region") != "eu-west" {
		t.Fatalf("retry of %s after the loss: %d %v", booking, r.Status, r.Body)
	}
	if got := holders(t, st, booking, allRegions...); len(got) != 1 {
		t.Fatalf("%s is in %v", booking, got)
	}

	bolt, err := regions.OpenBoltRecords(filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	store.Use(bolt)
	booking, processing = uniqueID(t, "booking-bolt"), uniqueID(t, "processing-bolt")
	if r := startGerman(t, st, booking); r.Status != 201 {
		t.Fatalf("start on bbolt: %d %v", r.Status, r.Body)
	}
	startProcessing(t, st, processing)
	waitStatus(t, st, booking, "COMPLETED")
	store.SetReadOnly(true)
	storeDownAnswers(t, st, booking, processing, "bbolt")
	store.SetReadOnly(false)
	if r := startGerman(t, st, uniqueID(t, "after-bolt")); r.Status != 201 {
		t.Fatalf("start once bbolt is writable: %d %v", r.Status, r.Body)
	}
}

// storeDownAnswers checks what the client API answers while the records
// store is down: known is a workflow that has completed, other one that is
// still running.
func storeDownAnswers(t *testing.T, st *devstack.Stack, known, other, store string) {
	t.Helper()
	fresh := uniqueID(t, "refused")
	r := startGerman(t, st, fresh)
	if r.Status != 503 || r.RetryAfter == "" || r.str("type") != "https://regiongate.dev/problems/records-unavailable" || r.str("workflowId") != fresh {
		t.Fatalf("%s down: start answered %d %q %v", store, r.Status, r.RetryAfter, r.Body)
	}
	if got := holders(t, st, fresh, allRegions...); len(got) != 0 {
		t.Fatalf("%s down: the refused start is in %v", store, got)
	}
	if r := call(t, "GET", st.ClientURL+"/v1/workflows/"+known, nil); r.Status != 200 || r.str("status") != "COMPLETED" {
		t.Fatalf("%s down: describe: %d %v", store, r.Status, r.Body)
	}
	if r := call(t, "GET", st.ClientURL+"/v1/workflows/"+known+"/queries/getStatus", nil); r.Status != 200 {
		t.Fatalf("%s down: query: %d %v", store, r.Status, r.Body)
	}
	if r := call(t, "POST", st.ClientURL+"/v1/workflows/"+other+"/signals/note", map[string]any{"input": map[string]any{"text": "hi"}}); r.Status != 202 {
		t.Fatalf("%s down: signal: %d %v", store, r.Status, r.Body)
	}
	if r := call(t, "POST", st.ClientURL+"/v1/workflows/"+other+"/cancel", nil); r.Status != 202 {
		t.Fatalf("%s down: cancel: %d %v", store, r.Status, r.Body)
	}
	if r := call(t, "GET", st.ClientURL+"/v1/workflows/no-such-"+fresh, nil); r.Status != 404 {
		t.Fatalf("%s down: describe of an unknown id: %d %v", store, r.Status, r.Body)
	}
}
