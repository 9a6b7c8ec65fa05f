package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

func booking(id, location, class string) map[string]any {
	return map[string]any{
		"workflowType": "PropertyBooking", "workflowId": id,
		"userLocation": location, "dataClassification": class,
		"input": map[string]any{"propertyId": "p-42", "nights": 2, "amountCents": 25000, "cardToken": "tok_visa"},
	}
}

func waitStatus(t *testing.T, id, want string) map[string]any {
	t.Helper()
	return waitStatusAs(t, id, want)
}

// waitStatusAs polls a describe sent with the given headers (a tenant's
// credential) until the workflow has the status.
func waitStatusAs(t *testing.T, id, want string, header ...string) map[string]any {
	t.Helper()
	var last map[string]any
	poll.Until(t, 30*time.Second, id+" to be "+want, func() bool {
		r := do(t, "GET", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id), nil, header...)
		if r.Status != 200 {
			t.Fatalf("describe %s: %d %s", id, r.Status, r.Body)
		}
		last = r.json(t)
		return last["status"] == want
	})
	return last
}

// presentIn reports whether the region's cluster has the workflow id.
func presentIn(t *testing.T, region, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := stack.Direct[region].DescribeWorkflow(ctx, id, "")
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		return true
	case errors.As(err, &nf):
		return false
	}
	t.Fatalf("describing %s in %s: %v", id, region, err)
	return false
}

func TestGermanPIILandsAndCompletesInTheEUOnly(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "DE", "pii"))
	if r.Status != http.StatusCreated {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	got := r.json(t)
	if got["region"] != "eu-west" || got["namespace"] != "dev-eu-west" || got["taskQueue"] != "eu-west-PropertyBooking" || got["runId"] == "" {
		t.Fatalf("start response: %v", got)
	}
	d := waitStatus(t, id, "COMPLETED")
	if d["region"] != "eu-west" || d["runId"] != got["runId"] {
		t.Fatalf("describe: %v", d)
	}
	if res, _ := d["result"].(map[string]any); res["status"] != "confirmed" {
		t.Fatalf("result: %v", d["result"])
	}
	if !presentIn(t, "eu-west", id) {
		t.Fatal("not in eu-west's cluster")
	}
	for _, us := range []string{"us-east", "us-west", "eu-central"} {
		if presentIn(t, us, id) {
			t.Fatalf("german pii workflow found in %s", us)
		}
	}
	q := do(t, "GET", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id)+"/queries/getStatus", nil)
	if q.Status != 200 || q.json(t)["result"] != "confirmed" {
		t.Fatalf("query getStatus: %d %s", q.Status, q.Body)
	}
}

func TestRoutingByLocationAndClass(t *testing.T) {
	needStack(t)
	tests := []struct {
		name, location, class string
		status                int
		regions               []string // any of these
	}{
		{"us financial stays in the US", "US", "financial", 201, []string{"us-east", "us-west"}},
		{"canadian pii stays in north america", "CA", "pii", 201, []string{"us-east", "us-west"}},
		{"british pii goes to the EU regions", "GB", "pii", 201, []string{"eu-west", "eu-central"}},
		{"japanese public is accepted", "JP", "public", 201, []string{"us-east", "us-west", "eu-west", "eu-central"}},
		{"japanese pii has no lawful region", "JP", "pii", 422, nil},
		{"brazilian financial has no lawful region", "BR", "financial", 422, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uniqueID(t)
			r := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, tt.location, tt.class))
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if tt.status == 422 {
				checkProblem(t, r, 422)
				for region := range stack.Direct {
					if presentIn(t, region, id) {
						t.Fatalf("refused workflow exists in %s", region)
					}
				}
				return
			}
			region, _ := r.json(t)["region"].(string)
			if !contains(tt.regions, region) || !presentIn(t, region, id) {
				t.Fatalf("landed in %q, want one of %v", region, tt.regions)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestRetryWithSameIDReturnsTheSameRun(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	first := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "FR", "pii"))
	if first.Status != 201 {
		t.Fatalf("first start: %d %s", first.Status, first.Body)
	}
	again := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "FR", "pii"))
	if again.Status != 200 || again.json(t)["runId"] != first.json(t)["runId"] {
		t.Fatalf("retry while running or just done: %d %s (first %s)", again.Status, again.Body, first.Body)
	}
	waitStatus(t, id, "COMPLETED")
	late := do(t, "POST", stack.ClientURL+"/v1/workflows", booking(id, "FR", "pii"))
	if late.Status != 200 || late.json(t)["runId"] != first.json(t)["runId"] {
		t.Fatalf("retry after completion: %d %s", late.Status, late.Body)
	}
}

func TestIdempotencyKeyDerivesTheWorkflowID(t *testing.T) {
	needStack(t)
	body := booking("", "DE", "pii")
	delete(body, "workflowId")
	key := uniqueID(t)
	first := do(t, "POST", stack.ClientURL+"/v1/workflows", body, "Idempotency-Key", key)
	second := do(t, "POST", stack.ClientURL+"/v1/workflows", body, "Idempotency-Key", key)
	if first.Status != 201 || second.Status != 200 {
		t.Fatalf("statuses %d then %d: %s %s", first.Status, second.Status, first.Body, second.Body)
	}
	if first.json(t)["workflowId"] != second.json(t)["workflowId"] {
		t.Fatalf("ids differ: %s vs %s", first.Body, second.Body)
	}
	other := do(t, "POST", stack.ClientURL+"/v1/workflows", body)
	if other.Status != 201 || other.json(t)["workflowId"] == first.json(t)["workflowId"] {
		t.Fatalf("without a key the gateway must generate a fresh id: %d %s", other.Status, other.Body)
	}
}

func TestBadRequestsGetProblems(t *testing.T) {
	needStack(t)
	valid := `{"workflowType":"PropertyBooking","userLocation":"DE","dataClassification":"pii"`
	tests := []struct {
		name, body string
		status     int
		detail     string
	}{
		{"malformed JSON", `{"workflowType":`, 400, "malformed"},
		{"not an object", `[1,2]`, 400, "malformed"},
		{"unknown field", valid + `,"colour":"red"}`, 400, "colour"},
		{"trailing data", valid + `}{}`, 400, "after"},
		{"bad country code", `{"workflowType":"PropertyBooking","userLocation":"XX","dataClassification":"pii"}`, 400, "country"},
		{"lower case country", `{"workflowType":"PropertyBooking","userLocation":"de","dataClassification":"pii"}`, 400, "country"},
		{"unknown classification", `{"workflowType":"PropertyBooking","userLocation":"DE","dataClassification":"secret"}`, 400, "classification"},
		{"unknown priority", valid + `,"priority":"urgent"}`, 400, "priority"},
		{"unknown workflow type", `{"workflowType":"Nope","userLocation":"DE","dataClassification":"pii"}`, 400, "workflowType"},
		{"input not an object", valid + `,"input":[1]}`, 400, "input"},
		{"body over the limit", valid + `,"input":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`, 413, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "POST", stack.ClientURL+"/v1/workflows", tt.body)
			p := checkProblem(t, r, tt.status)
			if !strings.Contains(strings.ToLower(p["detail"].(string)), strings.ToLower(tt.detail)) {
				t.Fatalf("detail %q does not mention %q", p["detail"], tt.detail)
			}
		})
	}
}

func checkProblem(t *testing.T, r response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q", ct)
	}
	p := r.json(t)
	for _, f := range []string{"type", "title", "detail"} {
		if s, _ := p[f].(string); s == "" {
			t.Fatalf("problem without %s: %s", f, r.Body)
		}
	}
	if p["status"] != float64(status) {
		t.Fatalf("problem status %v", p["status"])
	}
	return p
}

func TestIsolatedTenantGetsItsOwnNamespace(t *testing.T) {
	needStack(t)
	id := uniqueID(t)
	b := booking(id, "DE", "pii")
	b["tenant"] = "northwind"
	northwind := []string{"Authorization", "Bearer dev-client-northwind"}
	r := do(t, "POST", stack.ClientURL+"/v1/workflows", b, northwind...)
	if r.Status != 201 || r.json(t)["namespace"] != "dev-eu-west-northwind" || r.json(t)["region"] != "eu-west" {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	// Lookups name no namespace: the routing record says which.
	d := waitStatusAs(t, id, "COMPLETED", northwind...)
	if d["namespace"] != "dev-eu-west-northwind" {
		t.Fatalf("describe: %v", d)
	}
	if q := do(t, "GET", stack.ClientURL+"/v1/workflows/"+url.PathEscape(id)+"/queries/getStatus", nil, northwind...); q.Status != 200 {
		t.Fatalf("query: %d %s", q.Status, q.Body)
	}
	if presentIn(t, "eu-west", "northwind:"+id) {
		t.Fatal("the isolated tenant's workflow is in the region's shared namespace")
	}
	if again := do(t, "POST", stack.ClientURL+"/v1/workflows", b, northwind...); again.Status != 200 || again.json(t)["runId"] != r.json(t)["runId"] {
		t.Fatalf("retry: %d %s", again.Status, again.Body)
	}
}

// TestBadPathNamesAreRefusedBeforeAnyRegion: ids and names in paths meet
// the rules of ids in bodies, checked before any region is asked (a 200 KB
// id used to fan out to every region and answer 503; now the listener's
// header cap refuses it before any handler, 431).
func TestBadPathNamesAreRefusedBeforeAnyRegion(t *testing.T) {
	needStack(t)
	if r := do(t, "GET", stack.ClientURL+"/v1/workflows/"+strings.Repeat("a", 200<<10), nil); r.Status != 431 {
		t.Fatalf("a 200 KB id: %d, want 431 from the header cap", r.Status)
	}
	long := strings.Repeat("a", 20<<10) // under the header cap, far over an id's limit
	for _, tt := range []struct{ name, method, path, detail string }{
		{"a 20 KB id", "GET", "/v1/workflows/" + long, "workflowId"},
		{"an id one byte over", "GET", "/v1/workflows/" + strings.Repeat("b", 256), "workflowId"},
		{"a control character in the id", "GET", "/v1/workflows/a%01b", "workflowId"},
		{"a long id to cancel", "POST", "/v1/workflows/" + long + "/cancel", "workflowId"},
		{"a long query name", "GET", "/v1/workflows/wf-1/queries/" + strings.Repeat("q", 300), "query name"},
		{"a control character in a signal name", "POST", "/v1/workflows/wf-1/signals/a%7Fb", "signal name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := checkProblem(t, do(t, tt.method, stack.ClientURL+tt.path, nil), 400)
			if !strings.Contains(p["detail"].(string), tt.detail) {
				t.Fatalf("detail %q does not name the %s", p["detail"], tt.detail)
			}
		})
	}
}

// TestBrowserRequestsAcrossOrigins: a cross-site "simple" POST (form or
// text/plain, no preflight) cannot reach routing, and a cross-origin
// request from an origin not allowed is refused; the same request from
// curl or a server passes.
func TestBrowserRequestsAcrossOrigins(t *testing.T) {
	needStack(t)
	body := `{"workflowType":"PropertyBooking","userLocation":"JP","dataClassification":"pii"}`
	for _, tt := range []struct {
		name   string
		header []string
		status int
	}{
		{"form post", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"text/plain post", []string{"Content-Type", "text/plain"}, 415},
		{"no content type", []string{"Content-Type", ""}, 415},
		{"json with a charset reaches routing", []string{"Content-Type", "application/json; charset=utf-8"}, 422},
		{"another site's page", []string{"Origin", "https://evil.example"}, 403},
		{"the listener's own origin", []string{"Origin", stack.ClientURL}, 422},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkProblem(t, do(t, "POST", stack.ClientURL+"/v1/workflows", body, tt.header...), tt.status)
		})
	}
	pre := do(t, "OPTIONS", stack.ClientURL+"/v1/workflows", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if pre.Status != 403 || pre.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from a refused origin: %d, allow-origin %q", pre.Status, pre.Header.Get("Access-Control-Allow-Origin"))
	}
}
