package chaos

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/regiongate/regiongate/router"
)

// auditor judges each workflow against the config's residency and what
// its clients were told.
type auditor struct {
	pol *router.Policy
	// describe looks a Temporal workflow id up in every namespace of every
	// region directly (regionClients.describe).
	describe func(ctx context.Context, temporalID string) ([]Placement, error)
	res      *AuditResult
}

func (a *auditor) fault(check, tenant, id, format string, args ...any) {
	a.res.Findings = append(a.res.Findings, Finding{Check: check, Tenant: tenant, WorkflowID: id, Detail: fmt.Sprintf(format, args...)})
}

// check judges one workflow: h is what the ledger says of it (nil if it
// never asked for it), ps where visibility found it.
func (a *auditor) check(ctx context.Context, tenant, id string, h *history, ps []Placement) error {
	if h == nil {
		a.fault(CheckMisplaced, tenant, id, "found in %s but never requested", placesText(ps))
		a.res.Misplaced++
		return nil
	}
	if len(h.answered) > 0 {
		a.res.Acked++
	} else if h.refused && !h.unsettled {
		a.res.Refused++
	}
	if len(ps) == 0 && (len(h.answered) > 0 || h.final != nil) {
		// Not listed (yet?): ask every region directly before calling it lost.
		var err error
		if ps, err = a.describe(ctx, router.TenantWorkflowID(tenant, id)); err != nil {
			return err
		}
	}
	found := regionsOf(ps)
	failed := map[string]bool{}
	flag := func(check, format string, args ...any) {
		if !failed[check] {
			failed[check] = true
			a.fault(check, tenant, id, format, args...)
		}
	}

	// Acknowledged starts exist, in exactly the region they were
	// acknowledged in, and no id was ever answered from two regions.
	answered := slices.Sorted(maps.Keys(h.answered))
	switch {
	case len(answered) > 1:
		flag(CheckDuplicated, "answered from %s", answeredText(h))
	case len(answered) == 1 && len(ps) == 0:
		flag(CheckLost, "acknowledged in %s, found in no region", answeredText(h))
	case len(answered) == 1 && !slices.Contains(found, answered[0]):
		flag(CheckMisplaced, "acknowledged in %s, found in %s", answeredText(h), placesText(ps))
	}

	// Every run a client was told of is still there: a later answer naming
	// another run (a new start of an id whose run vanished) is no excuse.
	for _, run := range slices.Sorted(maps.Keys(h.runs)) {
		if len(ps) > 0 && !slices.ContainsFunc(ps, func(p Placement) bool { return p.RunID == run }) {
			flag(CheckLost, "acknowledged run %s (ledger seq %v) is in no region; found %s", run, h.runs[run], placesText(ps))
		}
	}

	// Wherever it is, it is there once, lawfully, in its tenant's namespace.
	if len(ps) > 1 {
		flag(CheckDuplicated, "found %d times: %s", len(ps), placesText(ps))
	}
	lawfulRegions := lawful(a.pol, h.req.Country, h.req.Class)
	for _, p := range append(ps, placementsOf(answered)...) {
		if !slices.Contains(lawfulRegions, p.Region) {
			flag(CheckMisplaced, "%s %s data in %s; lawful: %v", h.req.Country, h.req.Class, p.Region, lawfulRegions)
		}
		if ns, _ := a.pol.TenantNamespaceIn(p.Region, tenant); p.Namespace != "" && p.Namespace != ns {
			flag(CheckMisplaced, "in namespace %s of %s, tenant %q's is %s", p.Namespace, p.Region, tenant, ns)
		}
	}

	// A start that saw a 5xx or no answer settles, when retried after the
	// run, in one region or none, and visibility agrees.
	if h.unsettled {
		a.res.FinalRetries++
		if h.with503ID {
			a.res.With503ID++
		}
		f := h.final
		switch {
		case f == nil || f.ServerError():
			flag(CheckUnresolved, "retried after the run, still no settled answer: %s", entryText(f))
		case f.Acked() && slices.Equal(found, []string{f.Region}):
			a.res.ResolvedRegion++
		case !f.Acked() && len(ps) == 0:
			a.res.ResolvedNone++
		default:
			flag(CheckUnresolved, "retried after the run: %s, but found in %s", entryText(f), placesText(ps))
		}
	}
	for c := range failed {
		switch c {
		case CheckLost:
			a.res.Lost++
		case CheckDuplicated:
			a.res.Duplicated++
		case CheckMisplaced:
			a.res.Misplaced++
		case CheckUnresolved:
			a.res.Unresolved++
		}
	}
	return nil
}

// regionsOf lists the distinct regions of ps, sorted.
func regionsOf(ps []Placement) []string {
	var out []string
	for _, p := range ps {
		if !slices.Contains(out, p.Region) {
			out = append(out, p.Region)
		}
	}
	slices.Sort(out)
	return out
}

// placementsOf turns answered regions into placements with no namespace,
// so they meet the lawfulness check too.
func placementsOf(regions []string) []Placement {
	out := make([]Placement, len(regions))
	for i, r := range regions {
		out[i] = Placement{Region: r}
	}
	return out
}

func placesText(ps []Placement) string {
	if len(ps) == 0 {
		return "no region"
	}
	var parts []string
	for _, p := range ps {
		s := fmt.Sprintf("%s/%s run %s (%s)", p.Region, p.Namespace, p.RunID, p.Status)
		if p.Direct {
			s += " (described, not listed)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func answeredText(h *history) string {
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(h.answered)) {
		parts = append(parts, fmt.Sprintf("%s (ledger seq %v)", r, h.answered[r]))
	}
	return strings.Join(parts, " and ")
}

func entryText(e *Entry) string {
	switch {
	case e == nil:
		return "not retried"
	case e.Status == 0:
		return fmt.Sprintf("no answer (%s, ledger seq %d)", e.Err, e.Seq)
	}
	return fmt.Sprintf("%d %s (ledger seq %d)", e.Status, e.Problem, e.Seq)
}
