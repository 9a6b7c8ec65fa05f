package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/base/jsonbody"
	"github.com/regiongate/regiongate/regions"
)

// Namespace failover through the admin API: a replicated region's
// namespaces made active in its replica (or back), audited before it takes
// effect, answered with regions.FailoverReport.

var (
	kindNoReplica        = newKind("no-replica", "Region has no replica", http.StatusConflict)
	kindNotLawfulReplica = newKind("not-a-lawful-replica", "Not the region's lawful replica", http.StatusUnprocessableEntity)
	kindFailoverRefused  = newKind("failover-refused", "Failover refused", http.StatusConflict)
)

// FailoverRequest is the body of POST /admin/v1/regions/{name}/failover.
type FailoverRequest struct {
	// Mode is "planned" (the active cluster answers: wait until the
	// replica has caught up, then hand over) or "forced" (the active
	// cluster is gone: the replica takes over with what it has).
	Mode string `json:"mode"`
	// To is the region to make active: the region's replica, or the
	// region itself to fail back; empty means the other one.
	To string `json:"to,omitempty"`
	// CatchUpSeconds bounds a planned failover's wait for the replica
	// (default 10); ObserveSeconds the watch for running workflows
	// continuing in the new active cluster (default 10).
	CatchUpSeconds int `json:"catchUpSeconds,omitempty"`
	ObserveSeconds int `json:"observeSeconds,omitempty"`
}

// maxFailoverSeconds bounds the waits a request may ask for: the admin
// listener's write timeout is 60s.
const maxFailoverSeconds = 20

func (s *Server) failover(c *gin.Context) {
	var req FailoverRequest
	if err := jsonbody.Decode(c.Request.Body, maxDrillBytes, &req); err != nil {
		failBody(c, err)
		return
	}
	name := c.Param("name")
	if req.Mode != regions.Planned && req.Mode != regions.Forced {
		fail(c, kindBadRequest, fmt.Sprintf("mode must be %q or %q", regions.Planned, regions.Forced))
		return
	}
	if req.CatchUpSeconds < 0 || req.CatchUpSeconds > maxFailoverSeconds || req.ObserveSeconds < 0 || req.ObserveSeconds > maxFailoverSeconds {
		fail(c, kindBadRequest, fmt.Sprintf("catchUpSeconds and observeSeconds must be between 0 and %d", maxFailoverSeconds))
		return
	}
	// What the config alone refuses is refused before anything is recorded.
	if err := regions.CheckFailover(s.Policy().Config(), name, req.To); err != nil {
		s.failoverError(c, err)
		return
	}
	target := req.To
	if target == "" {
		target = "the other region of its pair"
	}
	attempt, ok := s.auditRequest(c, audit.Entry{Action: "region.failover", Target: name,
		Detail: fmt.Sprintf("%s failover of %s's namespaces to %s", req.Mode, name, target)})
	if !ok {
		return
	}
	rep, err := s.regions.Failover(c.Request.Context(), name, regions.FailoverOptions{
		Mode: req.Mode, To: req.To,
		CatchUp: time.Duration(req.CatchUpSeconds) * time.Second, Observe: time.Duration(req.ObserveSeconds) * time.Second,
	})
	if err != nil {
		s.recordFailure(attempt, "", err)
		s.failoverError(c, err)
		return
	}
	s.log.Info("namespace failover", "region", name, "mode", rep.Mode, "from", rep.From, "to", rep.To,
		"time_to_active_ms", rep.TimeToActiveMs, "workflows_open", rep.WorkflowsOpen, "workflows_continued", rep.WorkflowsContinued)
	c.JSON(200, rep)
}

// failoverError answers a failover that was refused or failed.
func (s *Server) failoverError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, regions.ErrUnknownRegion):
		fail(c, kindRegionNotFound, err.Error())
	case errors.Is(err, regions.ErrNoReplica):
		fail(c, kindNoReplica, err.Error())
	case errors.Is(err, regions.ErrNotLawfulReplica):
		fail(c, kindNotLawfulReplica, err.Error())
	case errors.Is(err, regions.ErrAlreadyActive), errors.Is(err, regions.ErrNotCaughtUp),
		errors.Is(err, regions.ErrFailoverInProgress), errors.Is(err, regions.ErrActiveUnreachable):
		fail(c, kindFailoverRefused, err.Error())
	case errors.Is(err, regions.ErrUnavailable):
		fail(c, kindRegionUnreachable, err.Error())
	default:
		s.log.Warn("namespace failover failed", "region", c.Param("name"), "error", err)
		fail(c, kindUpstreamError, err.Error())
	}
}

// failoverDrill starts a drill that fails the region's namespaces over to
// its replica (planned) instead of draining it; the failback at its end
// is endFailoverDrills'.
func (s *Server) failoverDrill(ctx context.Context, dr Drill) (*regions.FailoverReport, error) {
	rc, _ := s.Policy().Config().Region(dr.Region)
	rep, err := s.regions.Failover(ctx, dr.Region, regions.FailoverOptions{Mode: regions.Planned, To: rc.Replica})
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// endFailoverDrills fails back the region of every failover drill that
// has ended, once per replica: the first replica to get there does it,
// the others find the namespaces home already.
func (s *Server) endFailoverDrills(ctx context.Context, now time.Time) {
	for _, dr := range s.drills.failoversEnded(now) {
		_, err := s.regions.Failover(ctx, dr.Region, regions.FailoverOptions{Mode: regions.Planned, To: dr.Region})
		switch {
		case err == nil, errors.Is(err, regions.ErrAlreadyActive):
			s.drills.failedBack(dr.ID)
		default:
			s.log.Warn("failing back a failover drill's region; retrying", "drill", dr.ID, "region", dr.Region, "error", err)
		}
	}
}
