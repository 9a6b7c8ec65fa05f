package gateway_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows"
)

// flakyAudit is an audit log that can be down, and lets a test look at
// the world at the moment each entry is written.
type flakyAudit struct {
	audit.Memory
	mu     sync.Mutex
	down   bool
	failed int            // appends refused while down
	offers map[string]int // appends asked for, by action and target
	before func(audit.Entry)
}

func (f *flakyAudit) Append(ctx context.Context, e audit.Entry, when audit.Condition) (audit.Entry, bool, error) {
	f.mu.Lock()
	if f.offers == nil {
		f.offers = map[string]int{}
	}
	f.offers[e.Action+" "+e.Target]++
	down, before := f.down, f.before
	if down {
		f.failed++
	}
	f.mu.Unlock()
	if down {
		return audit.Entry{}, false, errors.New("audit store unreachable")
	}
	if before != nil {
		before(e)
	}
	return f.Memory.Append(ctx, e, when)
}

func (f *flakyAudit) setDown(down bool) { f.mu.Lock(); defer f.mu.Unlock(); f.down = down }

func (f *flakyAudit) count(key string, failed bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if failed {
		return f.failed
	}
	return f.offers[key]
}

// entries lists the log's entries for which keep is true.
func (f *flakyAudit) entries(t *testing.T, keep func(audit.Entry) bool) []audit.Entry {
	t.Helper()
	all, err := f.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range all {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// replica is one gateway over shared stores, its regions never dialled.
type auditReplica struct {
	srv   *gateway.Server
	mgr   *regions.Manager
	admin string
}

type sharedStores struct {
	audit  *flakyAudit
	drains regions.DrainStore
	drills gateway.DrillStore
	config configs.Source
}

func newShared() sharedStores {
	return sharedStores{audit: &flakyAudit{}, drains: regions.NewMemoryDrains(), drills: &gateway.MemoryDrills{},
		config: configs.NewMemorySource(configs.DefaultYAML())}
}

func startReplica(t *testing.T, ctx context.Context, st sharedStores) auditReplica {
	t.Helper()
	mgr, err := regions.NewManager(configs.Default(), regions.Options{Drains: st.drains})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	srv, err := gateway.New(gateway.Options{Regions: mgr, Config: configs.Default(), WorkflowTypes: workflows.Names,
		Tokens: gateway.DevTokens(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Audit: st.audit, Drills: st.drills, ConfigSource: st.config})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WatchConfig(ctx); err != nil {
		t.Fatal(err)
	}
	go srv.RunDrills(ctx, 20*time.Millisecond)
	go srv.RunAudit(ctx, 20*time.Millisecond)
	ts := httptest.NewServer(srv.AdminHandler())
	t.Cleanup(ts.Close)
	return auditReplica{srv: srv, mgr: mgr, admin: ts.URL + "/admin/v1"}
}

var (
	operator   = []string{"Authorization", "Bearer dev-operator"}
	compliance = []string{"Authorization", "Bearer dev-compliance"}
)

func (r auditReplica) etag(t *testing.T) string {
	return do(t, "GET", r.admin+"/config", nil, compliance...).Header.Get("ETag")
}

func drained(t *testing.T, r auditReplica, region string) bool {
	reg, ok := r.mgr.Region(region)
	if !ok {
		t.Fatalf("no region %s", region)
	}
	return reg.Drained()
}

// TestChangesAreRefusedWhenTheAuditLogIsDown: a change whose entry cannot
// be written is refused with audit-unavailable and changes nothing.
func TestChangesAreRefusedWhenTheAuditLogIsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	r := startReplica(t, ctx, st)
	if got := do(t, "POST", r.admin+"/regions/eu-west/drain", nil, operator...); got.Status != 200 {
		t.Fatalf("drain with the audit log up: %d %s", got.Status, got.Body)
	}
	etag := r.etag(t)
	st.audit.setDown(true)
	edited := strings.Replace(string(configs.DefaultYAML()), "tenantBurst: 200", "tenantBurst: 300", 1)
	for _, call := range []struct {
		name, method, path string
		body               any
		header             []string
	}{
		{"drain", "POST", "/regions/us-east/drain", nil, operator},
		{"restore", "POST", "/regions/eu-west/restore", nil, operator},
		{"drill", "POST", "/drills", map[string]any{"region": "us-west", "durationSeconds": 60}, operator},
		{"config", "PUT", "/config", edited, append(compliance, "If-Match", etag)},
	} {
		got := do(t, call.method, r.admin+call.path, call.body, call.header...)
		p := checkProblem(t, got, 503)
		if p["type"] != "https://regiongate.dev/problems/audit-unavailable" || got.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %s", call.name, got.Body)
		}
	}
	if drained(t, r, "us-east") || !drained(t, r, "eu-west") {
		t.Fatal("a refused drain or restore changed a region")
	}
	if stored, _ := st.drains.Load(ctx); !stored["eu-west"] || stored["us-east"] {
		t.Fatalf("drain store changed: %v", stored)
	}
	if list, _ := st.drills.List(ctx); len(list) != 0 {
		t.Fatalf("a refused drill was stored: %v", list)
	}
	if rev, _ := st.config.Read(ctx); string(rev.Data) != string(configs.DefaultYAML()) || r.etag(t) != etag {
		t.Fatal("a refused config was written or applied")
	}
}

// TestChangesAreRecordedBeforeTheyTakeEffect looks at the world as each
// entry is written: the change it records has not happened yet.
func TestChangesAreRecordedBeforeTheyTakeEffect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	r := startReplica(t, ctx, st)
	var mu sync.Mutex
	var early []string
	st.audit.before = func(e audit.Entry) {
		mu.Lock()
		defer mu.Unlock()
		rev, _ := st.config.Read(ctx)
		drills, _ := st.drills.List(ctx)
		switch {
		case e.Action == "region.drain" && drained(t, r, e.Target),
			e.Action == "drill.start" && len(drills) > 0,
			e.Action == "config.replace" && e.Source == "api" && configs.VersionOf(rev.Data) == e.Target:
			early = append(early, e.Action)
		}
	}
	edited := strings.Replace(string(configs.DefaultYAML()), "tenantBurst: 200", "tenantBurst: 300", 1)
	for _, got := range []response{
		do(t, "POST", r.admin+"/regions/eu-west/drain", nil, operator...),
		do(t, "POST", r.admin+"/drills", map[string]any{"region": "us-west", "durationSeconds": 60}, operator...),
		do(t, "PUT", r.admin+"/config", edited, append(compliance, "If-Match", r.etag(t))...),
	} {
		if got.Status != 200 && got.Status != 201 {
			t.Fatalf("change: %d %s", got.Status, got.Body)
		}
	}
	if len(early) != 0 {
		t.Fatalf("recorded after the change took effect: %v", early)
	}
	got := st.audit.entries(t, func(e audit.Entry) bool { return e.Source == "api" })
	if len(got) != 3 || got[0].Actor != "dev.operator" || got[2].Actor != "dev.compliance" ||
		got[2].Target != configs.VersionOf([]byte(edited)) || !strings.Contains(got[2].Detail, "from "+configs.Default().Version()) {
		t.Fatalf("entries: %+v", got)
	}
	if rep, err := audit.Verify(ctx, st.audit); err != nil || rep.Err() != nil {
		t.Fatalf("chain: %v %v", rep.Err(), err)
	}
}

// brokenDrains cannot be written.
type brokenDrains struct{ regions.DrainStore }

func (brokenDrains) Set(context.Context, string, bool) error { return errors.New("disk full") }

// TestAChangeThatFailsAfterItsEntryIsRecordedAsFailed: the attempt stays
// in the log, followed by its failure.
func TestAChangeThatFailsAfterItsEntryIsRecordedAsFailed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newShared()
	st.drains = brokenDrains{regions.NewMemoryDrains()}
	r := startReplica(t, ctx, st)
	checkProblem(t, do(t, "POST", r.admin+"/regions/eu-west/drain", nil, operator...), 500)
	got := st.audit.entries(t, func(e audit.Entry) bool { return e.Action == "region.drain" })
	if len(got) != 2 || got[0].Outcome != "" || got[1].Outcome != "failed" || got[1].Refers != got[0].Seq ||
		!strings.Contains(got[1].Detail, "disk full") || drained(t, r, "eu-west") {
		t.Fatalf("entries: %+v", got)
	}
}
