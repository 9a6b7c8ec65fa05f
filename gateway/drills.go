package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/base/jsonbody"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
)

// MaxDrillSeconds bounds a drill: a drill is a rehearsal, not a way to
// drain a region indefinitely (drain does that, visibly).
const MaxDrillSeconds = 24 * 60 * 60

// drills is this replica's view of the drill store plus its own counts.
type drills struct {
	store   DrillStore
	replica string

	mu     sync.Mutex
	cache  []Drill
	counts map[string]*DrillStats
	ended  map[string]bool // drills whose drill.end this replica knows is written
	back   map[string]bool // failover drills this replica has seen failed back
}

func newDrills(store DrillStore) *drills {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &drills{store: store, replica: "replica-" + hex.EncodeToString(b[:]),
		counts: map[string]*DrillStats{}, ended: map[string]bool{}, back: map[string]bool{}}
}

// failoversEnded returns the failover drills that ended before t and that
// this replica has not seen failed back.
func (d *drills) failoversEnded(t time.Time) []Drill {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Drill
	for _, dr := range d.cache {
		if !d.back[dr.ID] && !dr.Drains() && dr.End.Before(t) {
			out = append(out, dr)
		}
	}
	return out
}

func (d *drills) failedBack(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.back[id] = true
}

// endedUnrecorded returns the drills that ended before t and whose end
// this replica has not seen recorded.
func (d *drills) endedUnrecorded(t time.Time) []Drill {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Drill
	for _, dr := range d.cache {
		if dr.End.Before(t) && !d.ended[dr.ID] && (dr.Drains() || d.back[dr.ID]) {
			out = append(out, dr)
		}
	}
	return out
}

func (d *drills) endRecorded(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ended[id] = true
}

// active returns the drills draining a region at t.
func (d *drills) active(t time.Time) []Drill {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Drill
	for _, dr := range d.cache {
		if dr.Active(t) {
			out = append(out, dr)
		}
	}
	return out
}

// refresh reloads the cache and publishes this replica's counts.
func (d *drills) refresh(ctx context.Context) error {
	list, err := d.store.List(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.cache = list
	counts := map[string]DrillStats{}
	for id, c := range d.counts {
		counts[id] = *c
	}
	d.mu.Unlock()
	for id, c := range counts {
		if err := d.store.PutStats(ctx, id, d.replica, c); err != nil {
			return err
		}
	}
	return nil
}

// RunDrills keeps this replica's view of drills current until ctx ends:
// a drill's end is honoured by every replica within one interval.
func (s *Server) RunDrills(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.drills.refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("refreshing drills", "error", err)
		}
		s.endFailoverDrills(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// snapshot is the regions' state with active drills counted as drains.
func (s *Server) snapshot() router.Snapshot {
	snap, _, _ := s.routingState()
	return snap
}

// routingState returns the snapshot to route with (active drills count as
// drains), the regions' own snapshot, and the active drills. Without a
// drill both snapshots are the same map and nothing is copied.
func (s *Server) routingState() (snap, undrilled router.Snapshot, active []Drill) {
	undrilled = s.regions.Snapshot()
	active = s.drills.active(time.Now())
	if len(active) == 0 {
		return undrilled, undrilled, nil
	}
	snap = maps.Clone(undrilled)
	for _, dr := range active {
		if !dr.Drains() {
			continue
		}
		st := snap[dr.Region]
		st.Drained = true
		snap[dr.Region] = st
	}
	return snap, undrilled, active
}

// startOutcome is how one start ended, for the drill reports.
type startOutcome struct {
	landed  string // the region the start is in; "" if none
	refused bool   // the router refused it (no lawful or available region)
	status  int
}

// countForDrills counts a start whose drill-free destination was home
// against every active drill of home: rerouted when it landed elsewhere (a
// retry pinned to the drilled region is not), refused when the router
// refused it, an error when it failed otherwise.
func (s *Server) countForDrills(home string, active []Drill, o startOutcome) {
	s.drills.mu.Lock()
	defer s.drills.mu.Unlock()
	for _, dr := range active {
		if home != dr.Region {
			continue
		}
		c := s.drills.counts[dr.ID]
		if c == nil {
			c = &DrillStats{}
			s.drills.counts[dr.ID] = c
		}
		switch {
		case o.landed != "":
			if o.landed != dr.Region {
				c.Rerouted++
			}
		case o.refused:
			c.Refused++
		case o.status >= 500:
			c.Errors++
		}
	}
}

// maxDrillBytes caps a drill request, a few dozen bytes in practice. It is
// not the config's maxBodyBytes, which is for the client API: a small one
// must not lock operators out of drills.
const maxDrillBytes = 64 << 10

// DrillRequest is the body of POST /admin/v1/drills.
type DrillRequest struct {
	Region          string `json:"region"`
	DurationSeconds int    `json:"durationSeconds"`
	Force           bool   `json:"force,omitempty"`
	// Mode is "drain" (default) or "failover" (a replicated region's
	// namespaces fail over to its replica, planned, and back at the end).
	Mode string `json:"mode,omitempty"`
}

func (s *Server) startDrill(c *gin.Context) {
	var req DrillRequest
	if err := jsonbody.Decode(c.Request.Body, maxDrillBytes, &req); err != nil {
		failBody(c, err)
		return
	}
	if _, ok := s.Policy().Config().Region(req.Region); !ok {
		fail(c, kindRegionNotFound, fmt.Sprintf("unknown region %q", req.Region))
		return
	}
	if req.DurationSeconds < 1 || req.DurationSeconds > MaxDrillSeconds {
		fail(c, kindBadRequest, fmt.Sprintf("durationSeconds must be between 1 and %d", MaxDrillSeconds))
		return
	}
	var refused []string
	switch req.Mode {
	case "", DrillDrain:
		req.Mode = ""
		refused = s.Policy().WouldRefuse(req.Region, s.snapshot())
	case DrillFailover:
		if err := regions.CheckFailover(s.Policy().Config(), req.Region, ""); err != nil {
			s.failoverError(c, err)
			return
		}
	default:
		fail(c, kindBadRequest, fmt.Sprintf("mode must be %q or %q", DrillDrain, DrillFailover))
		return
	}
	if len(refused) > 0 && !req.Force {
		p := newProblem(kindDrillWouldRefuse, fmt.Sprintf("draining %s would leave resident data of %v with no available lawful region; send \"force\": true to drill anyway", req.Region, refused))
		p.WouldRefuse = refused
		writeProblem(c, p)
		return
	}
	for _, other := range s.drills.active(time.Now()) {
		if other.Region == req.Region {
			fail(c, kindDrillConflict, fmt.Sprintf("region %s already has an active drill", req.Region))
			return
		}
	}
	now := time.Now().UTC()
	dr := Drill{ID: "drill-" + now.Format("20060102-150405") + "-" + randomHex(3), Region: req.Region, Start: now,
		End: now.Add(time.Duration(req.DurationSeconds) * time.Second), Actor: actorOf(c), Forced: req.Force, WouldRefuse: refused,
		Mode: req.Mode}
	what := "drain"
	if !dr.Drains() {
		what = "failover to its replica"
	}
	attempt, ok := s.auditRequest(c, audit.Entry{Action: "drill.start", Target: req.Region,
		Detail: fmt.Sprintf("%s: %s for %ds until %s", dr.ID, what, req.DurationSeconds, dr.End.Format(time.RFC3339))})
	if !ok {
		return
	}
	if !dr.Drains() {
		var err error
		if dr.Failover, err = s.failoverDrill(c.Request.Context(), dr); err != nil {
			s.recordFailure(attempt, "", err)
			s.failoverError(c, err)
			return
		}
	}
	if err := s.drills.store.Create(c.Request.Context(), dr); err != nil {
		s.recordFailure(attempt, "", err)
		if !dr.Drains() { // no stored drill will bring it back: do it now
			_, ferr := s.regions.Failover(context.WithoutCancel(c.Request.Context()), dr.Region,
				regions.FailoverOptions{Mode: regions.Planned, To: dr.Region})
			s.log.Warn("failover drill not stored; failed back at once", "region", dr.Region, "error", ferr)
		}
		if errors.Is(err, ErrDrillConflict) {
			fail(c, kindDrillConflict, fmt.Sprintf("region %s already has an active drill", req.Region))
			return
		}
		fail(c, kindStoreError, "storing the drill: "+err.Error())
		return
	}
	if err := s.drills.refresh(c.Request.Context()); err != nil {
		s.log.Warn("refreshing drills", "error", err)
	}
	c.JSON(201, dr)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
