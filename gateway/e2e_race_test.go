package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// raceReplica is a gateway replica of the shared stack as `regiongate
// serve --consul` runs it: routing records (and audit) in Consul, shared
// with the other replicas; drains its own, so two replicas can prefer
// different regions.
func raceReplica(t *testing.T, ctx context.Context, cl *api.Client) replica {
	t.Helper()
	o := gatewayd.Options{Config: stack.Config, Tokens: gateway.DevTokens(), CodecKeys: stack.CodecKeys}
	o.UseConsul(cl, "race/")
	o.RecordKeys = raceRecordKeys
	o.Drains = nil // in memory, per replica
	o.ClientKeys.Dev = true
	return serveReplica(t, ctx, o)
}

// raceRecordKeys key the race replicas' shared records, as every replica
// of one deployment is given the same --records-key-file.
var raceRecordKeys = regions.RandomRecordKeys()

// TestSignalWithStartRacingAStartLandsInOneRegion: replica a sends a
// signal-with-start while replica b sends a plain start of the same id, at
// once. They decide differently (us-east is drained on b only, so b
// prefers us-west), and without the shared routing records the id would
// run in both; with them, it runs in exactly one region, both answer that
// run (one 201, one 200), and the signal arrives exactly once.
func TestSignalWithStartRacingAStartLandsInOneRegion(t *testing.T) {
	needStack(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	agent, err := devstack.StartConsul(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	cl, err := agent.Client()
	if err != nil {
		t.Fatal(err)
	}
	a, b := raceReplica(t, ctx, cl), raceReplica(t, ctx, cl)
	if r := do(t, "POST", b.admin+"/admin/v1/regions/us-east/drain", nil, "Authorization", "Bearer dev-operator"); r.Status != 200 {
		t.Fatalf("draining us-east on b: %d %s", r.Status, r.Body)
	}
	probe := uniqueID(t) + "-probe"
	if r := do(t, "POST", b.client+"/v1/workflows", longProcessing(probe), asAcme...); r.Status != 201 || r.json(t)["region"] != "us-west" {
		t.Fatalf("b should start US data in us-west: %d %s", r.Status, r.Body)
	}
	do(t, "POST", b.client+"/v1/workflows/"+probe+"/cancel", nil, asAcme...)

	landed := map[string]int{}
	for i := range 8 {
		id := fmt.Sprintf("%s-%d", uniqueID(t), i)
		region := race(t, a, b, id)
		landed[region]++
		if r := do(t, "POST", a.client+"/v1/workflows/"+id+"/cancel", nil, asAcme...); r.Status != 202 {
			t.Fatalf("cancel %s: %d %s", id, r.Status, r.Body)
		}
	}
	t.Logf("the raced ids landed in: %v", landed)
}

// race runs one signal-with-start through a against a start through b and
// returns the one region the id landed in.
func race(t *testing.T, a, b replica, id string) string {
	t.Helper()
	var sws, start response
	var swsErr, startErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		sws, swsErr = send("POST", a.client+"/v1/workflows/signal-with-start", swsBody(id, "US", "internal", "raced"), asAcme...)
	})
	wg.Go(func() { start, startErr = send("POST", b.client+"/v1/workflows", longProcessing(id), asAcme...) })
	wg.Wait()
	if swsErr != nil || startErr != nil {
		t.Fatalf("%s: %v, %v", id, swsErr, startErr)
	}
	if got := []int{sws.Status, start.Status}; !slices.Contains(got, 201) || !slices.Contains(got, 200) {
		t.Fatalf("%s: signal-with-start %d %s, start %d %s; want one 201 and one 200", id, sws.Status, sws.Body, start.Status, start.Body)
	}
	s, st := sws.json(t), start.json(t)
	if s["region"] != st["region"] || s["runId"] != st["runId"] {
		t.Fatalf("%s: signal-with-start answered %v, the start %v", id, s, st)
	}
	var in []string
	for _, region := range []string{"us-east", "us-west", "eu-west", "eu-central"} {
		if presentIn(t, region, "acme:"+id) {
			in = append(in, region)
		}
	}
	if len(in) != 1 || in[0] != s["region"] {
		t.Fatalf("%s runs in %v; the replicas said %v", id, in, s["region"])
	}
	poll.Until(t, 20*time.Second, id+" to have its note", func() bool {
		r := do(t, "GET", a.client+"/v1/workflows/"+id+"/queries/getNotes", nil, asAcme...)
		return r.Status == 200 && string(r.Body) == `{"result":["raced"]}`
	})
	return in[0]
}
