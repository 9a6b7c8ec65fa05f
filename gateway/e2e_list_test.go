package gateway_test

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// listPage asks GET /v1/workflows with the parameters.
func listPage(t *testing.T, params url.Values, header ...string) response {
	t.Helper()
	return do(t, "GET", stack.ClientURL+"/v1/workflows?"+params.Encode(), nil, header...)
}

type listed struct {
	ids     []string // in the order listed, across pages
	rows    map[string]map[string]any
	missing []string
	pages   int
}

// listAll follows nextPageToken to the end, checking every page's bounds.
func listAll(t *testing.T, params url.Values, header ...string) listed {
	t.Helper()
	out := listed{rows: map[string]map[string]any{}}
	size, _ := strconv.Atoi(params.Get("pageSize"))
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	for {
		r := listPage(t, p, header...)
		if r.Status != 200 {
			t.Fatalf("list %v: %d %s", p, r.Status, r.Body)
		}
		body := r.json(t)
		out.pages++
		ws := body["workflows"].([]any)
		if size > 0 && len(ws) > size {
			t.Fatalf("a page of %d workflows for pageSize %d", len(ws), size)
		}
		for _, w := range ws {
			row := w.(map[string]any)
			id := row["workflowId"].(string)
			out.ids = append(out.ids, id)
			out.rows[id] = row
		}
		for _, m := range body["missingRegions"].([]any) {
			out.missing = append(out.missing, m.(string))
		}
		next, _ := body["nextPageToken"].(string)
		if next == "" {
			return out
		}
		p.Set("pageToken", next)
	}
}

// since lists what was started after t0, in pages of size.
func since(t0 time.Time, size int, more ...string) url.Values {
	v := url.Values{"startedAfter": {t0.UTC().Format(time.RFC3339Nano)}, "pageSize": {strconv.Itoa(size)}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Set(more[i], more[i+1])
	}
	return v
}

func startAs(t *testing.T, id, location string, header ...string) {
	t.Helper()
	b := longProcessing(id)
	b["userLocation"] = location
	if r := do(t, "POST", stack.ClientURL+"/v1/workflows", b, header...); r.Status != 201 {
		t.Fatalf("start %s: %d %s", id, r.Status, r.Body)
	}
	t.Cleanup(func() { do(t, "POST", workflowURL(id)+"/cancel", nil, header...) })
}

// waitListed polls until the listing holds exactly n workflows (the
// regions' visibility stores are updated shortly after a start).
func waitListed(t *testing.T, params url.Values, n int, header ...string) listed {
	t.Helper()
	var got listed
	poll.Until(t, 20*time.Second, strconv.Itoa(n)+" workflows listed", func() bool {
		got = listAll(t, params, header...)
		return len(got.ids) >= n
	})
	if len(got.ids) != n {
		t.Fatalf("listed %v, want %d workflows", got.ids, n)
	}
	return got
}

func TestListShowsOnlyTheCallersWorkflows(t *testing.T) {
	needStack(t)
	t0 := time.Now()
	id := uniqueID(t)
	ids := []string{id + "-1", id + "-2", id + "-3", id + "-4", id + "-5"}
	for i, w := range ids {
		startAs(t, w, []string{"US", "US", "US", "DE", "DE"}[i], asAcme...)
	}
	startAs(t, ids[0], "US", asGlobex...)
	startAs(t, ids[1], "DE", asGlobex...)
	startAs(t, id+"-n", "US", asNorthwind...)
	startAs(t, id+"-anon", "US")

	// Newest first across regions, each exactly once, in pages of two.
	acme := waitListed(t, since(t0, 2), 5, asAcme...)
	if want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}; !slices.Equal(acme.ids, want) || acme.pages != 3 {
		t.Fatalf("acme's listing %v in %d pages, want %v in 3", acme.ids, acme.pages, want)
	}
	for i, w := range ids {
		row, region := acme.rows[w], []string{"us-east", "us-east", "us-east", "eu-west", "eu-west"}[i]
		if row["region"] != region || row["namespace"] != "dev-"+region || row["status"] != "RUNNING" || row["workflowType"] != "DataProcessing" || row["runId"] == "" {
			t.Fatalf("acme's %s: %v", w, row)
		}
	}
	if got := waitListed(t, since(t0, 50), 2, asGlobex...); !slices.Equal(got.ids, []string{ids[1], ids[0]}) || got.rows[ids[1]]["region"] != "eu-west" {
		t.Fatalf("globex's listing: %v", got.rows)
	}
	if got := waitListed(t, since(t0, 50), 1, asNorthwind...); got.ids[0] != id+"-n" || got.rows[id+"-n"]["namespace"] == "dev-us-east" {
		t.Fatalf("northwind's listing: %v", got.rows)
	}
	if got := waitListed(t, since(t0, 50), 1); got.ids[0] != id+"-anon" {
		t.Fatalf("the anonymous listing: %v", got.ids)
	}

	// Filters.
	for _, f := range []url.Values{
		since(t0, 50, "workflowType", "PropertyBooking"),
		since(t0, 50, "status", "COMPLETED"),
		since(t0.Add(-time.Hour), 50, "startedBefore", t0.UTC().Format(time.RFC3339Nano), "workflowType", "DataProcessing"),
	} {
		for _, w := range listAll(t, f, asAcme...).ids {
			if slices.Contains(ids, w) {
				t.Fatalf("filter %v lists %s", f, w)
			}
		}
	}
	if r := do(t, "POST", workflowURL(ids[2])+"/cancel", nil, asAcme...); r.Status != 202 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if got := waitListed(t, since(t0, 50, "status", "CANCELED"), 1, asAcme...); got.ids[0] != ids[2] || got.rows[ids[2]]["closeTime"] == nil {
		t.Fatalf("acme's canceled: %v", got.rows)
	}
}

func TestListRefusesBadParametersAndForeignTokens(t *testing.T) {
	needStack(t)
	t0 := time.Now()
	id := uniqueID(t)
	startAs(t, id+"-1", "US", asAcme...)
	startAs(t, id+"-2", "DE", asAcme...)
	waitListed(t, since(t0, 1), 2, asAcme...)
	first := listPage(t, since(t0, 1), asAcme...)
	token, _ := first.json(t)["nextPageToken"].(string)
	if first.Status != 200 || token == "" {
		t.Fatalf("first page: %d %s", first.Status, first.Body)
	}
	withToken := since(t0, 1, "pageToken", token)
	if r := listPage(t, withToken, asAcme...); r.Status != 200 {
		t.Fatalf("the second page: %d %s", r.Status, r.Body)
	}
	bad := []struct {
		params url.Values
		header []string
	}{
		{withToken, asGlobex}, // another tenant's token
		{since(t0, 1, "pageToken", token, "status", "RUNNING"), asAcme}, // other filters
		{since(t0, 1, "pageToken", token[:len(token)-2]), asAcme},
		{since(t0, 1, "pageToken", "x"+token), asAcme},
		{since(t0, 0), asAcme},
		{since(t0, 501), asAcme},
		{since(t0, 1, "status", "running"), asAcme},
		{since(t0, 1, "workflowType", "NoSuchWorkflow"), asAcme},
		{since(t0, 1, "startedBefore", "yesterday"), asAcme},
		{since(t0, 1, "startedBefore", t0.Add(-time.Minute).UTC().Format(time.RFC3339)), asAcme},
		{since(t0, 1, "workflowtype", "DataProcessing"), asAcme},
		{url.Values{"pageSize": {"1", "2"}}, asAcme},
	}
	for _, b := range bad {
		checkProblem(t, listPage(t, b.params, b.header...), 400)
	}
}

// TestListWithARegionDown: a region that cannot be asked is named in
// missingRegions and the page is served from the rest; its workflows are
// not lost, only late: the next page asks it again from where it was.
func TestListWithARegionDown(t *testing.T) {
	needStack(t)
	t0 := time.Now()
	id := uniqueID(t)
	startAs(t, id+"-east", "US", asAcme...)
	startAs(t, id+"-west", "DE", asAcme...)
	// One in eu-central, started there directly (nobody runs it).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	central := stack.Direct["eu-central"]
	if _, err := central.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "acme:" + id + "-central", TaskQueue: "nobody-polls-this"}, "DataProcessing"); err != nil {
		t.Fatal(err)
	}
	defer central.TerminateWorkflow(context.Background(), "acme:"+id+"-central", "", "test over")
	waitListed(t, since(t0, 1), 3, asAcme...)

	stack.Temporal["eu-central"].Kill()
	back := false
	restart := func() {
		if err := stack.Temporal["eu-central"].Start(ctx); err != nil {
			t.Fatal(err)
		}
		back = true
	}
	// Whatever happens here, the shared stack gets its region back.
	defer func() {
		if !back {
			restart()
		}
		waitRegionServes(t, "eu-central")
	}()
	p := since(t0, 1)
	var pages []map[string]any
	for range 2 {
		r := listPage(t, p, asAcme...)
		if r.Status != 200 {
			t.Fatalf("a page with eu-central down: %d %s", r.Status, r.Body)
		}
		body := r.json(t)
		if !slices.Equal(body["missingRegions"].([]any), []any{"eu-central"}) || len(body["workflows"].([]any)) != 1 {
			t.Fatalf("a page with eu-central down: %s", r.Body)
		}
		pages = append(pages, body)
		p.Set("pageToken", body["nextPageToken"].(string))
	}
	for i, want := range []string{id + "-west", id + "-east"} {
		if got := pages[i]["workflows"].([]any)[0].(map[string]any)["workflowId"]; got != want {
			t.Fatalf("page %d lists %v, want %s", i+1, got, want)
		}
	}
	// Only eu-central is left, and it cannot be asked: that is no page.
	down := checkProblem(t, listPage(t, p, asAcme...), 503)
	if !slices.Equal(down["missingRegions"].([]any), []any{"eu-central"}) || down["type"] != problemBase+"region-unreachable" {
		t.Fatalf("only a missing region left: %v", down)
	}

	restart()
	// The same token, once eu-central is back, lists what it holds.
	var last response
	poll.Until(t, time.Minute, "eu-central to answer the listing again", func() bool {
		last = listPage(t, p, asAcme...)
		return last.Status == 200
	})
	body := last.json(t)
	ws := body["workflows"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["workflowId"] != id+"-central" || ws[0].(map[string]any)["region"] != "eu-central" || len(body["missingRegions"].([]any)) != 0 {
		t.Fatalf("the last page once eu-central is back: %s", last.Body)
	}
}

// waitRegionServes waits until the gateway routes to the region again:
// healthy, breaker closed.
func waitRegionServes(t *testing.T, name string) {
	t.Helper()
	poll.Until(t, time.Minute, name+" back in service", func() bool {
		r := do(t, "GET", stack.AdminURL+"/admin/v1/regions", nil, "Authorization", "Bearer dev-viewer")
		for _, x := range r.json(t)["regions"].([]any) {
			if m := x.(map[string]any); m["name"] == name {
				return m["healthy"] == true && m["breaker"] == "closed"
			}
		}
		return false
	})
}
