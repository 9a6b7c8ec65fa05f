package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/router"
)

// auditTimeout bounds one audit write: the change it records waits for it.
const auditTimeout = 10 * time.Second

// Actors of entries no admin token made.
const (
	actorUnknown = "unknown"    // a config edited in its file or Consul key: who did it is not ours to know
	actorGateway = "regiongate" // the gateway itself: a drill's end, a count of refused calls
)

// actorKey carries the admin token's name to the config watcher's audit
// hook, which sees a context, not the request.
type actorKey struct{}

func actorOf(c *gin.Context) string {
	if t, ok := c.Get(tokenKey); ok {
		return t.(Token).Name
	}
	return actorUnknown
}

// record appends e to the audit log; a failure is counted and logged.
func (s *Server) record(ctx context.Context, e audit.Entry, when audit.Condition) (audit.Entry, bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	stored, appended, err := s.auditLog.Append(ctx, e, when)
	if err != nil {
		s.inst.auditFailures.Add(ctx, 1, metric.WithAttributes(attribute.String("action", e.Action)))
		s.log.Error("audit entry not written", "action", e.Action, "target", e.Target, "actor", e.Actor, "error", err)
	}
	return stored, appended, err
}

// recordFailure follows an attempt whose change did not take effect. mark,
// if set, replaces the attempt's mark.
func (s *Server) recordFailure(attempt audit.Entry, mark string, cause error) {
	e := audit.Entry{Actor: attempt.Actor, Action: attempt.Action, Target: attempt.Target, Source: attempt.Source,
		Outcome: "failed", Refers: attempt.Seq, Mark: mark, Detail: cause.Error()}
	if _, _, err := s.record(context.Background(), e, audit.Always); err != nil {
		s.log.Error("a change that failed stays recorded as attempted", "seq", attempt.Seq, "action", attempt.Action, "cause", cause)
	}
}

// auditRequest records the change an admin call is about to make. When it
// cannot, it answers audit-unavailable and returns false: nothing changes.
func (s *Server) auditRequest(c *gin.Context, e audit.Entry) (audit.Entry, bool) {
	e.Actor, e.Source = actorOf(c), "api"
	stored, _, err := s.record(c.Request.Context(), e, audit.Always)
	if err != nil {
		fail(c, kindAuditUnavailable, "the audit log could not be written, so nothing changed: "+err.Error())
		return audit.Entry{}, false
	}
	return stored, true
}

// auditConfig is the config watcher's Audit hook. Every replica applying a
// change from the source offers the same entry, marked with the version;
// the first writes it, and a PUT's entry (written before the source is)
// already holds the mark, so the replicas that see the PUT's write add
// nothing. If the change then fails, the mark is cleared, so a later write
// of the same version is recorded again.
func (s *Server) auditConfig(src configs.Source) func(context.Context, configs.Change) (func(error), error) {
	return func(ctx context.Context, ch configs.Change) (func(error), error) {
		e := audit.Entry{Action: "config.replace", Target: ch.New.Version(), Actor: actorUnknown,
			Mark: "config=" + ch.New.Version(), Detail: configDetail(ch)}
		when := audit.IfMarkDiffers
		switch ch.Origin {
		case configs.FromReplace:
			e.Source, when = "api", audit.Always
			if actor, ok := ctx.Value(actorKey{}).(string); ok {
				e.Actor = actor
			}
		case configs.FromSource:
			e.Source = src.String()
		case configs.FromReload:
			e.Source = "sighup (" + src.String() + ")"
		case configs.FromStart:
			e.Source = "start-up (" + src.String() + ")"
		}
		stored, appended, err := s.record(ctx, e, when)
		if err != nil {
			return nil, err
		}
		return func(err error) {
			if err == nil || !appended {
				return
			}
			// Clearing the mark, rather than setting it back to the old
			// version, stays right if another replica has recorded a
			// third version meanwhile: at worst the next one is recorded
			// twice, never not at all.
			s.recordFailure(stored, "config=", err)
		}, nil
	}
}

func configDetail(ch configs.Change) string {
	if ch.Old == nil {
		return "in force at start-up and not recorded before: the first start, or edited while no gateway ran"
	}
	return "from " + ch.Old.Version() + ": " + router.Summary(router.Diff(router.New(ch.Old), router.New(ch.New)))
}

func (s *Server) listAudit(c *gin.Context) {
	keep, err := auditFilter(c)
	if err != nil {
		fail(c, kindBadRequest, err.Error())
		return
	}
	entries, err := s.auditLog.List(c.Request.Context())
	if err != nil {
		fail(c, kindStoreError, err.Error())
		return
	}
	entries = slices.DeleteFunc(entries, func(e audit.Entry) bool { return !keep(e) })
	if entries == nil {
		entries = []audit.Entry{}
	}
	head, err := s.auditLog.Head(c.Request.Context())
	if err != nil {
		fail(c, kindStoreError, err.Error())
		return
	}
	c.JSON(200, gin.H{"entries": entries, "head": head})
}

// RunAudit writes, every interval until ctx ends, what the gateway audits
// by itself: the entries of refused admin calls (bounded, see refusals)
// and the end of each drill whose end has passed.
func (s *Server) RunAudit(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		s.flushRefusals(ctx, now)
		// Every replica publishes its counts each drill refresh: wait a few
		// before summing them.
		s.recordDrillEnds(ctx, now.Add(-3*interval))
	}
}

// recordDrillEnds writes one drill.end, across replicas (the mark is the
// drill's), for each drill that ended before t: the region came back by
// itself, with the drill's counts.
func (s *Server) recordDrillEnds(ctx context.Context, t time.Time) {
	for _, dr := range s.drills.endedUnrecorded(t) {
		stats, err := s.drills.store.Stats(ctx, dr.ID)
		if err != nil {
			s.log.Warn("reading a drill's counts for its audit entry", "drill", dr.ID, "error", err)
			continue
		}
		var total DrillStats
		for _, st := range stats {
			total = total.add(st)
		}
		e := audit.Entry{Actor: actorGateway, Action: "drill.end", Target: dr.ID, Source: "drill",
			Mark: "drill/" + dr.ID + "=ended",
			Detail: fmt.Sprintf("%s back in rotation at %s, as scheduled by %s; rerouted %d, refused %d, errors %d",
				dr.Region, dr.End.UTC().Format(time.RFC3339), dr.Actor, total.Rerouted, total.Refused, total.Errors)}
		if _, _, err := s.record(ctx, e, audit.IfMarkDiffers); err == nil {
			s.drills.endRecorded(dr.ID)
		}
	}
}

// auditFilter reads GET /admin/v1/audit's optional filters: actor (the
// token's name, exactly), action (exactly, or a prefix before a dot:
// "drill" is drill.start and drill.end), since and until (RFC 3339; since
// inclusive, until exclusive). The head stays the chain's, whatever the
// filter.
func auditFilter(c *gin.Context) (func(audit.Entry) bool, error) {
	actor, action := c.Query("actor"), c.Query("action")
	var since, until time.Time
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"since", &since}, {"until", &until}} {
		v := c.Query(t.name)
		if v == "" {
			continue
		}
		parsed, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Errorf("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z: %w", t.name, err)
		}
		*t.to = parsed
	}
	return func(e audit.Entry) bool {
		switch {
		case actor != "" && e.Actor != actor:
		case action != "" && e.Action != action && !strings.HasPrefix(e.Action, action+"."):
		case !since.IsZero() && e.Time.Before(since):
		case !until.IsZero() && !e.Time.Before(until):
		default:
			return true
		}
		return false
	}, nil
}
