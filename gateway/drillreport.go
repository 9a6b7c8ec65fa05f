package gateway

import (
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// latencies keeps the most recent client API request latencies, so a drill
// report can compare before, during and after.
type latencies struct {
	mu      sync.Mutex
	samples []latencySample
	next    int
}

type latencySample struct {
	at  time.Time
	dur time.Duration
}

const latencyWindow = 1 << 16

func (l *latencies) record(at time.Time, dur time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) < latencyWindow {
		l.samples = append(l.samples, latencySample{at, dur})
		return
	}
	l.samples[l.next] = latencySample{at, dur}
	l.next = (l.next + 1) % latencyWindow
}

// Latency summarises one window of a drill report.
type Latency struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Requests int       `json:"requests"`
	P50Ms    float64   `json:"p50Ms"`
	P99Ms    float64   `json:"p99Ms"`
}

func (l *latencies) window(from, to time.Time) Latency {
	l.mu.Lock()
	var durs []time.Duration
	for _, s := range l.samples {
		if !s.at.Before(from) && s.at.Before(to) {
			durs = append(durs, s.dur)
		}
	}
	l.mu.Unlock()
	out := Latency{From: from, To: to, Requests: len(durs)}
	if len(durs) == 0 {
		return out
	}
	slices.Sort(durs)
	q := func(p float64) float64 {
		return float64(durs[min(len(durs)-1, int(p*float64(len(durs))))].Microseconds()) / 1000
	}
	out.P50Ms, out.P99Ms = q(0.50), q(0.99)
	return out
}

// DrillReport is GET /admin/v1/drills/{id}.
type DrillReport struct {
	Drill
	Status   string `json:"status"` // scheduled, running, completed
	Rerouted int64  `json:"rerouted"`
	Refused  int64  `json:"refused"`
	Errors   int64  `json:"errors"`
	// Latency of client API requests served by this replica in equal
	// windows before, during and after the drill.
	Latency struct {
		Before Latency `json:"before"`
		During Latency `json:"during"`
		After  Latency `json:"after"`
	} `json:"latency"`
	Replicas map[string]DrillStats `json:"replicas"`
}

func (s *Server) drillReport(c *gin.Context) {
	ctx := c.Request.Context()
	if err := s.drills.refresh(ctx); err != nil {
		fail(c, kindStoreError, "reading drills: "+err.Error())
		return
	}
	list, err := s.drills.store.List(ctx)
	if err != nil {
		fail(c, kindStoreError, "reading drills: "+err.Error())
		return
	}
	i := slices.IndexFunc(list, func(d Drill) bool { return d.ID == c.Param("id") })
	if i < 0 {
		fail(c, kindDrillNotFound, "no drill "+c.Param("id"))
		return
	}
	stats, err := s.drills.store.Stats(ctx, list[i].ID)
	if err != nil {
		fail(c, kindStoreError, "reading drill counts: "+err.Error())
		return
	}
	c.JSON(200, s.report(list[i], stats, time.Now()))
}

func (s *Server) report(d Drill, stats map[string]DrillStats, now time.Time) DrillReport {
	r := DrillReport{Drill: d, Replicas: stats}
	var total DrillStats
	for _, st := range stats {
		total = total.add(st)
	}
	r.Rerouted, r.Refused, r.Errors = total.Rerouted, total.Refused, total.Errors
	switch {
	case now.Before(d.Start):
		r.Status = "scheduled"
	case d.Active(now):
		r.Status = "running"
	default:
		r.Status = "completed"
	}
	span := d.End.Sub(d.Start)
	r.Latency.Before = s.lat.window(d.Start.Add(-span), d.Start)
	r.Latency.During = s.lat.window(d.Start, d.End)
	r.Latency.After = s.lat.window(d.End, d.End.Add(span))
	return r
}

func (s *Server) listDrills(c *gin.Context) {
	list, err := s.drills.store.List(c.Request.Context())
	if err != nil {
		fail(c, kindStoreError, "reading drills: "+err.Error())
		return
	}
	if list == nil {
		list = []Drill{}
	}
	c.JSON(200, gin.H{"drills": list})
}
