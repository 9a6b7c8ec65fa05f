package regions

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	replicationpb "go.temporal.io/api/replication/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// A namespace failover moves a replicated region's namespaces to the other
// cluster of its pair, through Temporal's own API (UpdateNamespace with the
// new active cluster). Planned: the active cluster answers; the failover
// waits until the replica has every event of the open workflows, then hands
// over. Forced: the active cluster is gone; the surviving cluster takes
// over with what it has, and events it never received are lost.

// Failover modes.
const (
	Planned = "planned"
	Forced  = "forced"
)

// Errors of Failover, tested with errors.Is.
var (
	// ErrNoReplica: the region names no replica to fail over to.
	ErrNoReplica = errors.New("the region has no replica")
	// ErrNotLawfulReplica: the target is neither the region nor its
	// lawful replica.
	ErrNotLawfulReplica = errors.New("not the region's lawful replica")
	// ErrAlreadyActive: the namespaces are active in the target already.
	ErrAlreadyActive = errors.New("already active there")
	// ErrNotCaughtUp: planned, and the replica did not catch up in time;
	// nothing changed.
	ErrNotCaughtUp = errors.New("the replica has not caught up")
	// ErrFailoverInProgress: another failover of this gateway is running.
	ErrFailoverInProgress = errors.New("a failover is already in progress")
	// ErrActiveUnreachable: planned, and the active cluster cannot be
	// asked; a forced failover is what is left.
	ErrActiveUnreachable = errors.New("the active cluster cannot be reached")
)

// FailoverOptions say how to fail over; zero values take the defaults.
type FailoverOptions struct {
	// Mode is Planned or Forced.
	Mode string
	// To is the region to make active; "" means the other region of the
	// pair (the replica, or the region itself to fail back).
	To string
	// CatchUp bounds a planned failover's wait for the replica; zero 10s.
	CatchUp time.Duration
	// Observe bounds the watch for open workflows continuing in the new
	// active cluster; zero 10s.
	Observe time.Duration
	// Sample caps the open workflows compared and watched; zero 100.
	Sample int
}

// FailoverReport says what a failover did and what it cost.
type FailoverReport struct {
	Region     string    `json:"region"`
	Mode       string    `json:"mode"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Namespaces []string  `json:"namespaces"`
	Started    time.Time `json:"started"`
	// ReplicationLagBefore is how far behind the new active cluster was
	// when the failover was asked for; nil when the old active cluster
	// could not be asked (forced, cluster gone).
	ReplicationLagBefore *Lag `json:"replicationLagBefore"`
	// CaughtUpMs: planned, the wait until the replica had every event.
	CaughtUpMs int64 `json:"caughtUpMs"`
	// TimeToActive runs from the namespace update until the new active
	// cluster takes writes for every namespace.
	TimeToActive   string `json:"timeToActive"`
	TimeToActiveMs int64  `json:"timeToActiveMs"`
	// WorkflowsOpen were running (of the sample) when it switched;
	// WorkflowsContinued of them made progress (a new event, or closed) in
	// the new active cluster within ObservedMs; FirstProgressMs is from the
	// namespace update to the first such event.
	WorkflowsOpen      int      `json:"workflowsOpen"`
	WorkflowsContinued int      `json:"workflowsContinued"`
	FirstProgressMs    int64    `json:"firstProgressMs,omitempty"`
	ObservedMs         int64    `json:"observedMs"`
	Notes              []string `json:"notes,omitempty"`
}

// Lag is how far one cluster's copy of the open workflows is behind the
// other's.
type Lag struct {
	// Events the new active cluster lacks, summed over the sample.
	Events int64 `json:"events"`
	// Behind is how many sampled workflows lack events; Missing how many
	// it does not have at all (their start not replicated yet).
	Behind  int `json:"behind"`
	Missing int `json:"missing"`
	Sampled int `json:"sampled"`
}

// Failover makes the namespaces of region (its own and every isolated
// tenant's) active in the other cluster of its pair and reports on it.
func (m *Manager) Failover(ctx context.Context, region string, o FailoverOptions) (FailoverReport, error) {
	rep := FailoverReport{Region: region, Mode: o.Mode, Started: time.Now().UTC()}
	if !m.repl.failover.TryLock() {
		return rep, ErrFailoverInProgress
	}
	defer m.repl.failover.Unlock()
	rc, from, to, err := m.failoverPair(ctx, region, &o)
	if err != nil {
		return rep, err
	}
	rep.From, rep.To, rep.Namespaces = from.Name(), to.Name(), router.Namespaces(m.config(), rc)
	sample, err := m.sampleOpen(ctx, rep.Namespaces, from, to, o.Sample)
	if err != nil && o.Mode == Planned {
		return rep, fmt.Errorf("%w: a planned failover waits for %s to hand over (use forced if it is gone): %w", ErrActiveUnreachable, from.Name(), err)
	}
	if err == nil {
		lag := m.lag(ctx, sample, from, to)
		rep.ReplicationLagBefore = &lag
	} else {
		rep.Notes = append(rep.Notes, "replication lag unknown: the active cluster could not be asked: "+err.Error())
	}
	if o.Mode == Planned {
		began := time.Now()
		if lag, caught := m.catchUp(ctx, sample, from, to, o.CatchUp); !caught {
			return rep, fmt.Errorf("%w after %s: %d events behind in %d workflows; nothing changed", ErrNotCaughtUp, o.CatchUp, lag.Events, lag.Behind+lag.Missing)
		}
		rep.CaughtUpMs = time.Since(began).Milliseconds()
	}
	via := from
	if o.Mode == Forced {
		via = to
	}
	switched := time.Now()
	if err := m.switchActive(ctx, via, to, rep.Namespaces); err != nil {
		return rep, err
	}
	if err := m.untilActive(ctx, to, rep.Namespaces); err != nil {
		return rep, err
	}
	active := time.Since(switched)
	rep.TimeToActive, rep.TimeToActiveMs = active.Round(time.Millisecond).String(), active.Milliseconds()
	m.watchContinue(ctx, &rep, sample, to, switched, o.Observe)
	return rep, nil
}

// failoverPair checks the request and works out where the namespaces are
// active now (from) and where they go (to), filling o's defaults.
func (m *Manager) failoverPair(ctx context.Context, region string, o *FailoverOptions) (rc configs.Region, from, to *Region, err error) {
	if o.Mode != Planned && o.Mode != Forced {
		return rc, nil, nil, fmt.Errorf("mode must be %q or %q, got %q", Planned, Forced, o.Mode)
	}
	o.CatchUp = defaultDuration(o.CatchUp, 10*time.Second)
	o.Observe = defaultDuration(o.Observe, 10*time.Second)
	if o.Sample <= 0 {
		o.Sample = 100
	}
	cfg := m.config()
	rc, _ = cfg.Region(region)
	if err := CheckFailover(cfg, region, o.To); err != nil {
		return rc, nil, nil, err
	}
	home, replica, _ := m.Pair(rc.Namespace)
	m.repl.active.Delete(rc.Namespace) // ask, do not trust what was learnt
	if from, err = m.ActiveRegion(ctx, rc.Namespace, replica, home); err != nil {
		return rc, nil, nil, err
	}
	to = home
	if from == home {
		to = replica
	}
	if o.To != "" && o.To == from.Name() {
		return rc, nil, nil, fmt.Errorf("%w: %s's namespaces are active in %s", ErrAlreadyActive, region, from.Name())
	}
	return rc, from, to, nil
}

// CheckFailover says, from the config alone, whether region's namespaces
// may be failed over to (a region, or "" for the other of the pair): the
// region has a replica, and to is the region or that lawful replica.
func CheckFailover(cfg *configs.Config, region, to string) error {
	rc, ok := cfg.Region(region)
	switch {
	case !ok:
		return fmt.Errorf("%w %q", ErrUnknownRegion, region)
	case rc.Replica == "":
		return fmt.Errorf("%w: %s names no replica in the config", ErrNoReplica, region)
	case to != "" && to != rc.Name && to != rc.Replica:
		return fmt.Errorf("%w: %s's namespaces may only be active in %s or its replica %s, not in %s", ErrNotLawfulReplica, region, region, rc.Replica, to)
	}
	if gaps := cfg.ReplicaGaps(rc); len(gaps) > 0 { // validation refuses such a config; never act on one
		return fmt.Errorf("%w: %s may not hold %v", ErrNotLawfulReplica, rc.Replica, gaps)
	}
	return nil
}

func defaultDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// switchTimeout bounds one namespace update.
const switchTimeout = 20 * time.Second

// switchActive asks via's cluster to make every namespace active in to's.
func (m *Manager) switchActive(ctx context.Context, via, to *Region, namespaces []string) error {
	cluster, err := m.clusterName(ctx, to)
	if err != nil {
		return fmt.Errorf("asking %s its cluster name: %w", to.Name(), err)
	}
	for _, ns := range namespaces {
		// Not the region's call timeout: a namespace update waits for the
		// cluster's metadata store, which a busy cluster (one that has
		// just lost its peer, say) can hold longer than a start.
		uctx, cancel := context.WithTimeout(ctx, switchTimeout)
		_, err := via.client.WorkflowService().UpdateNamespace(uctx, &workflowservice.UpdateNamespaceRequest{
			Namespace: ns, ReplicationConfig: &replicationpb.NamespaceReplicationConfig{ActiveClusterName: cluster},
		})
		cancel()
		if err != nil {
			return fmt.Errorf("making %s active in %s (through %s): %w", ns, to.Name(), via.Name(), err)
		}
	}
	return nil
}

// untilActive waits until to's cluster takes writes for every namespace:
// a signal to a workflow that does not exist is refused as not active
// while it does not, and answered not found once it does.
func (m *Manager) untilActive(ctx context.Context, to *Region, namespaces []string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, ns := range namespaces {
		c, err := m.clientIn(ctx, to, ns)
		if err != nil {
			return err
		}
		for {
			err := c.SignalWorkflow(ctx, "regiongate-failover-probe", "", "probe", nil)
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) || err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s never took writes for %s: %w", to.Name(), ns, err)
			case <-time.After(50 * time.Millisecond): // polling interval
			}
		}
		m.learnActive(ns, to, activeTTL)
	}
	return nil
}

// openWorkflow is one sampled open workflow.
type openWorkflow struct{ namespace, id string }

// sampleOpen lists up to max running workflows of the namespaces, from
// the active cluster, or, if it cannot be asked, from the other one (its
// visibility has what was replicated); the error says the active one
// could not be asked.
func (m *Manager) sampleOpen(ctx context.Context, namespaces []string, from, to *Region, max int) ([]openWorkflow, error) {
	out, err := m.listOpen(ctx, namespaces, from, max)
	if err == nil {
		return out, nil
	}
	out, _ = m.listOpen(ctx, namespaces, to, max)
	return out, err
}

func (m *Manager) listOpen(ctx context.Context, namespaces []string, r *Region, max int) ([]openWorkflow, error) {
	var out []openWorkflow
	for _, ns := range namespaces {
		c, err := m.clientIn(ctx, r, ns)
		if err != nil {
			return nil, err
		}
		err = r.call(ctx, true, func(ctx context.Context) error {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: ns, PageSize: int32(max), Query: "ExecutionStatus = 'Running'",
			})
			for _, e := range resp.GetExecutions() {
				if len(out) < max {
					out = append(out, openWorkflow{namespace: ns, id: e.GetExecution().GetWorkflowId()})
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// historyLength is the workflow's history length in r, -1 when r does
// not have it, and whether it is still running.
func (m *Manager) historyLength(ctx context.Context, r *Region, w openWorkflow) (int64, bool, error) {
	c, err := m.clientIn(ctx, r, w.namespace)
	if err != nil {
		return 0, false, err
	}
	var n int64
	var running bool
	err = r.call(ctx, true, func(ctx context.Context) error {
		resp, err := c.DescribeWorkflow(ctx, w.id, "")
		if err != nil {
			return err
		}
		info := resp.RawResponse.GetWorkflowExecutionInfo()
		n, running = info.GetHistoryLength(), info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		return err
	})
	if isNotFound(err) {
		return -1, false, nil
	}
	return n, running, err
}
