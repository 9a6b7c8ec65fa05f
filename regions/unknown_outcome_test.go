package regions_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/faults"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// TestUnknownOutcomeThroughANetworkFault puts a toxiproxy between the
// gateway and eu-west and holds eu-west's answers past the call timeout:
// the start reaches eu-west, the gateway cannot know it. It must answer
// 503 with the workflow id and never start the id in eu-central, however
// often the client retries during the fault; after the fault the retry
// finds the workflow in eu-west, and exactly one cluster holds it.
func TestUnknownOutcomeThroughANetworkFault(t *testing.T) {
	needServers(t)
	var proxy *faults.Proxy
	st := startStack(t, devstack.StackOptions{
		Tune: map[string]devstack.RegionTuning{"eu-west": {CallTimeout: 2 * time.Second}},
		Via: func(region, addr string) (string, error) {
			if region != "eu-west" {
				return addr, nil
			}
			var err error
			proxy, err = faults.StartProxy(region, addr)
			return proxy.Addr, err
		},
	})
	t.Cleanup(proxy.Close)

	// The first starts after the servers come up can be slow on a busy
	// machine; a 503 here is the same unknown outcome, just unplanned.
	poll.Until(t, time.Minute, "a start through the proxy before the fault", func() bool {
		r := startGerman(t, st, uniqueID(t, "warm"))
		if r.Status != 201 && r.Status != 503 {
			t.Fatalf("start before the fault: %d %v", r.Status, r.Body)
		}
		return r.Status == 201 && r.str("region") == "eu-west"
	})

	if err := proxy.HoldResponses(time.Minute); err != nil {
		t.Fatal(err)
	}
	id := uniqueID(t, "held")
	for try := range 2 { // the first start, and a retry while the fault lasts
		r := startGerman(t, st, id)
		if r.Status != 503 || r.str("workflowId") != id || r.RetryAfter == "" || !strings.HasPrefix(r.Type, "application/problem+json") {
			t.Fatalf("try %d during the fault: %d %q %v", try, r.Status, r.RetryAfter, r.Body)
		}
		if got := holders(t, st, id, allRegions...); len(got) > 1 || (len(got) == 1 && got[0] != "eu-west") {
			t.Fatalf("try %d during the fault: %s is in %v", try, id, got)
		}
	}

	proxy.Heal()
	var r reply
	poll.Until(t, 30*time.Second, "the retry to get an answer", func() bool {
		r = startGerman(t, st, id)
		return r.Status != 503
	})
	if (r.Status != 200 && r.Status != 201) || r.str("region") != "eu-west" || r.str("runId") == "" {
		t.Fatalf("retry after the fault: %d %v", r.Status, r.Body)
	}
	t.Logf("retry after the fault: %d (200: the held start had created it)", r.Status)
	if got := holders(t, st, id, allRegions...); !slices.Equal(got, []string{"eu-west"}) {
		t.Fatalf("%s is in %v, want eu-west only", id, got)
	}
	d := call(t, "GET", st.ClientURL+"/v1/workflows/"+url.PathEscape(id), nil)
	if d.Status != 200 || d.str("region") != "eu-west" || d.str("runId") != r.str("runId") {
		t.Fatalf("describe: %d %v", d.Status, d.Body)
	}
}

// TestLazyClientSeesEveryAttemptAndReconnects checks the two things the
// failover rests on, against a real dev server: the attempt interceptor
// sees each of the SDK's retries (not just the last), so a call whose
// attempts were all refused is known never to have been sent; and the
// lazy client reconnects to a region restarted on the same port.
func TestLazyClientSeesEveryAttemptAndReconnects(t *testing.T) {
	needServers(t)
	ctx := context.Background()
	server, err := devstack.StartTemporal(ctx, t.TempDir(), "dev-solo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Stop)
	cfg, err := configs.Parse([]byte(`environment: dev
classifications: [{name: public, resident: false}]
regions: [{name: solo, endpoint: "` + server.Addr + `", residency: [US], callTimeout: 1s}]
`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := regions.NewManager(cfg, regions.Options{ClientOptions: client.Options{Logger: quietLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	r, _ := m.Region("solo")
	_, _, _ = regionsDescribe(ctx, r, "no-such-workflow", false) // the client's first call also asks for the server's capabilities
	tried, sent, err := regionsDescribe(ctx, r, "no-such-workflow", false)
	if !sent || tried != 1 || !isNotFound(err) {
		t.Fatalf("live region: tried %d sent %v err %v", tried, sent, err)
	}

	server.Kill()
	// Until the client has seen its connection close, a request can still
	// be written to the dead socket (and then rightly counts as maybe
	// sent): wait for a health check to fail first.
	deadline := time.Now().Add(10 * time.Second)
	for {
		hctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		_, herr := r.Client().CheckHealth(hctx, &client.CheckHealthRequest{})
		cancel()
		if herr != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client never noticed the killed server")
		}
	}
	tried, sent, err = regionsDescribe(ctx, r, "no-such-workflow", false)
	if sent || tried < 2 || !isUnavailable(err) {
		t.Fatalf("killed region, SDK retrying until the timeout: tried %d sent %v err %v", tried, sent, err)
	}
	t.Logf("killed region: %d attempts in one call, none sent", tried)
	tried, sent, err = regionsDescribe(ctx, r, "no-such-workflow", true)
	if sent || tried != 1 || !isUnavailable(err) {
		t.Fatalf("killed region, fail fast: tried %d sent %v err %v", tried, sent, err)
	}

	if err := server.Start(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	// Asked directly, not through the call path: its breaker is open now
	// and stays so for its openFor, whatever the connection does.
	poll.Until(t, 30*time.Second, "the client to reconnect", func() bool {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := r.Client().CheckHealth(cctx, &client.CheckHealthRequest{})
		return err == nil
	})
	t.Logf("reconnected %s after the restarted server was ready", time.Since(back).Round(10*time.Millisecond))
}
