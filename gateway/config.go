package gateway

import (
	"context"
	"errors"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/jsonbody"
	"github.com/regiongate/regiongate/router"
)

// maxConfigBytes caps a config PUT.
const maxConfigBytes = 4 << 20

// newWatcher wires the config watcher to this server: every config that
// arrives (from the source or a PUT) is compiled, checked, audited and
// swapped in whole, or refused with the old one kept. One the audit log
// cannot take is held back and offered again (configs.Watcher.Audit),
// counted in the reload failures.
func (s *Server) newWatcher(src configs.Source, m metric.Meter) {
	rejects := s.inst.configRejects
	s.watcher = &configs.Watcher{
		Source: src,
		Apply:  s.setConfig,
		Check: func(cfg *configs.Config) error {
			l, err := s.compile(cfg)
			if err != nil {
				return err
			}
			l.resolver.Close()
			return s.regions.Check(cfg)
		},
		OnReject: func(err error) {
			rejects.Add(context.Background(), 1, metric.WithAttributes(attribute.String("source", src.String())))
			s.log.Error("config refused; the previous config stays in force", "source", src.String(), "error", err)
		},
		OnApply: func(cfg *configs.Config) {
			s.log.Info("config applied", "source", src.String(), "version", cfg.Version())
		},
		Audit: s.auditConfig(src),
	}
}

// WatchConfig applies the source's current config and follows its
// changes until ctx ends. A bad config at this point is an error.
func (s *Server) WatchConfig(ctx context.Context) error { return s.watcher.Start(ctx) }

// ReloadConfig reads the source now (on SIGHUP).
func (s *Server) ReloadConfig(ctx context.Context) error { return s.watcher.Reload(ctx) }

func etag(cfg *configs.Config) string { return `"` + cfg.Version() + `"` }

func (s *Server) getConfig(c *gin.Context) {
	cfg := s.Policy().Config()
	c.Header("ETag", etag(cfg))
	c.Data(200, "application/yaml", cfg.Raw())
}

// putConfig replaces the config: If-Match must name the config in force;
// the new one is validated completely before it is stored or used.
func (s *Server) putConfig(c *gin.Context) {
	ifMatch := c.GetHeader("If-Match")
	if ifMatch == "" {
		fail(c, kindPreconditionRequired, "send If-Match with the ETag from GET /admin/v1/config")
		return
	}
	// Not the config's own maxBodyBytes, which is for the client API: a
	// small one must not lock out the edit that raises it.
	data, err := jsonbody.ReadLimited(c.Request.Body, maxConfigBytes)
	if err != nil {
		failBody(c, err)
		return
	}
	version := strings.TrimPrefix(strings.Trim(strings.TrimSpace(ifMatch), `"`), "W/")
	ctx := context.WithValue(c.Request.Context(), actorKey{}, actorOf(c))
	old, cfg, err := s.watcher.Replace(ctx, data, strings.Trim(version, `"`))
	if err != nil {
		s.configError(c, err)
		return
	}
	changes := router.Diff(router.New(old), router.New(cfg))
	c.Header("ETag", etag(cfg))
	c.JSON(200, gin.H{"version": cfg.Version(), "previous": old.Version(), "changes": changes, "summary": router.Summary(changes)})
}

func (s *Server) configError(c *gin.Context, err error) {
	var ve *configs.ValidationError
	switch {
	case errors.Is(err, configs.ErrVersionMismatch), errors.Is(err, configs.ErrStale):
		fail(c, kindPreconditionFailed, "the config changed since you read it; GET it again and reapply your edit")
	case errors.As(err, &ve):
		p := newProblem(kindConfigInvalid, ve.Error())
		p.Problems = ve.Problems
		writeProblem(c, p)
	case errors.Is(err, configs.ErrNotAudited):
		fail(c, kindAuditUnavailable, "the audit log could not be written, so nothing changed: "+err.Error())
	case errors.Is(err, configs.ErrNotStored):
		fail(c, kindStoreError, "the config store could not be written; nothing changed: "+err.Error())
	case errors.Is(err, configs.ErrStoredNotApplied):
		fail(c, kindConfigNotApplied, "the config was stored but could not be applied; the old one stays in force until a new PUT: "+err.Error())
	default:
		p := newProblem(kindConfigInvalid, "config refused, the old one stays in force: "+err.Error())
		p.Problems = configs.ProblemsOf(err)
		writeProblem(c, p)
	}
}

// ConfigPreview is the answer of POST /admin/v1/config/preview: what
// saving a config would do, worked out without storing or applying
// anything.
type ConfigPreview struct {
	// Valid: a PUT of this config would be accepted (If-Match aside).
	Valid bool `json:"valid"`
	// Base is the version in force, the "before" of Changes.
	Base string `json:"base"`
	// Version is the previewed config's, when it is valid.
	Version string `json:"version,omitempty"`
	// Problems are why it is not valid, each with its line where known.
	Problems []configs.Problem `json:"problems"`
	// Warnings are what is valid but probably wrong.
	Warnings []configs.Problem `json:"warnings"`
	// Changes are the country x class routes whose region order changes.
	Changes []router.Change `json:"changes"`
	Summary string          `json:"summary"`
	// NewlyRefused are the Changes that leave a route with no region.
	NewlyRefused []router.Change `json:"newlyRefused"`
}

// previewConfig checks a config as PUT would, and diffs it against the
// one in force; it changes nothing, so it is not audited.
func (s *Server) previewConfig(c *gin.Context) {
	data, err := jsonbody.ReadLimited(c.Request.Body, maxConfigBytes)
	if err != nil {
		failBody(c, err)
		return
	}
	cur := s.Policy()
	out := ConfigPreview{Base: cur.Config().Version(), Problems: []configs.Problem{}, Warnings: []configs.Problem{},
		Changes: []router.Change{}, NewlyRefused: []router.Change{}}
	cfg, err := configs.Parse(data)
	if err == nil {
		err = s.watcher.Check(cfg)
	}
	if err != nil {
		out.Problems = configs.ProblemsOf(err)
		out.Summary = "not valid: nothing would change"
		c.JSON(200, out)
		return
	}
	out.Valid, out.Version = true, cfg.Version()
	out.Warnings = append(out.Warnings, cfg.Warnings()...)
	out.Changes = append(out.Changes, router.Diff(cur, router.New(cfg))...)
	out.Summary = router.Summary(out.Changes)
	for _, ch := range out.Changes {
		if len(ch.Before) > 0 && len(ch.After) == 0 {
			out.NewlyRefused = append(out.NewlyRefused, ch)
		}
	}
	c.JSON(200, out)
}
