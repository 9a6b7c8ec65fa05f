package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/testkit/poll"
)

func withBurst(burst string) []byte {
	return []byte(strings.Replace(string(configs.DefaultYAML()), "tenantBurst: 200", "tenantBurst: "+burst, 1))
}

// configEntries returns the config entries recording version.
func configEntries(t *testing.T, st sharedStores, version string) []audit.Entry {
	return st.audit.entries(t, func(e audit.Entry) bool {
		return e.Action == "config.replace" && e.Target == version && e.Outcome == ""
	})
}

// TestEveryConfigChangeIsAuditedOnceAcrossReplicas: two replicas watch one
// source. A write to the source (someone editing the Consul key or the
// file), a PUT on one replica, and a change back are each one entry, with
// the source that brought them.
func TestEveryConfigChangeIsAuditedOnceAcrossReplicas(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	a, b := startReplica(t, ctx, st), startReplica(t, ctx, st)
	original := configs.Default().Version()
	if got := configEntries(t, st, original); len(got) != 1 || got[0].Source != "start-up (memory)" {
		t.Fatalf("start-up entries: %+v", got)
	}
	both := func(version string) {
		for _, r := range []auditReplica{a, b} {
			poll.Until(t, 10*time.Second, "config "+version+" on a replica", func() bool { return r.srv.Config().Version() == version })
		}
	}

	rev, _ := st.config.Read(ctx)
	rev, err := st.config.Write(ctx, withBurst("300"), rev.Index)
	if err != nil {
		t.Fatal(err)
	}
	edited := configs.VersionOf(rev.Data)
	both(edited)
	got := configEntries(t, st, edited)
	if len(got) != 1 || got[0].Source != "memory" || got[0].Actor != "unknown" || !strings.Contains(got[0].Detail, "from "+original) {
		t.Fatalf("entries for a write to the source: %+v", got)
	}

	put := do(t, "PUT", a.admin+"/config", string(withBurst("400")), append(compliance, "If-Match", a.etag(t))...)
	if put.Status != 200 {
		t.Fatalf("PUT: %d %s", put.Status, put.Body)
	}
	both(configs.VersionOf(withBurst("400")))
	if got := configEntries(t, st, configs.VersionOf(withBurst("400"))); len(got) != 1 || got[0].Source != "api" || got[0].Actor != "dev.compliance" {
		t.Fatalf("entries for a PUT seen by two replicas: %+v", got)
	}

	rev, _ = st.config.Read(ctx)
	if _, err := st.config.Write(ctx, withBurst("300"), rev.Index); err != nil {
		t.Fatal(err)
	}
	both(edited)
	if got := configEntries(t, st, edited); len(got) != 2 {
		t.Fatalf("a change back to %s: %+v", edited, got)
	}
	if rep, err := audit.Verify(ctx, st.audit); err != nil || rep.Err() != nil {
		t.Fatalf("chain: %v %v", rep.Err(), err)
	}
}

// quietSource reports no changes: only a reload reads it.
type quietSource struct{ *configs.MemorySource }

func (quietSource) Watch(ctx context.Context, _ func(configs.Revision)) { <-ctx.Done() }

func TestReloadIsAuditedAsSIGHUP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	mem := configs.NewMemorySource(configs.DefaultYAML())
	st.config = quietSource{mem}
	r := startReplica(t, ctx, st)
	if _, err := mem.Write(ctx, withBurst("300"), 1); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.ReloadConfig(ctx); err != nil {
		t.Fatal(err)
	}
	got := configEntries(t, st, configs.VersionOf(withBurst("300")))
	if len(got) != 1 || got[0].Source != "sighup (memory)" {
		t.Fatalf("entries: %+v", got)
	}
}

// TestConfigThatCannotBeAuditedIsHeldBack: a config written to the source
// while the audit log is down stays out of force, and comes in, recorded,
// once the log is back.
func TestConfigThatCannotBeAuditedIsHeldBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	r := startReplica(t, ctx, st)
	st.audit.setDown(true)
	if _, err := st.config.Write(ctx, withBurst("300"), 1); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the config to be offered again", func() bool { return st.audit.count("", true) >= 2 })
	if r.srv.Config().Version() != configs.Default().Version() {
		t.Fatal("a config that could not be audited is in force")
	}
	st.audit.setDown(false)
	want := configs.VersionOf(withBurst("300"))
	poll.Until(t, 10*time.Second, "the config once the audit log is back", func() bool { return r.srv.Config().Version() == want })
	if got := configEntries(t, st, want); len(got) != 1 {
		t.Fatalf("entries: %+v", got)
	}
}

// TestDrillEndIsRecordedOnceAcrossReplicas: both replicas see the drill
// end; one drill.end is written, with the counts.
func TestDrillEndIsRecordedOnceAcrossReplicas(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	a, _ := startReplica(t, ctx, st), startReplica(t, ctx, st)
	created := do(t, "POST", a.admin+"/drills", map[string]any{"region": "eu-west", "durationSeconds": 1}, operator...)
	if created.Status != 201 {
		t.Fatalf("drill: %d %s", created.Status, created.Body)
	}
	id := created.json(t)["id"].(string)
	poll.Until(t, 20*time.Second, "both replicas to offer the drill's end", func() bool {
		return st.audit.count("drill.end "+id, false) >= 2
	})
	got := st.audit.entries(t, func(e audit.Entry) bool { return e.Action == "drill.end" })
	if len(got) != 1 || got[0].Target != id || got[0].Actor != "regiongate" ||
		!strings.Contains(got[0].Detail, "eu-west back in rotation") || !strings.Contains(got[0].Detail, "rerouted 0, refused 0, errors 0") {
		t.Fatalf("drill.end entries: %+v", got)
	}
}

// TestAFailedConfigPUTDoesNotHideTheNextChange: a PUT recorded and then
// refused as stale (the source moved on unseen) is followed by its
// failure, and the same config written later by other means is recorded.
func TestAFailedConfigPUTDoesNotHideTheNextChange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	mem := configs.NewMemorySource(configs.DefaultYAML())
	st.config = quietSource{mem}
	r := startReplica(t, ctx, st)
	if _, err := mem.Write(ctx, withBurst("300"), 1); err != nil { // unseen by the gateway
		t.Fatal(err)
	}
	wanted := configs.VersionOf(withBurst("400"))
	checkProblem(t, do(t, "PUT", r.admin+"/config", string(withBurst("400")), append(compliance, "If-Match", r.etag(t))...), 412)
	got := st.audit.entries(t, func(e audit.Entry) bool { return e.Target == wanted })
	if len(got) != 2 || got[1].Outcome != "failed" || got[1].Refers != got[0].Seq {
		t.Fatalf("a PUT refused after its entry: %+v", got)
	}
	if _, err := mem.Write(ctx, withBurst("400"), 2); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.ReloadConfig(ctx); err != nil {
		t.Fatal(err)
	}
	if got := configEntries(t, st, wanted); len(got) != 2 || got[1].Source != "sighup (memory)" {
		t.Fatalf("the same config written later: %+v", got)
	}
}
