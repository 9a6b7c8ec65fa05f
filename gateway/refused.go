package gateway

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/regiongate/regiongate/internal/base/audit"
)

// Why an admin call was refused for its token: the reason label of
// regiongate_admin_refused_total, a fixed set.
const (
	refusedMissingToken = "missing_token" // no Authorization header
	refusedInvalidToken = "invalid_token" // a header, but no token of ours
	refusedLacksRole    = "lacks_role"    // a valid token without the call's role
)

// refusedPerMinute bounds the audit entries of refused calls: per reason,
// the first this many each minute are recorded one by one, the rest in one
// entry that counts them. Someone sending bad tokens must not be able to
// fill the log; the metric counts every call.
const refusedPerMinute = 10

// refusals queues the audit entries of refused admin calls, bounded.
type refusals struct {
	mu      sync.Mutex
	windows map[string]*refusalWindow // by reason
	queue   []audit.Entry
}

type refusalWindow struct {
	start                time.Time
	recorded, unrecorded int
}

func newRefusals() *refusals { return &refusals{windows: map[string]*refusalWindow{}} }

// note takes one refused call at now.
func (r *refusals) note(now time.Time, reason string, e audit.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.windows[reason]
	if w != nil && now.Sub(w.start) >= time.Minute {
		r.close(reason, w)
		w = nil
	}
	if w == nil {
		w = &refusalWindow{start: now}
		r.windows[reason] = w
	}
	if w.recorded < refusedPerMinute {
		w.recorded++
		r.queue = append(r.queue, e)
		return
	}
	w.unrecorded++
}

// due takes the entries to write at now: those queued, and a count for
// each minute that has ended with calls left unrecorded.
func (r *refusals) due(now time.Time) []audit.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	for reason, w := range r.windows {
		if now.Sub(w.start) >= time.Minute {
			r.close(reason, w)
			delete(r.windows, reason)
		}
	}
	out := r.queue
	r.queue = nil
	return out
}

// close queues the count of w's unrecorded calls, if any.
func (r *refusals) close(reason string, w *refusalWindow) {
	if w.unrecorded == 0 {
		return
	}
	r.queue = append(r.queue, audit.Entry{Actor: actorGateway, Action: "admin.refused", Target: reason, Source: "api",
		Detail: fmt.Sprintf("%d more admin calls refused (%s) in the minute from %s, beyond the %d recorded one by one; regiongate_admin_refused_total counts every one",
			w.unrecorded, reason, w.start.UTC().Format(time.RFC3339), refusedPerMinute)})
}

// refuse counts and audits an admin call refused for its token. The entry
// names the token only when it was valid (actor); the secret presented is
// never recorded.
func (s *Server) refuse(c *gin.Context, reason, actor, detail string) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.inst.adminRefused.Add(c.Request.Context(), 1, metric.WithAttributes(
		attribute.String("reason", reason), attribute.String("route", route)))
	host, _, err := net.SplitHostPort(c.Request.RemoteAddr)
	if err != nil {
		host = c.Request.RemoteAddr
	}
	if actor == "" {
		actor = actorUnknown
	}
	now := time.Now()
	s.refused.note(now, reason, audit.Entry{Time: now.UTC(), Actor: actor, Action: "admin.refused",
		Target: methodLabel(c.Request.Method) + " " + route, Source: "api", Detail: reason + ": " + detail + "; from " + host})
}

// flushRefusals writes the refused calls' entries due at now. They record
// attempts that changed nothing, so one that cannot be written is logged
// and dropped rather than kept: the queue stays bounded.
func (s *Server) flushRefusals(ctx context.Context, now time.Time) {
	for _, e := range s.refused.due(now) {
		_, _, _ = s.record(ctx, e, audit.Always)
	}
}
