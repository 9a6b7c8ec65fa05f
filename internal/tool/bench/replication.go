package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Replication measures namespace failover on replicated pairs, on a stack
// of its own (the replicated dev stack, in-process): RPO, the
// acknowledged writes (signals the gateway answered 202) that the new
// active cluster's history lacks after the failover, and RTO, from the
// kill -9 of the active cluster (forced) or the failover call (planned)
// until a running workflow makes progress in the replica.

// ReplicationOptions tune the measurement; zero values take the defaults.
type ReplicationOptions struct {
	// Runs of each mode (planned, forced); zero means 3.
	Runs int
	// SignalEvery paces the acknowledged writes; zero means 20ms.
	SignalEvery time.Duration
	Progress    io.Writer // nil: discard
}

// ReplicationRun is one failover measured.
type ReplicationRun struct {
	Mode string `json:"mode"`
	// SignalsAcked were answered 202; SignalsLost of them are not in the
	// history the new active cluster has (the RPO in events), the oldest
	// acknowledged LostWindowMs before the kill (the RPO in time).
	SignalsAcked int   `json:"signalsAcked"`
	SignalsLost  int   `json:"signalsLost"`
	LostWindowMs int64 `json:"lostWindowMs"`
	// LagEvents is the report's replication lag before (planned).
	LagEvents int64 `json:"lagEvents"`
	// DetectMs is from the kill until the gateway's health checks mark the
	// region unhealthy (forced), when the failover is called.
	DetectMs       int64 `json:"detectMs"`
	TimeToActiveMs int64 `json:"timeToActiveMs"`
	// RTOMs runs from the kill (forced) or the failover call (planned)
	// until the running workflow has a new event in the new active cluster.
	RTOMs int64 `json:"rtoMs"`
	// ReportFirstProgressMs is the failover report's: from the namespace
	// update to the first new event of a sampled running workflow.
	ReportFirstProgressMs int64 `json:"reportFirstProgressMs"`
	// ResumedMs (forced) is how long after the killed cluster's restart
	// its writes reached the replica again.
	ResumedMs int64 `json:"resumedMs,omitempty"`

	refusedBefore map[int]int
}

const replicatedRegion, replicaRegion = "eu-west", "eu-central"

// Replication starts the replicated stack and measures o.Runs planned and
// o.Runs forced failovers of eu-west to eu-central, each followed by a
// failback.
func Replication(ctx context.Context, o ReplicationOptions) ([]ReplicationRun, error) {
	if o.Runs <= 0 {
		o.Runs = 3
	}
	if o.SignalEvery <= 0 {
		o.SignalEvery = 20 * time.Millisecond
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "regiongate-bench-replication-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(o.Progress, "starting the replicated stack (temporal-replica clusters, eu-west <-> eu-central, us-east <-> us-west)")
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	st, err := devstack.StartStackWith(sctx, dir, devstack.StackOptions{Replication: true,
		Logger: slog.New(slog.NewTextHandler(o.Progress, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	cancel()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var runs []ReplicationRun
	for i := range 2 * o.Runs {
		mode := regions.Planned
		if i%2 == 1 {
			mode = regions.Forced
		}
		r, err := replicationRun(ctx, st, o, mode, i)
		if err != nil {
			return runs, fmt.Errorf("%s run %d: %w", mode, i/2+1, err)
		}
		fmt.Fprintf(o.Progress, "%s: %d acked (%v not acked before the failover, by status), %d lost (window %dms), time to active %dms, RTO %dms (report: first progress %dms)\n",
			mode, r.SignalsAcked, r.refusedBefore, r.SignalsLost, r.LostWindowMs, r.TimeToActiveMs, r.RTOMs, r.ReportFirstProgressMs)
		runs = append(runs, r)
	}
	return runs, nil
}

// replicationRun starts a running workflow that only advances by itself
// (its progress is the RTO's) and one that takes the paced signals (the
// RPO's), fails over, measures, and brings the stack back: the killed
// cluster restarted and everything failed back to eu-west.
func replicationRun(ctx context.Context, st *devstack.Stack, o ReplicationOptions, mode string, n int) (ReplicationRun, error) {
	res := ReplicationRun{Mode: mode}
	runner, target := fmt.Sprintf("repl-runner-%d", n), fmt.Sprintf("repl-target-%d", n)
	for _, id := range []string{runner, target} {
		if err := startProcessing(st.ClientURL, id); err != nil {
			return res, err
		}
	}
	replica, err := namespaceClient(st, replicatedRegion, replicaRegion)
	if err != nil {
		return res, err
	}
	defer replica.Close()
	sig := &signaller{url: st.ClientURL + "/v1/workflows/" + target + "/signals/note"}
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { sig.run(sctx, o.SignalEvery) })
	defer func() { stop(); wg.Wait() }()
	if err := Sleep(ctx, 3*time.Second); err != nil {
		return res, err
	}

	t0 := time.Now()
	if mode == regions.Forced {
		st.Temporal[replicatedRegion].Kill()
		if err := untilUnhealthy(ctx, st.Manager, replicatedRegion); err != nil {
			return res, err
		}
		res.DetectMs = time.Since(t0).Milliseconds()
	}
	base := historyLength(ctx, replica, runner)
	rep, err := failoverCall(st.AdminURL, replicatedRegion, map[string]any{"mode": mode, "observeSeconds": 1})
	if err != nil {
		return res, err
	}
	active := time.Now()
	res.TimeToActiveMs, res.ReportFirstProgressMs = rep.TimeToActiveMs, rep.FirstProgressMs
	if rep.ReplicationLagBefore != nil {
		res.LagEvents = rep.ReplicationLagBefore.Events
	}
	for n := historyLength(ctx, replica, runner); n <= base; n = historyLength(ctx, replica, runner) {
		if time.Since(t0) > 2*time.Minute {
			return res, fmt.Errorf("%s made no progress in %s within two minutes (history %d, was %d)", runner, replicaRegion, n, base)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	res.RTOMs = time.Since(t0).Milliseconds()
	if err := Sleep(ctx, 2*time.Second); err != nil { // writes after the failover land too
		return res, err
	}
	stop()
	wg.Wait()
	present, err := settledSignals(ctx, replica, codec.DataConverter(st.Codecs[replicatedRegion]), target, sig.ackedSince(active))
	if err != nil {
		return res, err
	}
	res.SignalsAcked, res.SignalsLost, res.LostWindowMs = sig.lost(present, t0)
	res.refusedBefore = sig.refusals(t0)
	for _, id := range []string{runner, target} {
		_ = replica.TerminateWorkflow(ctx, id, "", "bench run done")
	}
	restarted := time.Now()
	if err := failBack(ctx, st, mode); err != nil {
		return res, err
	}
	// The next run starts from replication flowing again: after a kill,
	// the survivor reconnects to the returned cluster by itself.
	if err := untilReplicating(ctx, st, replica, fmt.Sprintf("repl-probe-%d", n)); err != nil {
		return res, err
	}
	if mode == regions.Forced {
		res.ResumedMs = time.Since(restarted).Milliseconds()
	}
	return res, nil
}

// untilReplicating starts a workflow in eu-west and waits until
// eu-central has it.
func untilReplicating(ctx context.Context, st *devstack.Stack, replica client.Client, id string) error {
	if err := startProcessing(st.ClientURL, id); err != nil {
		return err
	}
	defer func() { _ = replica.TerminateWorkflow(context.WithoutCancel(ctx), id, "", "probe") }()
	deadline := time.Now().Add(5 * time.Minute)
	for historyLength(ctx, replica, id) < 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("eu-west's writes did not reach eu-central within 5 minutes")
		}
		if err := Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// failBack brings a killed eu-west back as the standby, then fails over to
// it again (planned).
func failBack(ctx context.Context, st *devstack.Stack, mode string) error {
	if mode == regions.Forced {
		if err := st.Temporal[replicatedRegion].Start(ctx); err != nil {
			return err
		}
		deadline := time.Now().Add(time.Minute)
		for s := st.Manager.Snapshot()[replicatedRegion]; s.Breaker != "closed" || s.Unhealthy; s = st.Manager.Snapshot()[replicatedRegion] {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not healthy a minute after its restart", replicatedRegion)
			}
			if err := Sleep(ctx, 200*time.Millisecond); err != nil {
				return err
			}
		}
	}
	var err error
	for range 3 { // a failback is part of the setup, not of what is measured: try again
		if _, err = failoverCall(st.AdminURL, replicatedRegion, map[string]any{"mode": regions.Planned, "to": replicatedRegion, "observeSeconds": 1}); err == nil {
			return nil
		}
		if err := Sleep(ctx, 2*time.Second); err != nil {
			return err
		}
	}
	return fmt.Errorf("failing back: %w", err)
}

// startProcessing starts a long DataProcessing on German resident data.
func startProcessing(gatewayURL, id string) error {
	body := map[string]any{"workflowType": "DataProcessing", "workflowId": id, "userLocation": "DE", "dataClassification": "pii",
		"input": map[string]any{"items": 500, "itemDelayMs": 200}} // one timer per item (workflows caps a run at 500 timers)
	status, data, err := postJSON(gatewayURL+"/v1/workflows", "", body)
	if err == nil && status != 201 {
		err = fmt.Errorf("starting %s: %d %s", id, status, data)
	}
	return err
}

func failoverCall(adminURL, region string, body any) (regions.FailoverReport, error) {
	var rep regions.FailoverReport
	status, data, err := postJSON(adminURL+"/admin/v1/regions/"+region+"/failover", "dev-operator", body)
	switch {
	case err != nil:
		return rep, err
	case status != 200:
		return rep, fmt.Errorf("failover %v: %d %s", body, status, data)
	}
	return rep, json.Unmarshal(data, &rep)
}

var benchHTTP = &http.Client{Timeout: time.Minute}

func postJSON(url, token string, body any) (int, []byte, error) {
	return postJSONCtx(context.Background(), url, token, body)
}

func postJSONCtx(ctx context.Context, url, token string, body any) (int, []byte, error) {
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// namespaceClient reads home's namespace in at's cluster, with home's codec.
func namespaceClient(st *devstack.Stack, home, at string) (client.Client, error) {
	rc, _ := st.Config.Region(home)
	return client.Dial(codec.ClientOptions(client.Options{HostPort: st.Temporal[at].Addr, Namespace: rc.Namespace, Logger: QuietLogger()}, st.Codecs[home]))
}

func historyLength(ctx context.Context, c client.Client, id string) int64 {
	d, err := c.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return -1
	}
	return d.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength()
}

func untilUnhealthy(ctx context.Context, m *regions.Manager, region string) error {
	deadline := time.Now().Add(time.Minute)
	for !m.Snapshot()[region].Unhealthy {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not marked unhealthy within a minute of its kill", region)
		}
		if err := Sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// signalTexts are the note texts in the workflow's history.
// settledSignals reads the signals in id's history once those acknowledged
// by the new active cluster (after) are all in it, or 30 seconds have
// passed. A signal the new active cluster took while the workflow had a
// task in flight in the lost cluster stays buffered, out of the history,
// until that task times out (10 s by default): it is not lost, and must
// not be counted as if it were.
func settledSignals(ctx context.Context, c client.Client, dc converter.DataConverter, id string, after []string) (map[string]bool, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		present, err := signalTexts(ctx, c, dc, id)
		if err != nil || time.Now().After(deadline) {
			return present, err
		}
		if !slices.ContainsFunc(after, func(t string) bool { return !present[t] }) {
			return present, nil
		}
		if err := Sleep(ctx, 500*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

func signalTexts(ctx context.Context, c client.Client, dc converter.DataConverter, id string) (map[string]bool, error) {
	out := map[string]bool{}
	it := c.GetWorkflowHistory(ctx, id, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, err
		}
		for _, p := range e.GetWorkflowExecutionSignaledEventAttributes().GetInput().GetPayloads() {
			var v struct{ Text string }
			if dc.FromPayload(p, &v) == nil {
				out[v.Text] = true
			}
		}
	}
	return out, nil
}
