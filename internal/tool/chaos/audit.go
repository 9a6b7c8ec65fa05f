package chaos

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// The auditor's checks; a run passes when none finds anything.
const (
	CheckLost       = "lost"       // acknowledged, but in no region (or its acknowledged run is gone)
	CheckDuplicated = "duplicated" // in two regions (or namespaces, or runs), or answered from two regions
	CheckMisplaced  = "misplaced"  // in a region not lawful for its class and country, the wrong namespace, not where acknowledged, or never requested
	CheckUnresolved = "unresolved" // a 5xx or no answer that a retry after the run does not settle in one region or none
)

// AuditOptions say where the ledger, the regions and the gateways are.
type AuditOptions struct {
	Ledger string // the run's ledger; the final retries are appended to it
	// Config is the stack's config as the workers read it (every region
	// at its Temporal frontend, not through the proxies). The run's
	// config edits only reorder regions, so its residency judges every
	// workflow.
	Config   *configs.Config
	Gateways []Gateway
	Progress io.Writer
	Final    FinalRetryOptions
}

// Finding is one workflow a check faults, and why.
type Finding struct {
	Check      string `json:"check"`
	Tenant     string `json:"tenant"`
	WorkflowID string `json:"workflowId"`
	Detail     string `json:"detail"`
}

// AuditResult is the auditor's table and its findings.
type AuditResult struct {
	Requested int `json:"requested"` // distinct workflows (tenant and id) the load asked to start
	Acked     int `json:"acked"`     // of which acknowledged (2xx with a region) at least once
	Refused   int `json:"refused"`   // of which only ever refused (4xx: no lawful region, ...)
	Found     int `json:"found"`     // distinct workflows found in the regions
	Runs      int `json:"runs"`      // workflow runs found
	// FoundIn counts the workflows found per region.
	FoundIn        map[string]int `json:"foundIn"`
	FinalRetries   int            `json:"finalRetries"`   // workflows with a 5xx or unanswered start, retried after the run
	With503ID      int            `json:"with503Id"`      // of which some answer was a 503 naming the workflowId
	ResolvedRegion int            `json:"resolvedRegion"` // of which settled in one region
	ResolvedNone   int            `json:"resolvedNone"`   // of which settled in none (refused, and in no region)
	Lost           int            `json:"lost"`
	Duplicated     int            `json:"duplicated"`
	Misplaced      int            `json:"misplaced"`
	Unresolved     int            `json:"unresolved"`
	// Findings lists each workflow a check faults.
	Findings []Finding `json:"findings,omitempty"`
}

// Passed reports whether every check found nothing.
func (r *AuditResult) Passed() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Misplaced == 0 && r.Unresolved == 0
}

// Audit retries every unsettled start (same body, same id or key), lists
// every workflow in every region's namespaces through visibility, and
// checks each against the ledger.
func Audit(ctx context.Context, o AuditOptions) (*AuditResult, error) {
	entries, err := ReadLedger(o.Ledger)
	if err != nil {
		return nil, err
	}
	hs := histories(entries)
	res := &AuditResult{}
	if err := finalRetries(ctx, o, entries, hs, res); err != nil {
		return nil, err
	}
	rc, err := dialRegions(ctx, o.Config)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	fmt.Fprintf(o.Progress, "%s  audit: listing every region's namespaces through visibility\n", clock())
	found, err := rc.listStable(ctx)
	if err != nil {
		return nil, err
	}
	a := &auditor{pol: router.New(o.Config), describe: rc.describe, res: res}
	keys := map[string]bool{}
	for k := range hs {
		keys[k] = true
	}
	for tid := range found {
		t, id := splitTemporalID(tid)
		keys[t+"/"+id] = true
	}
	res.Requested, res.Found, res.FoundIn = len(hs), len(found), map[string]int{}
	for _, ps := range found {
		res.Runs += len(ps)
		for _, r := range regionsOf(ps) {
			res.FoundIn[r]++
		}
	}
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		tenant, id, _ := strings.Cut(key, "/")
		if err := a.check(ctx, tenant, id, hs[key], found[router.TenantWorkflowID(tenant, id)]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// history is what the ledger says of one workflow.
type history struct {
	req       Entry              // its first start
	answered  map[string][]int64 // region -> ledger seqs of 2xx answers naming it (starts and describes)
	runs      map[string][]int64 // run id -> ledger seqs of 2xx answers naming it
	unsettled bool               // some start had a 5xx or no answer
	with503ID bool               // some start had a 503 naming its workflowId
	refused   bool               // some start had a 4xx
	final     *Entry             // the last final retry, if any
}

func histories(entries []Entry) map[string]*history {
	hs := map[string]*history{}
	for _, e := range entries {
		if !e.IsStart() && e.Kind != KindDescribe {
			continue
		}
		h := hs[e.Key()]
		if h == nil {
			if !e.IsStart() {
				continue
			}
			h = &history{req: e, answered: map[string][]int64{}, runs: map[string][]int64{}}
			hs[e.Key()] = h
		}
		h.note(e)
	}
	return hs
}

func (h *history) note(e Entry) {
	switch {
	case e.Refused:
	case e.Acked():
		h.answered[e.Region] = append(h.answered[e.Region], e.Seq)
		if e.RunID != "" {
			h.runs[e.RunID] = append(h.runs[e.RunID], e.Seq)
		}
	case e.Kind == KindDescribe:
	case e.ServerError():
		h.unsettled = true
		h.with503ID = h.with503ID || (e.Status == 503 && answerNamesID(e))
	case e.Status >= 400:
		h.refused = true
	}
	if e.Kind == KindFinalRetry {
		h.final = &e
	}
}

// answerNamesID reports whether a 503's problem type is one that carries
// the workflowId (docs/api.md): the start may have reached its region.
func answerNamesID(e Entry) bool {
	return e.Problem == "unknown-outcome" || e.Problem == "region-unreachable"
}
