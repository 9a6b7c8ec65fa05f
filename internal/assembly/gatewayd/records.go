package gatewayd

import (
	"context"
	"errors"

	"github.com/regiongate/regiongate/regions"
)

// checkRecords decides at start whether the records store is complete
// (regions.Manager.CheckRecords) and says so when it is not: starts of ids
// without a record then ask their home region first.
func (g *Gateway) checkRecords(ctx context.Context) {
	err := g.Manager.CheckRecords(ctx)
	switch {
	case err != nil && g.Manager.RecordsComplete():
		g.log.Warn("routing records store: taken as complete until a sweep can tell", "error", err)
	case err != nil:
		g.log.Warn("could not check the routing records store; until a sweep can, ids without a record start outside their home region only once it says they are new", "error", err)
	case !g.Manager.RecordsComplete():
		g.log.Warn("the routing records store has no marker and the regions hold workflows: it may have lost records. " +
			"Until `regiongate records reconcile --apply` rebuilds them, ids without a record start outside their home region only once it says they are new")
	}
}

// logSweep logs what a sweep did (a line when it changed something or
// failed), then hands the report on.
func (g *Gateway) logSweep(next func(regions.SweepReport)) func(regions.SweepReport) {
	return func(r regions.SweepReport) {
		if len(r.Errors) > 0 {
			g.log.Warn("routing records sweep incomplete", "closed_seen", r.Closed, "expiries_set", r.Expired,
				"removed", r.Removed, "records", r.Records, "error", errors.Join(r.Errors...))
		} else if r.Expired > 0 || r.Removed > 0 {
			g.log.Info("routing records swept", "closed_seen", r.Closed, "expiries_set", r.Expired, "removed", r.Removed, "records", r.Records)
		}
		if next != nil {
			next(r)
		}
	}
}
