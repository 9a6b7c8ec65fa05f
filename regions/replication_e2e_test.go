package regions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Tests on replicated clusters (temporal-replica): eu-west and eu-central
// replicate each other's namespaces, us-east and us-west theirs, as make
// dev REPLICATION=1 runs them.

func operator(t *testing.T, st *devstack.Stack, path string, body any) reply {
	t.Helper()
	return call(t, "POST", st.AdminURL+path, body, "Authorization", "Bearer dev-operator")
}

// germanProcessing is a DataProcessing run on resident German data.
func germanProcessing(id string, items, delayMs int) map[string]any {
	return map[string]any{
		"workflowType": "DataProcessing", "workflowId": id, "userLocation": "DE", "dataClassification": "pii",
		"input": map[string]any{"items": items, "itemDelayMs": delayMs},
	}
}

// progress reads DataProcessing's getProgress through the gateway.
func progress(t *testing.T, st *devstack.Stack, id string) float64 {
	t.Helper()
	p, r := tryProgress(t, st, id)
	if r.Status != 200 {
		t.Fatalf("query getProgress of %s: %d %v", id, r.Status, r.Body)
	}
	return p
}

// underWay waits until id's worker has answered a query with some
// progress. Until its first workflow task is done a query may time out
// (502): that is waited through, not a failure.
func underWay(t *testing.T, st *devstack.Stack, id string) {
	t.Helper()
	poll.Until(t, 30*time.Second, id+" under way", func() bool {
		p, r := tryProgress(t, st, id)
		return r.Status == 200 && p > 0
	})
}

// tryProgress queries id's progress through the gateway.
func tryProgress(t *testing.T, st *devstack.Stack, id string) (float64, reply) {
	t.Helper()
	r := call(t, "GET", st.ClientURL+"/v1/workflows/"+id+"/queries/getProgress", nil)
	p, _ := r.Body["result"].(float64)
	return p, r
}

// describe reads a workflow through the gateway.
func describe(t *testing.T, st *devstack.Stack, id string) reply {
	t.Helper()
	return call(t, "GET", st.ClientURL+"/v1/workflows/"+id, nil)
}

// untilStatus waits until the gateway describes the workflow with status
// in region.
func untilStatus(t *testing.T, st *devstack.Stack, id, status, region string, within time.Duration) {
	t.Helper()
	var last reply
	defer func() {
		if t.Failed() {
			t.Logf("last description of %s: %d %v", id, last.Status, last.Body)
		}
	}()
	poll.Until(t, within, id+" "+status+" in "+region, func() bool {
		last = describe(t, st, id)
		return last.str("status") == status && last.str("region") == region
	})
}

// replicaClient reads a region's namespace in another region's cluster
// directly, with the home region's codec.
func replicaClient(t *testing.T, st *devstack.Stack, home, at string) client.Client {
	t.Helper()
	rc, _ := st.Config.Region(home)
	c, err := client.Dial(codec.ClientOptions(client.Options{HostPort: st.Temporal[at].Addr, Namespace: rc.Namespace, Logger: quietLogger()}, st.Codecs[home]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// untilReplicated waits until the workflow's history in the replica is as
// long as in its home cluster.
func untilReplicated(t *testing.T, home, replica client.Client, id string) {
	t.Helper()
	poll.Until(t, 30*time.Second, id+" replicated", func() bool {
		a, errA := home.DescribeWorkflow(context.Background(), id, "")
		b, errB := replica.DescribeWorkflow(context.Background(), id, "")
		return errA == nil && errB == nil &&
			a.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength() == b.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength()
	})
}

func locatedIn(t *testing.T, st *devstack.Stack, id string) string {
	t.Helper()
	loc, err := st.Manager.Locate(context.Background(), id, nil)
	if err != nil {
		t.Fatalf("locating %s: %v", id, err)
	}
	return loc.Region.Name()
}

// TestReplicatedPairs: on replicated clusters, a planned failover of
// eu-west hands its running workflows (a PropertyBooking waiting for a
// worker, a DataProcessing half done) to eu-central, where they continue
// and complete; the gateway keeps describe, query and signal working
// throughout, and moves their routing records. Targets that are not the
// lawful replica are refused. A failover drill of us-east fails over and
// back by itself.
func TestReplicatedPairs(t *testing.T) {
	needServers(t)
	st := startStack(t, devstack.StackOptions{Replication: true, Logger: testLogger(t)})
	t.Run("planned failover", func(t *testing.T) { plannedFailover(t, st) })
	t.Run("refusals", func(t *testing.T) { failoverRefusals(t, st) })
	t.Run("failover drill", func(t *testing.T) { failoverDrill(t, st) })
}

func plannedFailover(t *testing.T, st *devstack.Stack) {
	proc, book := flatID(t, "processing"), flatID(t, "booking")
	if r := call(t, "POST", st.ClientURL+"/v1/workflows", germanProcessing(proc, 15, 200)); r.Status != 201 || r.str("region") != "eu-west" {
		t.Fatalf("start: %d %v", r.Status, r.Body)
	}
	underWay(t, st, proc)
	// Without eu-west's worker the booking stays running, its first task
	// unanswered, and the processing stops where it is (and cannot answer
	// queries).
	before := progress(t, st, proc)
	st.StopWorker("eu-west")
	if r := startGerman(t, st, book); r.Status != 201 || r.str("region") != "eu-west" {
		t.Fatalf("booking: %d %v", r.Status, r.Body)
	}

	r := operator(t, st, "/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned"})
	if r.Status != 200 {
		t.Fatalf("planned failover: %d %v", r.Status, r.Body)
	}
	t.Logf("planned failover report: %v", r.Body)
	if r.str("from") != "eu-west" || r.str("to") != "eu-central" || r.Body["replicationLagBefore"] == nil {
		t.Errorf("report: %v", r.Body)
	}
	// The sample comes from visibility, which may not list the booking
	// started a moment before; whatever it lists must continue.
	if open, cont := r.Body["workflowsOpen"].(float64), r.Body["workflowsContinued"].(float64); open < 1 || cont != open {
		t.Errorf("workflows open %v, continued %v: want every running workflow to continue in eu-central", open, cont)
	}

	untilStatus(t, st, book, "COMPLETED", "eu-central", 30*time.Second)
	if s := signalNote(t, st, proc, "after the failover"); s.Status != 202 {
		t.Fatalf("signal after the failover: %d %v", s.Status, s.Body)
	}
	if p := progress(t, st, proc); p < before {
		t.Errorf("progress went back from %v to %v", before, p)
	}
	defer func() {
		if t.Failed() {
			dumpHistory(t, replicaClient(t, st, "eu-west", "eu-central"), proc)
		}
	}()
	untilStatus(t, st, proc, "COMPLETED", "eu-central", time.Minute)
	notes := call(t, "GET", st.ClientURL+"/v1/workflows/"+proc+"/queries/getNotes", nil)
	if b, _ := json.Marshal(notes.Body["result"]); !strings.Contains(string(b), "after the failover") {
		t.Errorf("getNotes = %s", b)
	}
	if got := locatedIn(t, st, proc); got != "eu-central" {
		t.Errorf("routing record of %s names %s, want eu-central", proc, got)
	}

	// Back home, with eu-west's worker: new work and old ids follow.
	if err := st.StartWorker(context.Background(), "eu-west"); err != nil {
		t.Fatal(err)
	}
	r = operator(t, st, "/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned", "to": "eu-west"})
	if r.Status != 200 || r.str("to") != "eu-west" {
		t.Fatalf("fail back: %d %v", r.Status, r.Body)
	}
	untilStatus(t, st, proc, "COMPLETED", "eu-west", 30*time.Second)
	next := flatID(t, "after")
	if r := startGerman(t, st, next); r.Status != 201 || r.str("region") != "eu-west" {
		t.Fatalf("start after failing back: %d %v", r.Status, r.Body)
	}
	untilStatus(t, st, next, "COMPLETED", "eu-west", 30*time.Second)
	audit := call(t, "GET", st.AdminURL+"/admin/v1/audit", nil, "Authorization", "Bearer dev-viewer")
	if b, _ := json.Marshal(audit.Body["entries"]); strings.Count(string(b), `"action":"region.failover"`) < 2 {
		t.Errorf("audit log lacks the failovers: %s", b)
	}
}

// testLogger writes the gateway's warnings into the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// flatID is a unique workflow id without the subtest's slash.
func flatID(t *testing.T, suffix string) string {
	return strings.ReplaceAll(uniqueID(t, suffix), "/", "-")
}

func signalNote(t *testing.T, st *devstack.Stack, id, text string) reply {
	t.Helper()
	return call(t, "POST", st.ClientURL+"/v1/workflows/"+id+"/signals/note", map[string]any{"input": map[string]any{"text": text}})
}

func failoverRefusals(t *testing.T, st *devstack.Stack) {
	tests := []struct {
		path string
		body map[string]any
		want int
		typ  string
	}{
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned", "to": "us-east"}, 422, "not-a-lawful-replica"},
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned", "to": "eu-west"}, 409, "failover-refused"},
		{"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "sideways"}, 400, "bad-request"},
		{"/admin/v1/regions/mars/failover", map[string]any{"mode": "planned"}, 404, "region-not-found"},
	}
	for _, tt := range tests {
		r := operator(t, st, tt.path, tt.body)
		if r.Status != tt.want || !strings.HasSuffix(r.str("type"), "/"+tt.typ) {
			t.Errorf("POST %s %v: %d %v, want %d %s", tt.path, tt.body, r.Status, r.Body, tt.want, tt.typ)
		}
	}
	if r := call(t, "POST", st.AdminURL+"/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned"}, "Authorization", "Bearer dev-viewer"); r.Status != 403 {
		t.Errorf("a viewer's failover: %d %v", r.Status, r.Body)
	}
}

func failoverDrill(t *testing.T, st *devstack.Stack) {
	r := operator(t, st, "/admin/v1/drills", map[string]any{"region": "us-east", "durationSeconds": 3, "mode": "failover"})
	if r.Status != 201 {
		t.Fatalf("failover drill: %d %v", r.Status, r.Body)
	}
	rep, _ := r.Body["failover"].(map[string]any)
	if rep["from"] != "us-east" || rep["to"] != "us-west" {
		t.Fatalf("drill's failover report: %v", r.Body)
	}
	if v := adminRegion(t, st, "us-east"); v.State != "active" {
		t.Errorf("a failover drill leaves us-east in rotation, got %s", v.State)
	}
	poll.Until(t, 30*time.Second, "us-east's namespaces back in us-east", func() bool {
		active, err := devstack.ActiveCluster(context.Background(), st.Temporal["us-east"], "dev-us-east")
		return err == nil && active == "us-east"
	})
	poll.Until(t, 30*time.Second, "the drill's end in the audit log", func() bool {
		audit := call(t, "GET", st.AdminURL+"/admin/v1/audit", nil, "Authorization", "Bearer dev-viewer")
		b, _ := json.Marshal(audit.Body["entries"])
		return strings.Contains(string(b), `"action":"drill.end"`)
	})
}

func dumpHistory(t *testing.T, c client.Client, id string) {
	it := c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	var lines []string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Logf("history: %v", err)
			break
		}
		lines = append(lines, fmt.Sprintf("%d %s v%d %s", e.GetEventId(), e.GetEventTime().AsTime().Format("15:04:05.000"), e.GetVersion(), e.GetEventType()))
	}
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	t.Logf("history of %s (last %d):\n%s", id, len(lines), strings.Join(lines, "\n"))
}

// TestForcedFailoverAfterKill: eu-west's cluster is killed (kill -9) while
// a PropertyBooking and a DataProcessing run there. Until an operator
// fails over, lookups answer 503 (nothing is guessed) and a planned
// failover is refused; a forced failover makes eu-central active, where
// both workflows continue and complete, with describe, query and signal
// through the gateway. The killed cluster comes back as the standby and
// the region fails back.
func TestForcedFailoverAfterKill(t *testing.T) {
	needServers(t)
	st := startStack(t, devstack.StackOptions{Replication: true, Logger: testLogger(t),
		Health: regions.HealthOptions{Interval: 200 * time.Millisecond}})
	proc, book := flatID(t, "processing"), flatID(t, "booking")
	if r := call(t, "POST", st.ClientURL+"/v1/workflows", germanProcessing(proc, 15, 200)); r.Status != 201 || r.str("region") != "eu-west" {
		t.Fatalf("start: %d %v", r.Status, r.Body)
	}
	underWay(t, st, proc)
	st.StopWorker("eu-west")
	if r := startGerman(t, st, book); r.Status != 201 || r.str("region") != "eu-west" {
		t.Fatalf("booking: %d %v", r.Status, r.Body)
	}
	home, replica := replicaClient(t, st, "eu-west", "eu-west"), replicaClient(t, st, "eu-west", "eu-central")
	untilReplicated(t, home, replica, proc)
	untilReplicated(t, home, replica, book)

	st.Temporal["eu-west"].Kill()
	// Once a health check has seen it gone (every 200ms here). Before
	// that, on a loaded machine, a describe can spend its whole call
	// timeout redialling and answer 502 instead: not what this asserts.
	poll.Until(t, 30*time.Second, "eu-west seen unreachable", func() bool {
		r, _ := st.Manager.Region("eu-west")
		return !r.Reachable()
	})
	if r := describe(t, st, proc); r.Status != 503 || !strings.HasSuffix(r.str("type"), "/region-unreachable") {
		t.Errorf("describe before the failover: %d %v, want 503 region-unreachable", r.Status, r.Body)
	}
	if r := operator(t, st, "/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned"}); r.Status != 409 {
		t.Errorf("planned failover of a dead cluster: %d %v, want 409", r.Status, r.Body)
	}
	r := operator(t, st, "/admin/v1/regions/eu-west/failover", map[string]any{"mode": "forced"})
	if r.Status != 200 || r.str("to") != "eu-central" || r.Body["replicationLagBefore"] != nil {
		t.Fatalf("forced failover: %d %v", r.Status, r.Body)
	}
	t.Logf("forced failover report: %v", r.Body)

	untilStatus(t, st, book, "COMPLETED", "eu-central", 30*time.Second)
	if s := signalNote(t, st, proc, "after the forced failover"); s.Status != 202 {
		t.Fatalf("signal: %d %v", s.Status, s.Body)
	}
	untilStatus(t, st, proc, "COMPLETED", "eu-central", time.Minute)
	notes := call(t, "GET", st.ClientURL+"/v1/workflows/"+proc+"/queries/getNotes", nil)
	if b, _ := json.Marshal(notes.Body["result"]); !strings.Contains(string(b), "after the forced failover") {
		t.Errorf("getNotes = %s", b)
	}
	// New resident work goes to the next lawful region meanwhile.
	if r := startGerman(t, st, flatID(t, "new")); r.Status != 201 || r.str("region") != "eu-central" {
		t.Errorf("a new German start with eu-west down: %d %v", r.Status, r.Body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.Temporal["eu-west"].Start(ctx); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "eu-west back as the standby", func() bool {
		active, err := devstack.ActiveCluster(ctx, st.Temporal["eu-west"], "dev-eu-west")
		return err == nil && active == "eu-central"
	})
	if err := st.StartWorker(ctx, "eu-west"); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "eu-west healthy", func() bool { return adminRegion(t, st, "eu-west").Healthy })
	if r := operator(t, st, "/admin/v1/regions/eu-west/failover", map[string]any{"mode": "planned", "to": "eu-west"}); r.Status != 200 {
		t.Fatalf("fail back: %d %v", r.Status, r.Body)
	}
	untilStatus(t, st, proc, "COMPLETED", "eu-west", 30*time.Second)
}
