package chaos

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/router"
)

func TestPlanIsTheSeedsAndCoversEveryKind(t *testing.T) {
	a, b := NewPlan(42, 15*time.Minute), NewPlan(42, 15*time.Minute)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed and duration gave two plans")
	}
	if reflect.DeepEqual(a.Faults, NewPlan(43, 15*time.Minute).Faults) {
		t.Error("seeds 42 and 43 gave the same faults")
	}
	seen := map[string]int{}
	for i, s := range a.Faults {
		seen[s.Kind]++
		if i == 0 && s.Gap != Warmup {
			t.Errorf("the first fault comes after %s, want the warm-up (%s)", s.Gap, Warmup)
		}
		if s.Target == "" || s.For <= 0 {
			t.Errorf("fault %d: %+v has no target or duration", i, s)
		}
	}
	for _, k := range FaultKinds {
		if seen[k] < 2 {
			t.Errorf("a 15-minute plan holds %d %s faults, want several", seen[k], k)
		}
	}
	for _, s := range a.Admin {
		if s.Kind == ConfigEdit && s.Target != "us-east/us-west" && s.Target != "eu-west/eu-central" {
			t.Errorf("a config edit of %q: want a pair of regions with the same residency", s.Target)
		}
	}
}

func TestWindowsLayEachErrorAtOneFaultsDoor(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	req := func(s, status int) Entry { return Entry{Kind: KindStart, Time: at(s), Status: status} }
	entries := []Entry{
		req(1, 503), // before any fault: background
		{Kind: KindFault, Time: at(10), Action: KillConsul, Target: "consul", Phase: "begin"},
		req(11, 502), req(12, 201), {Kind: KindStart, Time: at(13), Refused: true},
		{Kind: KindFault, Time: at(20), Action: KillConsul, Target: "consul", Phase: "end"},
		req(25, 503), // after healing, within the grace
		{Kind: KindFault, Time: at(40), Action: Blackhole, Target: "eu-west", Phase: "begin"},
		req(45, 201),
		{Kind: KindFault, Time: at(50), Action: Blackhole, Target: "eu-west", Phase: "end"},
		req(100, 0), // long after: background
	}
	ws, bg := Windows(entries)
	if len(ws) != 2 || len(bg) != 2 {
		t.Fatalf("got %d windows and %d background errors, want 2 and 2", len(ws), len(bg))
	}
	consul := ws[0]
	if consul.Requests != 3 || consul.Errors != 2 || consul.Refused != 1 || consul.ErrorsFor() != 15*time.Second {
		t.Errorf("consul window %+v (errors for %s): want 3 requests, 2 errors, 1 refused, errors for 15s", consul, consul.ErrorsFor())
	}
	kinds := ByKind(ws)
	if len(kinds) != 2 || kinds[0].Kind != KillConsul || kinds[0].MaxErrorsAfter != 5*time.Second || kinds[1].Errors != 0 {
		t.Errorf("by kind: %+v", kinds)
	}
}

func TestConfigEditMovesTheHomeRegionNotTheResidency(t *testing.T) {
	raw := configs.DefaultYAML()
	edited, err := swapRegions(raw, "eu-west", "eu-central")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Parse(edited)
	if err != nil {
		t.Fatal(err)
	}
	if got := lawful(router.New(cfg), "DE", "pii"); !reflect.DeepEqual(got, []string{"eu-central", "eu-west"}) {
		t.Errorf("German pii after the edit: %v, want eu-central first", got)
	}
	if !bytes.Contains(edited, []byte("# The 27 member states")) {
		t.Error("the edit lost the config's comments")
	}
	if _, err := swapRegions(raw, "eu-west", "mars"); err == nil {
		t.Error("swapping with an unknown region: want an error")
	}
}

func TestStartBodyIsTheSameRequestEveryTime(t *testing.T) {
	e := Entry{Tenant: "acme", Country: "DE", Class: "pii", Type: "DataProcessing", WorkflowID: "x", Input: quickInput, Status: 503, Region: "eu-west"}
	if got := string(startBody(e.Request())); got != `{"workflowType":"DataProcessing","workflowId":"x","userLocation":"DE","dataClassification":"pii","input":{"items":2,"itemDelayMs":100}}` {
		t.Errorf("start body: %s", got)
	}
	e.IdemKey, e.WorkflowID = "k1", gateway.IdempotentWorkflowID("acme", "k1")
	if body := string(startBody(e)); strings.Contains(body, "workflowId") {
		t.Errorf("an Idempotency-Key start names its id: %s", body)
	}
	if startHeaders(e).Get("Idempotency-Key") != "k1" {
		t.Error("no Idempotency-Key header")
	}
}

func TestLedgerRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := CreateLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Add(Entry{Kind: KindStart, WorkflowID: "a", Input: json.RawMessage(`{"items":1}`), Status: 201})
	l.Add(Entry{Kind: KindSignal, WorkflowID: "a", Status: 0, Err: "timeout"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = OpenLedger(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	l.Add(Entry{Kind: KindFinalRetry, WorkflowID: "a", Status: 200})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Seq != 3 || string(got[0].Input) != `{"items":1}` || !got[1].ServerError() {
		t.Errorf("read back %+v", got)
	}
}
