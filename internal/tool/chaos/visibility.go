package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/tool/bench"
	"github.com/regiongate/regiongate/router"
)

// Placement is one run of a workflow found in a region.
type Placement struct {
	Region, Namespace, RunID, Status string
	// Direct: found by describing the id, not (yet) listed by visibility.
	Direct bool
}

// regionClients are SDK clients for every namespace of every region:
// the region's own and each isolated tenant's (router.Namespaces).
type regionClients struct {
	cfg *configs.Config
	by  map[[2]string]client.Client // {region, namespace}
}

// dialRegions dials every region of cfg at its endpoint (plain gRPC, as
// the dev stack serves it).
func dialRegions(ctx context.Context, cfg *configs.Config) (*regionClients, error) {
	rc := &regionClients{cfg: cfg, by: map[[2]string]client.Client{}}
	for _, r := range cfg.Regions {
		for _, ns := range router.Namespaces(cfg, r) {
			c, err := client.DialContext(ctx, client.Options{HostPort: r.Endpoint, Namespace: ns, Logger: bench.QuietLogger()})
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("dialling %s (%s) namespace %s: %w", r.Name, r.Endpoint, ns, err)
			}
			rc.by[[2]string{r.Name, ns}] = c
		}
	}
	return rc, nil
}

func (rc *regionClients) Close() {
	for _, c := range rc.by {
		c.Close()
	}
}

// listAll lists every workflow run in every namespace of every region
// through visibility, by Temporal workflow id.
func (rc *regionClients) listAll(ctx context.Context) (map[string][]Placement, error) {
	out := map[string][]Placement{}
	for _, key := range slices.SortedFunc(maps.Keys(rc.by), func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) }) {
		var token []byte
		for {
			resp, err := rc.by[key].ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: key[1], PageSize: 1000, NextPageToken: token,
			})
			if err != nil {
				return nil, fmt.Errorf("listing %s namespace %s: %w", key[0], key[1], err)
			}
			for _, ex := range resp.Executions {
				id := ex.GetExecution().GetWorkflowId()
				out[id] = append(out[id], Placement{Region: key[0], Namespace: key[1], RunID: ex.GetExecution().GetRunId(), Status: ex.GetStatus().String()})
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
	}
	for _, ps := range out {
		slices.SortFunc(ps, func(a, b Placement) int {
			return strings.Compare(a.Region+a.Namespace+a.RunID, b.Region+b.Namespace+b.RunID)
		})
	}
	return out, nil
}

// listStable lists until two listings a few seconds apart agree (a start
// reaches visibility a moment after it is acknowledged), at most a few
// times; it returns the last listing.
func (rc *regionClients) listStable(ctx context.Context) (map[string][]Placement, error) {
	prev, err := rc.listAll(ctx)
	if err != nil {
		return nil, err
	}
	for range 10 {
		if err := bench.Sleep(ctx, 3*time.Second); err != nil {
			return nil, err
		}
		next, err := rc.listAll(ctx)
		if err != nil {
			return nil, err
		}
		if maps.EqualFunc(prev, next, slices.Equal[[]Placement]) {
			return next, nil
		}
		prev = next
	}
	return prev, nil
}

// describe looks temporalID up directly in every namespace of every
// region: what visibility has not listed yet still counts.
func (rc *regionClients) describe(ctx context.Context, temporalID string) ([]Placement, error) {
	var out []Placement
	for key, c := range rc.by {
		d, err := c.DescribeWorkflow(ctx, temporalID, "")
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			continue
		case err != nil:
			return nil, fmt.Errorf("describing %s in %s namespace %s: %w", temporalID, key[0], key[1], err)
		}
		info := d.RawResponse.GetWorkflowExecutionInfo()
		out = append(out, Placement{Region: key[0], Namespace: key[1], RunID: info.GetExecution().GetRunId(), Status: info.GetStatus().String(), Direct: true})
	}
	return out, nil
}

// splitTemporalID maps a Temporal workflow id back to the caller's tenant
// and id (router.TenantWorkflowID): "<tenant>:<id>", or an anonymous
// caller's id as it is (it may not contain ':').
func splitTemporalID(tid string) (tenant, id string) {
	if t, rest, ok := strings.Cut(tid, ":"); ok {
		return t, rest
	}
	return "", tid
}
