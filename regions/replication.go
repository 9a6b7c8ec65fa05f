package regions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// Replication: a region with a replica (configs.Region.Replica) has its
// namespaces registered as Temporal global namespaces in both clusters,
// active in one of them at a time. A namespace failover makes the replica's
// cluster the active one; the old one answers writes with
// NamespaceNotActive (or, killed, nothing at all). The gateway follows: a
// call refused as NamespaceNotActive, or one that provably reached
// nothing, is sent again to the cluster the namespace is active in, found
// by asking the clusters of the namespace's pair, and the routing record
// is moved (compare-and-set) to say where the workflow runs now. Only the
// namespace's home region and its replica are ever asked or used:
// validation made the replica lawful for everything the home may hold.

// activeTTL is how long the gateway trusts what it learnt of a
// namespace's active cluster before asking again.
const activeTTL = 2 * time.Second

// replication is the Manager's knowledge of replicated namespaces.
type replication struct {
	cfg atomic.Pointer[configs.Config] // the config in force
	// pairs maps every replicated namespace to its home region and that
	// region's replica, from the config in force (Apply).
	pairs    atomic.Pointer[map[string][2]string]
	clusters sync.Map   // *Region -> string: its Temporal cluster name
	active   sync.Map   // namespace -> activeEntry
	failover sync.Mutex // one namespace failover at a time (nsfailover.go)
}

// apply works out the replicated namespaces of cfg.
func (r *replication) apply(cfg *configs.Config) {
	pairs := map[string][2]string{}
	for _, rc := range cfg.Regions {
		if rc.Replica == "" {
			continue
		}
		for _, ns := range router.Namespaces(cfg, rc) {
			pairs[ns] = [2]string{rc.Name, rc.Replica}
		}
	}
	r.pairs.Store(&pairs)
	r.cfg.Store(cfg)
}

// config is the config last applied.
func (m *Manager) config() *configs.Config { return m.repl.cfg.Load() }

type activeEntry struct {
	region string
	until  time.Time
}

// Pair returns the regions that may hold namespace ns: the region whose
// namespace it is (its own or an isolated tenant's) and that region's
// replica. ok is false when the namespace is not replicated.
func (m *Manager) Pair(ns string) (home, replica *Region, ok bool) {
	pairs := m.repl.pairs.Load()
	if pairs == nil {
		return nil, nil, false
	}
	p, found := (*pairs)[ns]
	if !found {
		return nil, nil, false
	}
	h, okH := m.Region(p[0])
	r, okR := m.Region(p[1])
	return h, r, okH && okR
}

// clusterName is r's Temporal cluster name, asked once.
func (m *Manager) clusterName(ctx context.Context, r *Region) (string, error) {
	if v, ok := m.repl.clusters.Load(r); ok {
		return v.(string), nil
	}
	var name string
	err := r.call(ctx, true, func(ctx context.Context) error {
		resp, err := r.client.WorkflowService().GetClusterInfo(ctx, &workflowservice.GetClusterInfoRequest{})
		name = resp.GetClusterName()
		return err
	})
	if err != nil {
		return "", err
	}
	m.repl.clusters.Store(r, name)
	return name, nil
}

// ActiveRegion returns the region whose cluster namespace ns is active in:
// what WatchActive or a follow learnt lately, else by asking the clusters
// of its pair, those in ask first.
func (m *Manager) ActiveRegion(ctx context.Context, ns string, ask ...*Region) (*Region, error) {
	home, rep, ok := m.Pair(ns)
	if !ok {
		return nil, fmt.Errorf("namespace %s is not replicated", ns)
	}
	if v, ok := m.repl.active.Load(ns); ok && time.Now().Before(v.(activeEntry).until) {
		if r, ok := m.Region(v.(activeEntry).region); ok && (r == home || r == rep) {
			return r, nil
		}
	}
	return m.askActive(ctx, ns, home, rep, activeTTL, ask...)
}

// askActive asks the clusters of ns's pair, those in ask first, until one
// says where ns is active, and remembers the answer for ttl.
func (m *Manager) askActive(ctx context.Context, ns string, home, rep *Region, ttl time.Duration, ask ...*Region) (*Region, error) {
	var errs []error
	for _, at := range append(ask, rep, home) {
		cluster, err := m.describeActive(ctx, at, ns)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		active, err := m.regionOfCluster(ctx, cluster, home, rep)
		if err != nil {
			return nil, err
		}
		m.learnActive(ns, active, ttl)
		return active, nil
	}
	return nil, fmt.Errorf("asking where namespace %s is active: %w", ns, errors.Join(errs...))
}

// learnActive remembers, for ttl, that ns is active in r.
func (m *Manager) learnActive(ns string, r *Region, ttl time.Duration) {
	m.repl.active.Store(ns, activeEntry{region: r.Name(), until: time.Now().Add(ttl)})
}

// WatchActive asks, every interval until ctx ends, where every replicated
// namespace is active: a failover made through another gateway replica,
// or with Temporal's own tools, is followed within an interval, and
// lookups go straight to the active cluster (preferActive) instead of
// reading a standby's copy.
func (m *Manager) WatchActive(ctx context.Context, interval time.Duration) {
	for {
		if pairs := m.repl.pairs.Load(); pairs != nil {
			for ns := range *pairs {
				if home, rep, ok := m.Pair(ns); ok {
					_, _ = m.askActive(ctx, ns, home, rep, 3*interval, home)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// describeActive asks r's cluster which cluster ns is active in.
func (m *Manager) describeActive(ctx context.Context, r *Region, ns string) (string, error) {
	var cluster string
	err := r.call(ctx, true, func(ctx context.Context) error {
		resp, err := r.client.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		cluster = resp.GetReplicationConfig().GetActiveClusterName()
		return err
	})
	return cluster, err
}

// regionOfCluster maps a cluster name to the region of the pair that
// runs it. One cluster's name is enough: the other one is the other
// region's (a dead region cannot be asked its name).
func (m *Manager) regionOfCluster(ctx context.Context, cluster string, home, rep *Region) (*Region, error) {
	for _, pair := range [][2]*Region{{home, rep}, {rep, home}} {
		name, err := m.clusterName(ctx, pair[0])
		switch {
		case err != nil:
			continue
		case name == cluster:
			return pair[0], nil
		default:
			return pair[1], nil
		}
	}
	return nil, fmt.Errorf("neither %s nor %s can say its cluster name", home.Name(), rep.Name())
}

// clientIn returns r's client for namespace ns. A namespace of another
// region, replicated here, shares r's connection (r's TLS and credentials)
// but keeps its home region's payload codec: its payloads were written
// there with that region's keys.
func (m *Manager) clientIn(ctx context.Context, r *Region, ns string) (client.Client, error) {
	home, _, ok := m.Pair(ns)
	if !ok || home == r {
		return r.clientFor(ctx, ns)
	}
	return r.namespaceClient(ctx, ns, home)
}

// IsNotActive reports whether err is a cluster's refusal of a namespace
// that is active in another cluster. Nothing was done: the call may go to
// the active cluster.
func IsNotActive(err error) bool {
	var na *serviceerror.NamespaceNotActive
	return errors.As(err, &na)
}

// followable reports whether a call that ended with err may be sent to
// another cluster of its namespace: it was refused as not active there, or
// it provably reached nothing. An outcome that is unknown is never
// followed: the call may have taken effect.
func followable(err error) bool {
	return err != nil && (IsNotActive(err) || errors.Is(err, ErrUnavailable))
}

// do runs f against the workflow's cluster and, when that cluster refused
// it as not active or could not be reached, once more against the cluster
// the namespace is active in. l then names where the workflow runs.
func (l *Location) do(ctx context.Context, f func(ctx context.Context, c client.Client) error) error {
	c := l.Client
	err := l.Region.call(ctx, false, func(ctx context.Context) error { return f(ctx, c) })
	if l.m == nil || !followable(err) || l.m.follow(ctx, l) != nil {
		return err
	}
	c = l.Client
	return l.Region.call(ctx, false, func(ctx context.Context) error { return f(ctx, c) })
}

// follow moves l to the region whose cluster its namespace is active in,
// when that is the other region of the namespace's pair, and moves the
// routing record with it (compare-and-set: a record another request has
// changed meanwhile stays as that request left it).
func (m *Manager) follow(ctx context.Context, l *Location) error {
	home, rep, ok := m.Pair(l.Namespace)
	if !ok || (l.Region != home && l.Region != rep) {
		return errors.New("not a replicated namespace's region")
	}
	other := home
	if l.Region == home {
		other = rep
	}
	active, err := m.ActiveRegion(ctx, l.Namespace, other)
	if err != nil {
		return err
	}
	if active == l.Region {
		return errors.New("already the active cluster")
	}
	return m.moveTo(ctx, l, active)
}

// moveTo points l at region to, for the same namespace, and moves the
// workflow's routing record there.
func (m *Manager) moveTo(ctx context.Context, l *Location, to *Region) error {
	c, err := m.clientIn(ctx, to, l.Namespace)
	if err != nil {
		return err
	}
	at := Placement{Region: to.Name(), Namespace: l.Namespace}
	key := m.keys.Key(l.ID)
	if l.rec.Version != 0 {
		if rec, err := m.records.Move(ctx, key, l.rec, at); err == nil {
			l.rec = rec
		}
	}
	m.cache.put(key, at)
	l.Region, l.Client = to, c
	return nil
}

// preferActive moves a freshly located workflow to the region its
// namespace is known (within activeTTL) to be active in, without asking.
func (m *Manager) preferActive(ctx context.Context, l *Location) {
	v, ok := m.repl.active.Load(l.Namespace)
	if !ok || !time.Now().Before(v.(activeEntry).until) || v.(activeEntry).region == l.Region.Name() {
		return
	}
	home, rep, ok := m.Pair(l.Namespace)
	if to, found := m.Region(v.(activeEntry).region); ok && found && (to == home || to == rep) && (l.Region == home || l.Region == rep) {
		_ = m.moveTo(ctx, l, to) // on failure l stays where its record says
	}
}

// recordedDestination is where a start of an id recorded at rec goes, if
// this decision may go there: a lawful region, or the replica of a lawful
// region holding that region's namespace (the record says so after a
// failover), with the home region's namespace and task queue.
func (m *Manager) recordedDestination(d *router.Decision, rec Record) (router.Destination, bool) {
	at := rec.Region
	if home, rep, ok := m.Pair(m.namespaceOf(rec.Placement)); ok && rep.Name() == rec.Region {
		at = home.Name()
	}
	dest, ok := d.LawfulDestination(at)
	if !ok || !d.StillLawful(m.policyNow(), at) {
		return dest, false
	}
	dest.Region = rec.Region
	return dest, true
}

// followedKey marks a start already sent on to the active cluster once.
type followedKey struct{}

// followStart handles a start refused as not active, or that reached
// nothing, at dest. With somewhere else to go (failFast) a refusal counts
// as unavailable, and the start moves on to its next candidate: nothing
// was started. Otherwise (a retry of a recorded id, or the last candidate)
// the start is sent to the cluster dest's namespace is active in, once,
// after moving the id's routing record there: the namespace is one
// Temporal namespace in both clusters, so the id is still started in one
// place only. followed is false when err is left as it was.
func (m *Manager) followStart(ctx context.Context, dest router.Destination, req StartRequest, failFast bool, err error) (s Started, _ error, followed bool) {
	notActive := IsNotActive(err)
	switch {
	case ctx.Value(followedKey{}) != nil, !followable(err):
		return s, err, false
	case notActive && failFast:
		return s, fmt.Errorf("starting %s in %s: %w: namespace %s is active in another cluster: %w", req.WorkflowID, dest.Region, ErrUnavailable, dest.Namespace, err), true
	case failFast:
		return s, err, false
	}
	r, _ := m.Region(dest.Region)
	active, aerr := m.ActiveRegion(ctx, dest.Namespace, r)
	if aerr != nil || active == r {
		if notActive { // refused, and nowhere to follow it: nothing was started
			return s, fmt.Errorf("starting %s in %s: %w: %w", req.WorkflowID, dest.Region, ErrUnavailable, err), true
		}
		return s, err, false
	}
	key := m.keys.Key(req.WorkflowID)
	rec, lerr := m.lookup(ctx, req.WorkflowID, key)
	if lerr != nil {
		return s, fmt.Errorf("looking up routing record: %w", lerr), true
	}
	if rec.Region != dest.Region || m.namespaceOf(rec.Placement) != dest.Namespace {
		return s, fmt.Errorf("%w: another request moved the routing record of %q meanwhile", ErrUnknownOutcome, req.WorkflowID), true
	}
	at := Placement{Region: active.Name(), Namespace: dest.Namespace}
	if _, err := m.records.Move(ctx, key, rec, at); err != nil {
		return s, fmt.Errorf("%w: another request took over %q (%v)", ErrUnknownOutcome, req.WorkflowID, recordsErr(err)), true
	}
	m.cache.put(key, at)
	to := dest
	to.Region = active.Name()
	s, err = m.startIn(context.WithValue(ctx, followedKey{}, true), to, req, false)
	return s, err, true
}
