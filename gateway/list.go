package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
)

// Page sizes of GET /v1/workflows.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// listParams are the query parameters GET /v1/workflows reads; any other
// is a 400, so a misspelt filter never silently lists everything.
var listParams = map[string]bool{
	"workflowType": true, "status": true, "startedAfter": true, "startedBefore": true,
	"pageSize": true, "pageToken": true,
}

// visibilityStatus is each status of the API as Temporal's visibility
// queries name it.
var visibilityStatus = map[string]string{
	"RUNNING": "Running", "COMPLETED": "Completed", "FAILED": "Failed", "CANCELED": "Canceled",
	"TERMINATED": "Terminated", "CONTINUED_AS_NEW": "ContinuedAsNew", "TIMED_OUT": "TimedOut",
}

// ListedWorkflow is one run in a list answer; WorkflowID is the caller's.
type ListedWorkflow struct {
	WorkflowID   string     `json:"workflowId"`
	RunID        string     `json:"runId"`
	WorkflowType string     `json:"workflowType"`
	Region       string     `json:"region"`
	Namespace    string     `json:"namespace"`
	Status       string     `json:"status"`
	StartTime    time.Time  `json:"startTime"`
	CloseTime    *time.Time `json:"closeTime,omitempty"`
}

// ListAnswer is the body of GET /v1/workflows.
type ListAnswer struct {
	Workflows     []ListedWorkflow `json:"workflows"`
	NextPageToken string           `json:"nextPageToken,omitempty"`
	// MissingRegions could not be asked: the page lacks their workflows,
	// and the next page asks them again from where they were.
	MissingRegions []string `json:"missingRegions"`
}

// listQuery is the visibility query of a listing: the caller's scope and
// filters. In a shared namespace a tenant's workflows are those whose id
// starts "<tenant>:" (router.TenantWorkflowID); anonymous callers' ids
// have no ':', which no query can say, so theirs are kept after the
// regions answer (ownedBy).
func (s *Server) listQuery(q url.Values, tenant string) (string, error) {
	var parts []string
	if tenant != "" {
		// Tenant names are lower-case letters, digits and '-': nothing to escape.
		parts = append(parts, fmt.Sprintf("WorkflowId STARTS_WITH '%s'", router.TenantWorkflowID(tenant, "")))
	}
	if t := q.Get("workflowType"); t != "" {
		if !s.types[t] {
			return "", fmt.Errorf("unknown workflowType %q", t)
		}
		parts = append(parts, fmt.Sprintf("WorkflowType = '%s'", t))
	}
	if st := q.Get("status"); st != "" {
		v, ok := visibilityStatus[st]
		if !ok {
			return "", fmt.Errorf("unknown status %q (RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, CONTINUED_AS_NEW, TIMED_OUT)", st)
		}
		parts = append(parts, fmt.Sprintf("ExecutionStatus = '%s'", v))
	}
	var after, before time.Time
	for _, f := range []struct {
		param, op string
		at        *time.Time
	}{{"startedAfter", ">", &after}, {"startedBefore", "<", &before}} {
		v := q.Get(f.param)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return "", fmt.Errorf("%s must be an RFC 3339 time such as 2025-01-02T15:04:05Z", f.param)
		}
		*f.at = t
		parts = append(parts, fmt.Sprintf("StartTime %s '%s'", f.op, t.UTC().Format(time.RFC3339Nano)))
	}
	if !after.IsZero() && !before.IsZero() && !after.Before(before) {
		return "", errors.New("startedAfter must be before startedBefore")
	}
	return strings.Join(parts, " AND "), nil
}

// pageSizeOf reads pageSize: 1 to maxPageSize, defaultPageSize if absent.
func pageSizeOf(q url.Values) (int, error) {
	v := q.Get("pageSize")
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, fmt.Errorf("pageSize must be a whole number from 1 to %d", maxPageSize)
	}
	return n, nil
}

// listRequest turns the request's parameters into the regions' listing;
// on a bad one it answers 400 and returns false.
func (s *Server) listRequest(c *gin.Context, tenant string) (regions.ListRequest, string, bool) {
	q := c.Request.URL.Query()
	for name, vs := range q {
		switch {
		case !listParams[name]:
			fail(c, kindBadRequest, fmt.Sprintf("unknown query parameter %q", name))
			return regions.ListRequest{}, "", false
		case len(vs) > 1:
			fail(c, kindBadRequest, fmt.Sprintf("query parameter %q given twice", name))
			return regions.ListRequest{}, "", false
		}
	}
	query, err := s.listQuery(q, tenant)
	var size int
	if err == nil {
		size, err = pageSizeOf(q)
	}
	scope := listScope(tenant, query)
	var cursors map[string]regions.Cursor
	if tok := q.Get("pageToken"); err == nil && tok != "" {
		pol := s.Policy()
		known := func(region string) bool { _, ok := pol.TenantNamespaceIn(region, tenant); return ok }
		cursors, err = decodePageToken(tok, scope, known, maxPageSize+1)
	}
	if err != nil {
		fail(c, kindBadRequest, err.Error())
		return regions.ListRequest{}, "", false
	}
	pol := s.Policy()
	return regions.ListRequest{
		Query: query, PageSize: size, Cursors: cursors, Keep: ownedBy(tenant),
		NamespaceIn: func(region string) string { ns, _ := pol.TenantNamespaceIn(region, tenant); return ns },
	}, scope, true
}

// ownedBy keeps the Temporal ids of the caller's workflows: exactly
// "<tenant>:" ids (the region's STARTS_WITH may ignore case), or, for
// anonymous callers, ids without ':'.
func ownedBy(tenant string) func(string) bool {
	if tenant == "" {
		return func(id string) bool { return router.CheckAnonymousID(id) == nil }
	}
	prefix := router.TenantWorkflowID(tenant, "")
	return func(id string) bool { return strings.HasPrefix(id, prefix) }
}

// list answers the caller's workflows across every region that may hold
// them (docs/api.md, "Listing workflows").
func (s *Server) list(c *gin.Context) {
	tenant := callerOf(c).Tenant
	req, scope, ok := s.listRequest(c, tenant)
	if !ok {
		return
	}
	page, err := s.regions.List(c.Request.Context(), req)
	switch {
	case err != nil && regions.IsCallerError(err):
		fail(c, kindBadRequest, "a region refused the listing (its filters or pageToken): "+err.Error())
		return
	case err != nil:
		s.regionError(c, "", err)
		return
	}
	ans := ListAnswer{Workflows: make([]ListedWorkflow, 0, len(page.Executions)), MissingRegions: []string{}}
	for _, r := range s.regions.All() {
		if err, missing := page.Missing[r.Name()]; missing {
			ans.MissingRegions = append(ans.MissingRegions, r.Name())
			s.log.Warn("listing without a region", "request_id", c.GetString(requestIDHeader), "region", r.Name(), "error", err)
		}
	}
	if len(ans.MissingRegions) > 0 && len(ans.MissingRegions) == asked(req.Cursors, s.regions.All()) {
		p := newProblem(kindRegionUnreachable, "none of the regions left to list can be reached now; retry (with the same pageToken)")
		p.MissingRegions = ans.MissingRegions
		writeProblem(c, p)
		return
	}
	prefix := router.TenantWorkflowID(tenant, "")
	for _, e := range page.Executions {
		w := ListedWorkflow{
			WorkflowID: strings.TrimPrefix(e.WorkflowID, prefix), RunID: e.RunID, WorkflowType: e.WorkflowType,
			Region: e.Region, Namespace: e.Namespace, Status: e.Status, StartTime: e.StartTime.UTC(),
		}
		if !e.CloseTime.IsZero() {
			closed := e.CloseTime.UTC()
			w.CloseTime = &closed
		}
		ans.Workflows = append(ans.Workflows, w)
	}
	if page.More() {
		ans.NextPageToken = encodePageToken(scope, page.Cursors)
	}
	c.JSON(200, ans)
}

// asked counts the regions a page asked: those its cursors have not done.
func asked(cursors map[string]regions.Cursor, all []*regions.Region) int {
	n := 0
	for _, r := range all {
		if !cursors[r.Name()].Done {
			n++
		}
	}
	return n
}
