package regions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/log"

	"github.com/regiongate/regiongate/gateway/openapi"
	"github.com/regiongate/regiongate/internal/testkit/apicheck"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// needServers skips end-to-end tests under -short.
func needServers(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts real Temporal dev servers (skipped under -short)")
	}
}

// startStack starts this test's own stack: tests here kill servers, so
// they share none.
func startStack(t *testing.T, opts devstack.StackOptions) *devstack.Stack {
	t.Helper()
	dir, err := os.MkdirTemp("", "regiongate-failover-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := devstack.StartStackWith(ctx, dir, opts)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(func() { st.Close(); os.RemoveAll(dir) })
	return st
}

// reply is one HTTP answer.
type reply struct {
	Status     int
	RetryAfter string
	Type       string // Content-Type
	Body       map[string]any
}

func (r reply) str(key string) string { s, _ := r.Body[key].(string); return s }

var httpClient = &http.Client{Timeout: time.Minute}

// documents holds every answer do gets to the gateway's OpenAPI documents.
var documents = func() *apicheck.Gateway {
	g, err := apicheck.NewGateway(openapi.Client(), openapi.Admin())
	if err != nil {
		panic(err)
	}
	return g
}()

func call(t *testing.T, method, url string, body any, header ...string) reply {
	t.Helper()
	r, err := do(method, url, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// do is call for goroutines other than the test's: it reports instead of
// failing the test. An answer that does not match the listener's OpenAPI
// document is an error.
func do(method, url string, body any, header ...string) (reply, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	r := reply{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Type: resp.Header.Get("Content-Type")}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, err
	}
	if err := documents.Check(req, resp.StatusCode, resp.Header, data); err != nil {
		return r, fmt.Errorf("OpenAPI: %w", err)
	}
	if err := json.Unmarshal(data, &r.Body); err != nil {
		return r, fmt.Errorf("%s %s: %d, body is not a JSON object: %s", method, url, r.Status, data)
	}
	return r, nil
}

// germanBooking is resident data of a German user: EU regions only.
func germanBooking(id string) map[string]any {
	return map[string]any{
		"workflowType": "PropertyBooking", "workflowId": id,
		"userLocation": "DE", "dataClassification": "pii",
		"input": map[string]any{"propertyId": "p-7", "nights": 1, "amountCents": 9000, "cardToken": "tok_visa"},
	}
}

func startGerman(t *testing.T, st *devstack.Stack, id string) reply {
	t.Helper()
	return call(t, "POST", st.ClientURL+"/v1/workflows", germanBooking(id))
}

// regionView is one region in GET /admin/v1/regions.
type regionView struct {
	Name    string `json:"name"`
	State   string `json:"state"`
	Breaker string `json:"breaker"`
	Healthy bool   `json:"healthy"`
}

func adminRegion(t *testing.T, st *devstack.Stack, name string) regionView {
	t.Helper()
	r := call(t, "GET", st.AdminURL+"/admin/v1/regions", nil, "Authorization", "Bearer dev-viewer")
	if r.Status != 200 {
		t.Fatalf("GET /admin/v1/regions: %d %v", r.Status, r.Body)
	}
	data, _ := json.Marshal(r.Body["regions"])
	var views []regionView
	if err := json.Unmarshal(data, &views); err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no region %s in %v", name, r.Body)
	return regionView{}
}

// allRegions are the dev stack's regions.
var allRegions = []string{"us-east", "us-west", "eu-west", "eu-central"}

// holders lists which of the given regions' clusters have the workflow id,
// asking each directly, not through the gateway.
func holders(t *testing.T, st *devstack.Stack, id string, among ...string) []string {
	t.Helper()
	var out []string
	for _, region := range among {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := st.Direct[region].DescribeWorkflow(ctx, id, "")
		cancel()
		switch {
		case err == nil:
			out = append(out, region)
		case !isNotFound(err):
			t.Fatalf("describing %s in %s: %v", id, region, err)
		}
	}
	return out
}

// changes records the gateway's region state changes, with when each
// was heard.
type changes struct {
	mu  sync.Mutex
	all []regions.StateChange
	at  []time.Time
}

func (c *changes) add(sc regions.StateChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, sc)
	c.at = append(c.at, time.Now())
}

// breaker lists a region's breaker transitions so far, as "from->to".
func (c *changes) breaker(region string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, sc := range c.all {
		if sc.Region == region && sc.What == "breaker" {
			out = append(out, sc.From+"->"+sc.To)
		}
	}
	return out
}

// when returns when a region first made the transition; zero if never.
func (c *changes) when(region, what, from, to string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, sc := range c.all {
		if sc == (regions.StateChange{Region: region, What: what, From: from, To: to}) {
			return c.at[i]
		}
	}
	return time.Time{}
}

func uniqueID(t *testing.T, suffix string) string {
	return fmt.Sprintf("%s-%d-%s", t.Name(), time.Now().UnixNano(), suffix)
}

var regionsDescribe = regions.DescribeAttempts

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

func isUnavailable(err error) bool { return errors.Is(err, regions.ErrUnavailable) }

func quietLogger() log.Logger { return log.NewStructuredLogger(slog.New(slog.DiscardHandler)) }
