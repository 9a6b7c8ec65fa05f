package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

type replica struct {
	admin      string // admin API base URL
	client     string // client API base URL
	metricsURL string
}

// consulWithConfig starts a real Consul agent holding the dev config under
// configKey, and returns it with a client.
func consulWithConfig(tb testing.TB, ctx context.Context) (*devstack.Consul, *api.Client) {
	tb.Helper()
	agent, err := devstack.StartConsul(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(agent.Stop)
	cl, err := agent.Client()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cl.KV().Put(&api.KVPair{Key: configKey, Value: configs.DefaultYAML()}, nil); err != nil {
		tb.Fatal(err)
	}
	return agent, cl
}

const configKey = "regiongate/config"

// consulReplica is one gateway replica as `regiongate serve --consul`
// runs it (gatewayd, the shared stores in Consul beside the config key),
// watching the config key and re-reading drills every 50ms. Its regions
// need not run: the callers look at config and drills only. It stops when
// ctx ends, as a replica that has gone; its listeners close with the test.
func consulReplica(t *testing.T, ctx context.Context, cl *api.Client, key string) replica {
	t.Helper()
	src := configs.NewConsulSource(cl, key)
	src.MaxBackoff = 200 * time.Millisecond
	o := gatewayd.Options{ConfigSource: src, Tokens: gateway.DevTokens(), DrillRefresh: 50 * time.Millisecond}
	o.UseConsul(cl, "regiongate/")
	o.RecordKeys = raceRecordKeys // one deployment: one records key
	return serveReplica(t, ctx, o)
}

// serveReplica assembles a gateway from o and serves it on free ports
// until ctx ends or the test does.
func serveReplica(t *testing.T, ctx context.Context, o gatewayd.Options) replica {
	t.Helper()
	gw, err := gatewayd.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	ls, err := gatewayd.Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw.ServeInBackground(ls)
	return replica{admin: ls.AdminURL(), client: ls.ClientURL(), metricsURL: ls.AdminURL()}
}

func (r replica) etag(t *testing.T) string {
	t.Helper()
	return do(t, "GET", r.admin+"/admin/v1/config", nil, "Authorization", "Bearer dev-viewer").Header.Get("ETag")
}

func TestConsulConfigReachesEveryReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	agent, cl := consulWithConfig(t, ctx)
	const key = configKey
	dev := string(configs.DefaultYAML())
	a, b := consulReplica(t, ctx, cl, key), consulReplica(t, ctx, cl, key)
	first := a.etag(t)
	if first == "" || b.etag(t) != first {
		t.Fatalf("replicas start on different configs: %q %q", first, b.etag(t))
	}

	// A kv put of a new config reaches both replicas.
	edited := strings.Replace(dev, "tenantBurst: 200", "tenantBurst: 300", 1)
	if _, err := cl.KV().Put(&api.KVPair{Key: key, Value: []byte(edited)}, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []replica{a, b} {
		poll.Until(t, 10*time.Second, "the new config on "+r.admin, func() bool { return r.etag(t) != first })
	}
	second := a.etag(t)

	// An invalid one is refused; both keep serving the old and count it.
	invalid := strings.Replace(edited, "failover: [eu-central]", "failover: [eu-centre]", 1)
	if _, err := cl.KV().Put(&api.KVPair{Key: key, Value: []byte(invalid)}, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []replica{a, b} {
		poll.Until(t, 10*time.Second, "the refusal to be counted on "+r.admin, func() bool {
			return find(scrape(t, r.metricsURL), "regiongate_config_reload_failures_total", nil) >= 1
		})
		if r.etag(t) != second {
			t.Fatalf("%s applied an invalid config", r.admin)
		}
	}

	// A stale If-Match gets 412, and nothing is written.
	compliance := []string{"Authorization", "Bearer dev-compliance", "If-Match", first}
	checkProblem(t, do(t, "PUT", a.admin+"/admin/v1/config", dev, compliance...), 412)

	// Consul stops: both keep serving the last good config...
	agent.Stop()
	for _, r := range []replica{a, b} {
		if r.etag(t) != second {
			t.Fatalf("%s lost its config when Consul stopped", r.admin)
		}
	}
	// ...and resume watching when it returns (a dev agent comes back empty,
	// so its index starts over: the watcher must notice it went backwards).
	if err := agent.Start(ctx); err != nil {
		t.Fatal(err)
	}
	third := strings.Replace(dev, "tenantBurst: 200", "tenantBurst: 400", 1)
	if _, err := cl.KV().Put(&api.KVPair{Key: key, Value: []byte(third)}, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []replica{a, b} {
		poll.Until(t, 20*time.Second, "the config after Consul returned on "+r.admin, func() bool {
			e := r.etag(t)
			return e != second && e != first
		})
	}
}

func (r replica) drillOf(t *testing.T, region string) string {
	t.Helper()
	var got string
	resp := do(t, "GET", r.admin+"/admin/v1/regions", nil, "Authorization", "Bearer dev-viewer")
	for _, x := range resp.json(t)["regions"].([]any) {
		m := x.(map[string]any)
		if m["name"] == region {
			got, _ = m["drill"].(string)
		}
	}
	return got
}

// TestDrillOutlivesTheReplicaThatStartedIt: the drill's end lives in
// Consul, so the other replica, and the restarted one, honour it.
func TestDrillOutlivesTheReplicaThatStartedIt(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, cl := consulWithConfig(t, ctx)
	const key = configKey
	starterCtx, stopStarter := context.WithCancel(ctx)
	starter := consulReplica(t, starterCtx, cl, key)
	other := consulReplica(t, ctx, cl, key)

	d := do(t, "POST", starter.admin+"/admin/v1/drills", map[string]any{"region": "eu-west", "durationSeconds": 4},
		"Authorization", "Bearer dev-operator")
	if d.Status != 201 {
		t.Fatalf("drill: %d %s", d.Status, d.Body)
	}
	id := d.json(t)["id"].(string)
	stopStarter() // the replica that started it is gone

	poll.Until(t, 5*time.Second, "the other replica to honour the drill", func() bool { return other.drillOf(t, "eu-west") == id })
	restarted := consulReplica(t, ctx, cl, key)
	poll.Until(t, 5*time.Second, "the restarted replica to honour the drill", func() bool { return restarted.drillOf(t, "eu-west") == id })
	checkProblem(t, do(t, "POST", restarted.admin+"/admin/v1/drills", map[string]any{"region": "eu-west", "durationSeconds": 4},
		"Authorization", "Bearer dev-operator"), 409)
	for _, r := range []replica{other, restarted} {
		poll.Until(t, 20*time.Second, "eu-west back on "+r.admin, func() bool { return r.drillOf(t, "eu-west") == "" })
	}
}
