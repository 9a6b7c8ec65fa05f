package gateway_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// auditOf returns the entries GET /admin/v1/audit lists for which keep is
// true.
func (r replica) auditOf(t *testing.T, keep func(m map[string]any) bool) []map[string]any {
	t.Helper()
	got := do(t, "GET", r.admin+"/admin/v1/audit", nil, "Authorization", "Bearer dev-viewer")
	if got.Status != 200 {
		t.Fatalf("audit: %d %s", got.Status, got.Body)
	}
	var out []map[string]any
	for _, e := range got.json(t)["entries"].([]any) {
		if m := e.(map[string]any); keep(m) {
			out = append(out, m)
		}
	}
	return out
}

func configEntriesOf(t *testing.T, r replica, version string) []map[string]any {
	return r.auditOf(t, func(m map[string]any) bool { return m["action"] == "config.replace" && m["target"] == version })
}

// barrier waits until r has written two refused calls' entries, one
// after the other: r's audit loop has then run a whole round since the
// call.
func (r replica) barrier(t *testing.T) {
	t.Helper()
	for _, route := range []string{"/admin/v1/regions", "/admin/v1/config"} {
		// Other replicas' refusals share the log: wait for one more.
		refused := func() int {
			return len(r.auditOf(t, func(m map[string]any) bool { return m["target"] == "GET "+route }))
		}
		before := refused()
		do(t, "GET", r.admin+route, nil, "Authorization", "Bearer barrier")
		poll.Until(t, 10*time.Second, "the refused call on "+route+" in the audit log", func() bool { return refused() > before })
	}
}

// TestConsulChangesAreAuditedOnceAcrossReplicas: two replicas share
// Consul. A `consul kv put` of the config, a PUT on one replica and a
// drill's end are one entry each, and the chain in Consul verifies.
func TestConsulChangesAreAuditedOnceAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, cl := consulWithConfig(t, ctx)
	a, b := consulReplica(t, ctx, cl, configKey), consulReplica(t, ctx, cl, configKey)
	first := a.etag(t)

	edited := strings.Replace(string(configs.DefaultYAML()), "tenantBurst: 200", "tenantBurst: 300", 1)
	if _, err := cl.KV().Put(&api.KVPair{Key: configKey, Value: []byte(edited)}, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []replica{a, b} {
		poll.Until(t, 10*time.Second, "the new config on "+r.admin, func() bool { return r.etag(t) != first })
	}
	got := configEntriesOf(t, a, configs.VersionOf([]byte(edited)))
	if len(got) != 1 || got[0]["source"] != "consul key "+configKey || !strings.Contains(got[0]["detail"].(string), "from "+strings.Trim(first, `"`)) {
		t.Fatalf("entries for a kv put seen by two replicas: %v", got)
	}

	put := strings.Replace(edited, "tenantBurst: 300", "tenantBurst: 400", 1)
	if r := do(t, "PUT", a.admin+"/admin/v1/config", put, "Authorization", "Bearer dev-compliance", "If-Match", a.etag(t)); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	poll.Until(t, 10*time.Second, "the PUT on the other replica", func() bool { return b.etag(t) == a.etag(t) })
	if got := configEntriesOf(t, b, configs.VersionOf([]byte(put))); len(got) != 1 || got[0]["source"] != "api" {
		t.Fatalf("entries for a PUT seen by two replicas: %v", got)
	}

	d := do(t, "POST", a.admin+"/admin/v1/drills", map[string]any{"region": "eu-west", "durationSeconds": 1}, "Authorization", "Bearer dev-operator")
	if d.Status != 201 {
		t.Fatalf("drill: %d %s", d.Status, d.Body)
	}
	id := d.json(t)["id"].(string)
	ends := func() []map[string]any {
		return a.auditOf(t, func(m map[string]any) bool { return m["action"] == "drill.end" && m["target"] == id })
	}
	poll.Until(t, 20*time.Second, "the drill's end in the audit log", func() bool { return len(ends()) > 0 })
	a.barrier(t)
	b.barrier(t)
	if got := ends(); len(got) != 1 || !strings.Contains(got[0]["detail"].(string), "eu-west back in rotation") {
		t.Fatalf("drill.end entries: %v", got)
	}
	if r, err := audit.Verify(ctx, gatewayd.ConsulAudit(cl, "regiongate/")); err != nil || r.Err() != nil {
		t.Fatalf("the chain in Consul: %v %v", r.Err(), err)
	}
}

// TestConfigFileEditIsAudited: a gateway on a config file (as serve runs
// without Consul) records an edit of the file once, and an edit made
// while it was stopped when it starts again.
func TestConfigFileEditIsAudited(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gateway (skipped under -short)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	save := func(text string) {
		if err := os.WriteFile(path+".new", []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	save(string(configs.DefaultYAML()))
	log := &audit.FileStore{Path: filepath.Join(dir, "audit.jsonl")}
	start := func(ctx context.Context) replica {
		src := configs.NewFileSource(path)
		src.Poll = 50 * time.Millisecond
		return serveReplica(t, ctx, gatewayd.Options{ConfigSource: src, Audit: log, Tokens: gateway.DevTokens(), DrillRefresh: 50 * time.Millisecond})
	}
	ctx, stop := context.WithCancel(context.Background())
	r := start(ctx)
	edited := strings.Replace(string(configs.DefaultYAML()), "tenantBurst: 200", "tenantBurst: 300", 1)
	save(edited)
	poll.Until(t, 10*time.Second, "the edited file in force", func() bool { return r.etag(t) == `"`+configs.VersionOf([]byte(edited))+`"` })
	if got := configEntriesOf(t, r, configs.VersionOf([]byte(edited))); len(got) != 1 || got[0]["source"] != "file "+path || got[0]["actor"] != "unknown" {
		t.Fatalf("entries for a file edit: %v", got)
	}
	stop()

	whileDown := strings.Replace(edited, "tenantBurst: 300", "tenantBurst: 400", 1)
	save(whileDown)
	r = start(context.Background())
	got := configEntriesOf(t, r, configs.VersionOf([]byte(whileDown)))
	if len(got) != 1 || got[0]["source"] != "start-up (file "+path+")" {
		t.Fatalf("entries for an edit made while no gateway ran: %v", got)
	}
	if rep, err := audit.Verify(context.Background(), log); err != nil || rep.Err() != nil || rep.Checked < 3 {
		t.Fatalf("the chain in the file: %+v %v", rep, err)
	}
}
