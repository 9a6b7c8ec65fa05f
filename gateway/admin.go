package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
)

// RegionView is one region in GET /admin/v1/regions.
type RegionView struct {
	Name      string   `json:"name"`
	Endpoint  string   `json:"endpoint"`
	Namespace string   `json:"namespace"`
	Residency []string `json:"residency"`
	Failover  []string `json:"failover"`
	// Replica is the region its namespaces are replicated to, if any.
	Replica string `json:"replica,omitempty"`
	State   string `json:"state"`   // active or drained
	Breaker string `json:"breaker"` // closed, open or half-open
	Healthy bool   `json:"healthy"`
	// Reachable: the last health check passed (Healthy changes only after
	// a few checks agree).
	Reachable bool   `json:"reachable"`
	Drill     string `json:"drill,omitempty"` // the active drill draining it
	// Traffic is this replica's client API traffic to the region.
	Traffic RegionTraffic `json:"traffic"`
}

func (s *Server) regionViews() []RegionView {
	var out []RegionView
	drilled := map[string]string{}
	drains := map[string]bool{}
	for _, d := range s.drills.active(time.Now()) {
		drilled[d.Region], drains[d.Region] = d.ID, d.Drains()
	}
	for _, r := range s.regions.All() {
		cfg := r.Config()
		v := RegionView{
			Name: cfg.Name, Endpoint: cfg.Endpoint, Namespace: cfg.Namespace,
			Residency: nonNil(cfg.Residency), Failover: nonNil(cfg.Failover), Replica: cfg.Replica,
			State: "active", Breaker: r.Breaker(), Healthy: r.Healthy(), Reachable: r.Reachable(),
			Traffic: s.traffic.view(cfg.Name),
		}
		if r.Drained() || drains[cfg.Name] {
			v.State = "drained"
		}
		v.Drill = drilled[cfg.Name]
		out = append(out, v)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) listRegions(c *gin.Context) {
	c.JSON(200, gin.H{"regions": s.regionViews()})
}

// drain drains or restores a region, recorded before it happens.
func (s *Server) drain(drained bool) gin.HandlerFunc {
	action := "region.restore"
	if drained {
		action = "region.drain"
	}
	return func(c *gin.Context) {
		name := c.Param("name")
		if _, ok := s.regions.Region(name); !ok {
			fail(c, kindRegionNotFound, fmt.Sprintf("%v %q", regions.ErrUnknownRegion, name))
			return
		}
		attempt, ok := s.auditRequest(c, audit.Entry{Action: action, Target: name})
		if !ok {
			return
		}
		if err := s.regions.SetDrained(name, drained); err != nil {
			s.recordFailure(attempt, "", err)
			if errors.Is(err, regions.ErrUnknownRegion) {
				fail(c, kindRegionNotFound, err.Error())
				return
			}
			fail(c, kindDrainNotStored, err.Error())
			return
		}
		for _, v := range s.regionViews() {
			if v.Name == name {
				c.JSON(200, v)
				return
			}
		}
	}
}

func (s *Server) explain(c *gin.Context) {
	l := s.live.Load()
	b, ok := s.parseStart(c, l)
	if !ok {
		return
	}
	d, err := l.policy.Explain(b.routerRequest(), s.snapshot())
	out := gin.H{"decision": d, "allowed": err == nil, "userLocation": b.UserLocation,
		"locationSource": c.Writer.Header().Get("X-Location-Source")}
	switch {
	case errors.Is(err, router.ErrNoLawfulRegion):
		out["refusal"] = gin.H{"status": 422, "reason": err.Error()}
	case errors.Is(err, router.ErrNoRegionAvailable):
		out["refusal"] = gin.H{"status": 503, "reason": err.Error()}
	}
	c.JSON(200, out)
}
