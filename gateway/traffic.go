package gateway

import (
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// trafficWindow is how far back a region's recent error rate looks.
const trafficWindow = 60 * time.Second

// ctxTraffic names the region a client API request was counted in flight
// to (traffic.enter); countTraffic ends the count.
const ctxTraffic = "regiongate.traffic"

// traffic counts, per region, this replica's client API requests sent to
// it: how many are in flight now, and how many of those that ended in the
// last minute were answered with a server error (5xx). Small and bounded:
// per region a counter and a ring of one bucket per second, for the
// regions the config names.
type traffic struct {
	mu      sync.Mutex
	regions map[string]*regionTraffic
	now     func() time.Time
}

type regionTraffic struct {
	inFlight int64
	seconds  [int(trafficWindow / time.Second)]trafficSecond
}

// trafficSecond holds the requests that ended in one second.
type trafficSecond struct {
	unix             int64
	requests, errors int64
}

// RegionTraffic is a region's traffic as this replica saw it.
type RegionTraffic struct {
	InFlight int64 `json:"inFlight"`
	// Requests and Errors ended in the last WindowSeconds; ErrorRate is
	// Errors / Requests (0 without requests).
	WindowSeconds int     `json:"windowSeconds"`
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	ErrorRate     float64 `json:"errorRate"`
}

func newTraffic() *traffic {
	return &traffic{regions: map[string]*regionTraffic{}, now: time.Now}
}

func (t *traffic) region(name string) *regionTraffic {
	r := t.regions[name]
	if r == nil {
		r = &regionTraffic{}
		t.regions[name] = r
	}
	return r
}

// enterRegion counts the request as in flight to region until it ends; a
// request enters at most one region (the first one counted).
func (s *Server) enterRegion(c *gin.Context, region string) {
	if region == "" || c.GetString(ctxTraffic) != "" {
		return
	}
	if _, known := s.Policy().TenantNamespaceIn(region, ""); !known {
		return // only the config's regions: the map stays bounded
	}
	s.traffic.enter(region)
	c.Set(ctxTraffic, region)
}

// enter counts one more request in flight to region.
func (t *traffic) enter(region string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.region(region).inFlight++
}

// countTraffic ends the count enterRegion began: the request leaves the
// region it entered, and its outcome is counted against the region it
// ended in (a start that failed over is another region's success).
func (s *Server) countTraffic() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			entered := c.GetString(ctxTraffic)
			if entered == "" {
				return
			}
			landed := c.GetString(ctxRegion)
			if landed == "" {
				landed = entered
			}
			s.traffic.leave(entered, landed, c.Writer.Status() >= 500)
		}()
		c.Next()
	}
}

func (t *traffic) leave(entered, landed string, failed bool) {
	now := t.now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.region(entered).inFlight--
	r := t.region(landed)
	b := &r.seconds[now%int64(len(r.seconds))]
	if b.unix != now {
		*b = trafficSecond{unix: now}
	}
	b.requests++
	if failed {
		b.errors++
	}
}

// view reports a region's traffic now.
func (t *traffic) view(name string) RegionTraffic {
	now := t.now().Unix()
	out := RegionTraffic{WindowSeconds: int(trafficWindow / time.Second)}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.regions[name]
	if r == nil {
		return out
	}
	out.InFlight = r.inFlight
	for _, b := range r.seconds {
		if now-b.unix < int64(len(r.seconds)) {
			out.Requests += b.requests
			out.Errors += b.errors
		}
	}
	if out.Requests > 0 {
		out.ErrorRate = float64(out.Errors) / float64(out.Requests)
	}
	return out
}
