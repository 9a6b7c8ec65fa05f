package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// selfContained starts its own stack, measures, and stops it all.
func selfContained(ctx context.Context, o Options, r *Report, runID string) error {
	dir, err := os.MkdirTemp("", "regiongate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := stackPart(ctx, o, r, runID, dir); err != nil {
		return err
	}
	if !o.Propagation {
		return nil
	}
	return selfPropagation(ctx, o, r, runID, dir)
}

// stackPart runs the comparison and the failover against an in-process
// stack, stopped before the propagation part so it does not compete for
// the CPU.
func stackPart(ctx context.Context, o Options, r *Report, runID, dir string) error {
	fmt.Fprintln(o.Progress, "starting the stack: a Temporal dev server and a worker per region (free loopback ports)")
	began := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	st, err := devstack.StartStack(sctx, dir)
	cancel()
	if err != nil {
		return fmt.Errorf("starting the stack: %w", err)
	}
	defer func() {
		fmt.Fprintln(o.Progress, "stopping the stack")
		st.Close()
	}()
	gateways, stop, err := startGateways(ctx, o, st.Config, dir)
	defer stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "stack up in %.1fs: gateway %s\n", time.Since(began).Seconds(), gateways[ModeGateway].url)
	r.Notes = append(r.Notes, fmt.Sprintf("self-contained: Temporal dev servers from internal/tool/devstack, their workers built by internal/assembly/workerd as `regiongate worker` builds them; the gateway built and served by internal/assembly/gatewayd, as `regiongate serve` builds it (bbolt routing records, payload encryption off as in the direct modes, tracing on without an exporter, health checks every %s, timeout %s, unhealthy after %d failures, healthy after %d passes)",
		regions.DefaultHealthInterval, regions.DefaultHealthTimeout, regions.DefaultHealthFailThreshold, regions.DefaultHealthPassThreshold))

	w, fallback, err := ResolveWorkload(st.Config, o)
	if err != nil {
		return err
	}
	if err := compareModes(ctx, o, r, w, runID, gateways); err != nil {
		return err
	}
	switch {
	case !o.Failover:
		return nil
	case fallback == "":
		r.Notes = append(r.Notes, fmt.Sprintf("failover not measured: %s/%s has no second lawful region", w.Location, w.Class))
		return nil
	}
	return stackFailover(ctx, o, r, st, gateways[ModeGateway].url, w, fallback, runID)
}

// startGateways starts the gateway, and the one with in-memory records
// when that mode is asked for. The stack's own gateway is left idle: the
// ones measured are built as `regiongate serve` builds its own, and time
// their regional calls.
func startGateways(ctx context.Context, o Options, cfg *configs.Config, dir string) (map[string]target, func(), error) {
	gateways := map[string]target{}
	var started []*servedGateway
	stop := func() {
		for _, g := range started {
			g.Close()
		}
	}
	for _, name := range []string{ModeGateway, ModeGatewayMemory} {
		if name == ModeGatewayMemory && !slices.Contains(o.Modes, name) {
			continue
		}
		ov := NewOverhead()
		g, err := startGateway(ctx, cfg, filepath.Join(dir, name), name == ModeGatewayMemory, ov)
		if err != nil {
			return nil, stop, fmt.Errorf("starting the gateway: %w", err)
		}
		started = append(started, g)
		gateways[name] = target{url: g.ClientURL, overhead: ov}
	}
	return gateways, stop, nil
}

// stackFailover kills the workload's home region under load through the
// gateway at gatewayURL.
func stackFailover(ctx context.Context, o Options, r *Report, st *devstack.Stack, gatewayURL string, w Workload, fallback, runID string) error {
	fo := o.FailoverOptions
	fo.Home, fo.Fallback, fo.IDPrefix, fo.Progress = w.Region, fallback, runID, o.Progress
	fo.Start = failoverStarts(NewHTTPClient(64), gatewayURL, w)
	fo.Kill = st.Temporal[w.Region].Kill
	fo.Restart = st.Temporal[w.Region].Start
	fmt.Fprintf(o.Progress, "failover: %.0f starts/s through the gateway, then kill -9 %s\n", fo.withDefaults().Rate, w.Region)
	res, err := Failover(ctx, fo)
	if err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	r.Failover = &res
	return nil
}

// selfPropagation starts a Consul agent and two gateway replicas watching
// the config key, and measures propagation to both.
func selfPropagation(ctx context.Context, o Options, r *Report, runID, dir string) error {
	fmt.Fprintln(o.Progress, "propagation: starting a Consul dev agent and two gateway replicas")
	agent, err := devstack.StartConsul(ctx, dir)
	if err != nil {
		return fmt.Errorf("starting consul: %w", err)
	}
	defer agent.Stop()
	cl, err := agent.Client()
	if err != nil {
		return err
	}
	base := configs.DefaultYAML()
	if _, err := cl.KV().Put(&api.KVPair{Key: o.ConsulKey, Value: base}, nil); err != nil {
		return fmt.Errorf("seeding the config key: %w", err)
	}
	var urls []string
	for range 2 {
		u, stop, err := startReplica(ctx, cl, o.ConsulKey)
		if err != nil {
			return fmt.Errorf("starting a gateway replica: %w", err)
		}
		defer stop()
		urls = append(urls, u)
	}
	return measurePropagation(ctx, o, r, cl.KV(), base, urls, runID)
}

func measurePropagation(ctx context.Context, o Options, r *Report, kv *api.KV, base []byte, urls []string, runID string) error {
	hc := NewHTTPClient(len(urls))
	res, err := Propagation(ctx, PropagationOptions{
		Writes: o.PropagationWrites, Write: ConsulWriter(kv, o.ConsulKey, base, runID),
		Replicas: replicaVersions(hc, urls, o.AdminToken), Progress: o.Progress,
	})
	if err != nil {
		return fmt.Errorf("propagation: %w", err)
	}
	r.Propagation = &res
	return nil
}

// replicaRecordKeys key the records the bench's replicas share, as one
// --records-key-file given to every replica would.
var replicaRecordKeys = regions.RandomRecordKeys()

// startReplica is a gateway replica as `regiongate serve --consul` runs
// one: built and served by internal/assembly/gatewayd, its config under key and its
// shared stores (records, drains, audit, drills) in Consul beside it, its
// APIs on free loopback ports. Its regions are the dev config's, which need
// not answer: propagation needs the config only.
func startReplica(ctx context.Context, cl *api.Client, key string) (adminURL string, stop func(), err error) {
	o := gatewayd.Options{ConfigSource: configs.NewConsulSource(cl, key), Tokens: gateway.DevTokens(), CodecKeys: noEncryption}
	o.UseConsul(cl, key[:strings.LastIndex(key, "/")+1]) // beside the config key, as serve keeps them
	o.RecordKeys = replicaRecordKeys
	gw, err := gatewayd.Start(ctx, o)
	if err != nil {
		return "", nil, err
	}
	ls, err := gatewayd.Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		gw.Close()
		return "", nil, err
	}
	gw.ServeInBackground(ls)
	return ls.AdminURL(), gw.Close, nil
}

// devPropagation measures a running `make dev CONSUL=1`: it writes
// variants of the config in force to its key, and writes the original back
// at the end.
func devPropagation(ctx context.Context, o Options, r *Report, runID string) error {
	if o.ConsulAddr == "" || len(o.Replicas) == 0 {
		return fmt.Errorf("--propagation against a dev stack needs --consul and --replicas")
	}
	cc := api.DefaultConfig()
	cc.Address = o.ConsulAddr
	cl, err := api.NewClient(cc)
	if err != nil {
		return err
	}
	pair, _, err := cl.KV().Get(o.ConsulKey, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil || pair == nil {
		return fmt.Errorf("reading consul key %s at %s (is `make dev CONSUL=1` running?): %v", o.ConsulKey, o.ConsulAddr, err)
	}
	base := pair.Value
	defer func() {
		// Leave the stack on the config it had (as a new write).
		if _, err := cl.KV().Put(&api.KVPair{Key: o.ConsulKey, Value: base}, nil); err != nil {
			fmt.Fprintf(o.Progress, "propagation: writing the original config back failed: %v\n", err)
		}
	}()
	return measurePropagation(ctx, o, r, cl.KV(), base, o.Replicas, runID)
}
