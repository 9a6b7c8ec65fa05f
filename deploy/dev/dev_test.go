package dev

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows/codec"
)

// TestDevStackSurvivesItsFailures kills, one at a time, a region's Temporal
// server, Consul and a gateway replica of a make dev CONSUL=1 stack: the rest
// keeps serving, make dev-restart brings each back with its state, and
// stopping up.sh leaves nothing running.
func TestDevStackSurvivesItsFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole dev stack (4 Temporal servers, Consul, 4 workers, 2 gateways); skipped with -short")
	}
	s := startStack(t)
	gw1 := fmt.Sprintf("http://127.0.0.1:%d", s.ports["DEV_GATEWAY_PORTS"][0])
	gw2 := fmt.Sprintf("http://127.0.0.1:%d", s.ports["DEV_GATEWAY2_PORTS"][0])
	kv := fmt.Sprintf("http://127.0.0.1:%d/v1/kv/", s.ports["DEV_CONSUL_PORTS"][0])

	// A German booking lives in eu-west; it finishes before eu-west dies.
	before := mustStart(t, gw1, "before-the-kill", "DE", "eu-west")
	waitCompleted(t, gw1, "before-the-kill", before)

	s.kill9("eu-west")
	mustGet(t, gw1+"/healthz", "")
	mustStart(t, gw1, "while-eu-west-is-down", "US", "us-east")
	s.mustRestart("eu-west")
	waitCompleted(t, gw1, "before-the-kill", before) // eu-west's state survived

	call(t, http.MethodPut, kv+"devstack-test/probe", "still here", http.StatusOK)
	s.kill9("consul")
	mustGet(t, gw1+"/healthz", "")
	s.mustRestart("consul")
	mustGet(t, kv+"devstack-test/probe?raw", "still here")
	mustGet(t, kv+"regiongate/records/"+s.recordKey("before-the-kill")+"?raw", "eu-west")
	waitCompleted(t, gw2, "before-the-kill", before) // replica 2 read the record from Consul
	poll.Until(t, time.Minute, "starts to succeed once Consul is back", func() bool {
		status, _ := start(t, gw1, "after-consul-came-back", "US")
		return status == http.StatusCreated
	})

	s.kill9("gateway-2")
	during := mustStart(t, gw1, "while-gateway-2-is-down", "US", "us-east")
	s.mustRestart("gateway-2")
	waitCompleted(t, gw2, "while-gateway-2-is-down", during)

	for name, want := range map[string]string{
		"nope":    "NAME must be one of: us-east us-west eu-west eu-central worker-us-east",
		"us-east": "us-east is still running",
	} {
		if out, err := s.restart(name); err == nil || !strings.Contains(out, want) {
			t.Errorf("make dev-restart NAME=%s: want a refusal saying %q, got %v:\n%s", name, want, err, out)
		}
	}

	s.stop()
	if out := s.out.String(); !strings.HasSuffix(out, "stopped.\n") {
		t.Errorf("up.sh's last words: want \"stopped.\", got:\n%s", out[max(0, len(out)-500):])
	}
	poll.Until(t, 10*time.Second, "no process of the stack left", func() bool { return len(s.stackPids()) == 0 })
	for _, port := range s.allPorts() {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Errorf("port %d still taken after the stack stopped: %v", port, err)
			continue
		}
		l.Close()
	}
	if out, err := s.restart("eu-west"); err == nil || !strings.Contains(out, "no dev stack is running") {
		t.Errorf("make dev-restart after the stack stopped: want a refusal, got %v:\n%s", err, out)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// call sends body (JSON when it starts with "{") and fails t unless the
// answer has status want (0: any); it returns the status and the body.
func call(t *testing.T, method, url, body string, want int) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		if want != 0 {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want != 0 && resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	return resp.StatusCode, string(b)
}

// mustGet fails t unless url answers 200 with a body holding want.
func mustGet(t *testing.T, url, want string) {
	t.Helper()
	if _, body := call(t, http.MethodGet, url, "", http.StatusOK); !strings.Contains(body, want) {
		t.Fatalf("GET %s: %q, want it to hold %q", url, body, want)
	}
}

// recordKey is the key of id's routing record: keyed by the stack's
// records key, kept in its state dir.
func (s *stack) recordKey(id string) string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.state, "records-keys"))
	if err != nil {
		s.t.Fatal(err)
	}
	keys, err := codec.ParseKeys(string(data))
	if err != nil || len(keys) == 0 {
		s.t.Fatalf("records keys: %v", err)
	}
	rk, err := regions.NewRecordKeys([]regions.RecordKey{{ID: keys[0].ID, Secret: keys[0].Secret}}, false)
	if err != nil {
		s.t.Fatal(err)
	}
	return rk.Key(id)
}

// start asks gateway gw to start a booking for a user in country.
func start(t *testing.T, gw, id, country string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"workflowType":"PropertyBooking","workflowId":%q,"userLocation":%q,"dataClassification":"pii",
		"input":{"propertyId":"p-1","nights":2,"amountCents":30000,"cardToken":"tok_visa"}}`, id, country)
	return call(t, http.MethodPost, gw+"/v1/workflows", body, 0)
}

// mustStart starts a booking that must land in region; it returns its run id.
func mustStart(t *testing.T, gw, id, country, region string) string {
	t.Helper()
	status, body := start(t, gw, id, country)
	var st struct{ RunID, Region string }
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &st) != nil || st.Region != region {
		t.Fatalf("starting %s (%s) through %s: %d %s, want 201 in %s", id, country, gw, status, body, region)
	}
	return st.RunID
}

// waitCompleted waits until gateway gw describes run runID of id as
// completed: a region that just came back may still be behind its breaker.
func waitCompleted(t *testing.T, gw, id, runID string) {
	t.Helper()
	poll.Until(t, time.Minute, id+" described as COMPLETED through "+gw, func() bool {
		status, body := call(t, http.MethodGet, gw+"/v1/workflows/"+id, "", 0)
		var d struct{ RunID, Status string }
		return status == http.StatusOK && json.Unmarshal([]byte(body), &d) == nil &&
			d.RunID == runID && d.Status == "COMPLETED"
	})
}
