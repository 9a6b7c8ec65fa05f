package regions

import (
	"context"
	"fmt"
	"sync"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// ListRequest asks every region for one page of workflows.
type ListRequest struct {
	// Query is the visibility query every region answers: the caller's
	// scope and filters. Each region returns its matches in Temporal's own
	// order (running first, newest start first; then closed, most recently
	// closed first), which is the order of the merged page.
	Query string
	// NamespaceIn names the namespace to ask in each region ("" is the
	// region's own).
	NamespaceIn func(region string) string
	// PageSize is the most workflows the page holds; at least 1.
	PageSize int
	// Cursors say where each region's listing stands; a region without
	// one starts at its beginning.
	Cursors map[string]Cursor
	// Keep, when set, drops the workflows it refuses after the regions
	// answer (a scope the query cannot say exactly); they still count as
	// listed, so a page may hold fewer than PageSize.
	Keep func(workflowID string) bool
}

// Cursor is where one region's listing stands: its own page token (nil is
// the beginning) and how many workflows of the page there were listed
// already, or Done.
type Cursor struct {
	Token []byte
	Skip  int
	Done  bool
}

// Execution is one run as a list shows it.
type Execution struct {
	WorkflowID   string
	RunID        string
	WorkflowType string
	Region       string
	Namespace    string
	Status       string
	StartTime    time.Time
	CloseTime    time.Time // zero while running
}

// Page is one page of a listing across regions.
type Page struct {
	Executions []Execution
	// Cursors are where the next page starts, for every region.
	Cursors map[string]Cursor
	// Missing are the regions that could not be asked, and why. Their
	// cursors stay where they were: the next page asks them again.
	Missing map[string]error
}

// More reports whether a region has workflows left to list.
func (p Page) More() bool {
	for _, c := range p.Cursors {
		if !c.Done {
			return true
		}
	}
	return false
}

// regionPage is what one region answered for a page.
type regionPage struct {
	region string
	from   Cursor // the cursor the items start at (Skip 0)
	items  []Execution
	next   []byte // the region's token after items
	taken  int    // items merged into the page
	err    error
}

// List asks every configured region for the next workflows of a listing
// at once, each through its breaker, and merges their answers into one
// page. A region that cannot be asked is reported in Missing and the page
// is served from the rest. An error means a region refused the request
// itself (a malformed query or page token: IsCallerError).
func (m *Manager) List(ctx context.Context, req ListRequest) (Page, error) {
	all := m.All()
	pages := make([]regionPage, len(all))
	var wg sync.WaitGroup
	for i, r := range all {
		pages[i] = regionPage{region: r.Name(), from: req.Cursors[r.Name()]}
		if pages[i].from.Done {
			continue
		}
		ns := r.namespaceIn(req.NamespaceIn)
		wg.Go(func() { r.listPage(ctx, ns, req.Query, req.PageSize, &pages[i]) })
	}
	wg.Wait()
	for i := range pages {
		if err := pages[i].err; err != nil && IsCallerError(err) {
			return Page{}, fmt.Errorf("listing in %s: %w", pages[i].region, err)
		}
	}
	return pageOf(pages, req.PageSize, req.Keep), nil
}

// pageOf merges the regions' answers into a page and says where each
// region's listing stands after it.
func pageOf(pages []regionPage, size int, keep func(string) bool) Page {
	page := Page{Executions: merge(pages, size, keep), Cursors: map[string]Cursor{}, Missing: map[string]error{}}
	for i := range pages {
		p := &pages[i]
		if p.err != nil {
			page.Missing[p.region] = p.err
		}
		page.Cursors[p.region] = p.after()
	}
	return page
}

// after is where the region's listing stands once the page has taken its
// share: where it was if it could not be asked, else past what was taken.
func (p *regionPage) after() Cursor {
	switch {
	case p.err != nil:
		return p.from
	case p.from.Done || p.taken == len(p.items) && len(p.next) == 0:
		return Cursor{Done: true}
	case p.taken == len(p.items):
		return Cursor{Token: p.next}
	}
	return Cursor{Token: p.from.Token, Skip: p.taken}
}

// lister lists up to n runs from a region's page token, as
// ListWorkflowExecutions does: the token after them (none at the end).
type lister func(ctx context.Context, token []byte, n int) ([]Execution, []byte, error)

// listPage reads the region's share of a page through its breaker.
func (r *Region) listPage(ctx context.Context, namespace, query string, size int, p *regionPage) {
	c, err := r.clientFor(ctx, namespace)
	if err != nil {
		p.err = err
		return
	}
	list := func(ctx context.Context, token []byte, n int) ([]Execution, []byte, error) {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: int32(n), NextPageToken: token, Query: query,
		})
		if err != nil {
			return nil, nil, err
		}
		items := make([]Execution, 0, len(resp.GetExecutions()))
		for _, info := range resp.GetExecutions() {
			items = append(items, executionOf(info, r.name, namespace))
		}
		return items, resp.GetNextPageToken(), nil
	}
	// failFast: a region that refuses connections is reported at once
	// instead of holding up the page.
	p.err = r.call(ctx, true, func(ctx context.Context) error { return p.fetch(ctx, list, size) })
}

// fetch reads up to size+1 runs from the cursor (one more than a page can
// take, so a region with more is never exhausted by a page). A cursor
// part-way into a page of the region's is first moved past what was
// listed, so Skip never grows beyond one page.
func (p *regionPage) fetch(ctx context.Context, list lister, size int) error {
	if p.from.Skip > 0 {
		_, next, err := list(ctx, p.from.Token, p.from.Skip)
		if err != nil {
			return err
		}
		if len(next) == 0 {
			p.from = Cursor{Done: true}
			return nil
		}
		p.from = Cursor{Token: next}
	}
	items, next, err := list(ctx, p.from.Token, size+1)
	p.items, p.next = items, next
	return err
}

func executionOf(info *workflowpb.WorkflowExecutionInfo, region, namespace string) Execution {
	e := Execution{
		WorkflowID:   info.GetExecution().GetWorkflowId(),
		RunID:        info.GetExecution().GetRunId(),
		WorkflowType: info.GetType().GetName(),
		Region:       region,
		Namespace:    namespace,
		Status:       statusName(info.GetStatus()),
		StartTime:    info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		e.CloseTime = info.GetCloseTime().AsTime()
	}
	return e
}

// merge takes up to size workflows from the regions' answers in the order
// every region lists them in, so each region's share is a prefix of its
// answer and its cursor can say where it stopped. It stops early when a
// region with more to list has had all it answered taken (only runs Keep
// drops can do that): what comes next might be that region's.
func merge(pages []regionPage, size int, keep func(string) bool) []Execution {
	out := make([]Execution, 0, size)
	for len(out) < size {
		best := -1
		for i := range pages {
			p := &pages[i]
			if p.err != nil {
				continue
			}
			if p.taken == len(p.items) {
				if len(p.next) > 0 {
					return out
				}
				continue
			}
			if best < 0 || listedBefore(p.items[p.taken], pages[best].items[pages[best].taken]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		e := pages[best].items[pages[best].taken]
		pages[best].taken++
		if keep == nil || keep(e.WorkflowID) {
			out = append(out, e)
		}
	}
	return out
}

// listedBefore is Temporal's SQL visibility order (running first, by close
// time, then start time, newest first, then run id), with the region last
// so that the order across regions is total.
func listedBefore(a, b Execution) bool {
	if ca, cb := closeKey(a), closeKey(b); !ca.Equal(cb) {
		return ca.After(cb)
	}
	if !a.StartTime.Equal(b.StartTime) {
		return a.StartTime.After(b.StartTime)
	}
	if a.RunID != b.RunID {
		return a.RunID < b.RunID
	}
	return a.Region < b.Region
}

// stillRunning sorts after every close time, as Temporal's coalesce does.
var stillRunning = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

func closeKey(e Execution) time.Time {
	if e.CloseTime.IsZero() {
		return stillRunning
	}
	return e.CloseTime
}
