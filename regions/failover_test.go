package regions_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// start is one start the traffic sent.
type start struct {
	id    string
	sent  time.Time
	took  time.Duration
	reply reply
	err   error
}

// Bounds of the stream of starts while eu-west is killed.
const (
	trafficWorkers = 3
	maxStarts      = 150
	maxTraffic     = time.Minute
	afterOpen      = 10 // starts sent after the breaker opened, then stop
)

// TestKillingARegionUnderTraffic kills eu-west with kill -9 while German
// resident starts stream in: its breaker opens, the starts move to
// eu-central and none goes to the US; with both EU regions down the answer
// is 503 with Retry-After; after a restart the breaker goes half-open, then
// closed, and starts return to eu-west. The starts whose outcome was
// unknown when eu-west died are found there by the client's retry, and
// every workflow id is in exactly one cluster.
func TestKillingARegionUnderTraffic(t *testing.T) {
	needServers(t)
	seen := &changes{}
	tune := devstack.RegionTuning{Breaker: configs.Breaker{OpenFor: configs.Duration(2 * time.Second)}}
	st := startStack(t, devstack.StackOptions{
		Tune:          map[string]devstack.RegionTuning{"eu-west": tune, "eu-central": tune},
		OnStateChange: seen.add,
	})
	warmUp(t, st)

	starts, killedAt := killUnderTraffic(t, st, seen)
	openedAt := seen.when("eu-west", "breaker", "closed", "open")
	if openedAt.IsZero() {
		t.Fatalf("eu-west's breaker never opened; transitions %v", seen.breaker("eu-west"))
	}
	t.Logf("breaker opened %s after kill -9", openedAt.Sub(killedAt).Round(time.Millisecond))
	where := checkStarts(t, st, starts, killedAt, openedAt)

	// The gateway's health checks (the stack runs serve's) notice too, and
	// keep eu-west out of rotation.
	poll.Until(t, 30*time.Second, "eu-west to be marked unhealthy", func() bool { return !adminRegion(t, st, "eu-west").Healthy })

	refused := bothEUDown(t, st)
	euWestReturns(t, st, seen, where)

	if err := st.Temporal["eu-central"].Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "eu-central to be healthy again", func() bool { return adminRegion(t, st, "eu-central").Healthy })
	for id, region := range where {
		if got := holders(t, st, id, allRegions...); !slices.Equal(got, []string{region}) {
			t.Errorf("%s is in %v, want %s only", id, got, region)
		}
		d := call(t, "GET", st.ClientURL+"/v1/workflows/"+url.PathEscape(id), nil)
		if d.Status != 200 || d.str("region") != region {
			t.Errorf("GET %s: %d %v, want region %s", id, d.Status, d.Body, region)
		}
	}
	for _, id := range refused {
		if got := holders(t, st, id, allRegions...); len(got) > 0 {
			t.Errorf("%s was refused with 503 but is in %v", id, got)
		}
	}
}

// warmUp makes a first start in eu-central (eu-west drained) and in
// eu-west: the first starts after the servers come up are slow, and would
// blur what the failover itself costs.
func warmUp(t *testing.T, st *devstack.Stack) {
	for _, w := range []struct{ drain, region string }{{"drain", "eu-central"}, {"restore", "eu-west"}} {
		r := call(t, "POST", st.AdminURL+"/admin/v1/regions/eu-west/"+w.drain, nil, "Authorization", "Bearer dev-operator")
		if r.Status != 200 {
			t.Fatalf("%s eu-west: %d %v", w.drain, r.Status, r.Body)
		}
		poll.Until(t, time.Minute, "a German start to land in "+w.region, func() bool {
			r := startGerman(t, st, uniqueID(t, "warm"))
			return r.Status == 201 && r.str("region") == w.region
		})
	}
}

// killUnderTraffic streams German starts from a few goroutines, kills
// eu-west once they flow, and stops afterOpen starts after eu-west's
// breaker opened, or at maxStarts or maxTraffic.
func killUnderTraffic(t *testing.T, st *devstack.Stack, seen *changes) ([]start, time.Time) {
	var mu sync.Mutex
	var starts []start
	deadline := time.Now().Add(maxTraffic)
	enough := func() bool {
		mu.Lock()
		defer mu.Unlock()
		opened := seen.when("eu-west", "breaker", "closed", "open")
		n := 0
		for _, s := range starts {
			if !opened.IsZero() && s.sent.After(opened) {
				n++
			}
		}
		return n >= afterOpen || len(starts) >= maxStarts || time.Now().After(deadline)
	}
	var wg sync.WaitGroup
	for w := range trafficWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !enough(); i++ {
				s := start{id: uniqueID(t, fmt.Sprintf("w%d-%d", w, i)), sent: time.Now()}
				s.reply, s.err = do("POST", st.ClientURL+"/v1/workflows", germanBooking(s.id))
				s.took = time.Since(s.sent)
				mu.Lock()
				starts = append(starts, s)
				mu.Unlock()
			}
		}()
	}
	poll.Until(t, 30*time.Second, "traffic to flow", func() bool { mu.Lock(); defer mu.Unlock(); return len(starts) >= 2*trafficWorkers })
	killedAt := time.Now()
	st.Temporal["eu-west"].Kill()
	wg.Wait()
	return starts, killedAt
}

// checkStarts checks every answer of the stream and returns, for each id
// known to be started, its region; ids answered 503 are retried later.
func checkStarts(t *testing.T, st *devstack.Stack, starts []start, killedAt, openedAt time.Time) map[string]string {
	where := map[string]string{}
	var failover []time.Duration
	unknown := 0
	for _, s := range starts {
		r := s.reply
		switch {
		case s.err != nil:
			t.Fatalf("start %s: %v", s.id, s.err)
		case r.Status == 201 && (r.str("region") == "eu-west" || r.str("region") == "eu-central"):
			where[s.id] = r.str("region")
		case r.Status == 503 && r.str("workflowId") == s.id && r.RetryAfter != "":
			unknown++ // in flight when eu-west died
		default:
			t.Fatalf("start %s: %d %q %v", s.id, r.Status, r.RetryAfter, r.Body)
		}
		if s.sent.After(openedAt) && where[s.id] != "eu-central" {
			t.Errorf("start %s sent after the breaker opened: %d %v", s.id, r.Status, r.Body)
		}
		if s.sent.After(killedAt) && where[s.id] == "eu-central" {
			failover = append(failover, s.took)
		}
		if got := holders(t, st, s.id, "us-east", "us-west"); len(got) > 0 {
			t.Errorf("German resident data %s started in %v", s.id, got)
		}
		if where[s.id] == "eu-central" && !slices.Equal(holders(t, st, s.id, "eu-central"), []string{"eu-central"}) {
			t.Errorf("%s answered eu-central but is not there", s.id)
		}
	}
	slices.Sort(failover)
	if len(failover) == 0 {
		t.Fatal("no start failed over to eu-central")
	}
	t.Logf("%d starts: %d failed over to eu-central (latency median %s, max %s), %d answered 503 (outcome unknown)",
		len(starts), len(failover), failover[len(failover)/2].Round(time.Millisecond),
		failover[len(failover)-1].Round(time.Millisecond), unknown)
	for _, s := range starts {
		if _, ok := where[s.id]; !ok {
			where[s.id] = "" // to retry once eu-west is back
		}
	}
	return where
}

// bothEUDown: with eu-central killed too, German resident data has no
// region left; the gateway refuses with 503 and Retry-After, and sends
// nothing to the US.
func bothEUDown(t *testing.T, st *devstack.Stack) (refused []string) {
	st.Temporal["eu-central"].Kill()
	for i := range 2 { // the first finds out by trying, the second from the snapshot
		id := uniqueID(t, "eu-down-"+strconv.Itoa(i))
		r := startGerman(t, st, id)
		retry, err := strconv.Atoi(r.RetryAfter)
		if r.Status != 503 || err != nil || retry <= 0 || !strings.HasPrefix(r.Type, "application/problem+json") {
			t.Fatalf("German start with both EU regions down: %d Retry-After %q %s %v", r.Status, r.RetryAfter, r.Type, r.Body)
		}
		if got := holders(t, st, id, "us-east", "us-west"); len(got) > 0 {
			t.Fatalf("German resident data %s started in %v", id, got)
		}
		refused = append(refused, id)
		poll.Until(t, 30*time.Second, "eu-central to be marked unhealthy", func() bool { return !adminRegion(t, st, "eu-central").Healthy })
	}
	return refused
}

// euWestReturns restarts eu-west on its port and state file: once healthy
// its breaker is half-open, the next start probes and closes it, and the
// starts whose outcome was unknown are found there by the client's retry.
func euWestReturns(t *testing.T, st *devstack.Stack, seen *changes, where map[string]string) {
	restarted := time.Now()
	if err := st.Temporal["eu-west"].Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "eu-west healthy with its breaker half-open", func() bool {
		v := adminRegion(t, st, "eu-west")
		return v.Healthy && v.Breaker == "half-open"
	})
	t.Logf("eu-west healthy and half-open %s after its server was back", time.Since(restarted).Round(time.Millisecond))
	id := uniqueID(t, "back")
	if r := startGerman(t, st, id); r.Status != 201 || r.str("region") != "eu-west" {
		t.Fatalf("German start after eu-west returned: %d %v", r.Status, r.Body)
	}
	where[id] = "eu-west"
	if v := adminRegion(t, st, "eu-west"); v.Breaker != "closed" {
		t.Fatalf("breaker %s after a successful probe", v.Breaker)
	}
	got := seen.breaker("eu-west")
	if len(got) < 3 || got[0] != "closed->open" || got[len(got)-2] != "open->half-open" || got[len(got)-1] != "half-open->closed" {
		t.Fatalf("eu-west breaker transitions %v", got)
	}
	found := map[int]int{}
	for id, region := range where {
		if region != "" {
			continue
		}
		r := startGerman(t, st, id)
		if (r.Status != 200 && r.Status != 201) || r.str("region") != "eu-west" {
			t.Fatalf("retry of %s, whose outcome was unknown: %d %v", id, r.Status, r.Body)
		}
		where[id] = "eu-west"
		found[r.Status]++
	}
	t.Logf("retries of unknown outcomes: %d had reached eu-west before it died (200), %d had not (201)", found[200], found[201])
}
