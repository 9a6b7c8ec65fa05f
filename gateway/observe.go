package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/regiongate/regiongate/router"
)

// Context keys handlers set so the metrics middleware can label requests.
const (
	ctxRegion = "regiongate.region"
	ctxClass  = "regiongate.class"
)

// instruments are the gateway's own metrics. Names follow Prometheus
// conventions once the exporter adds its suffixes (docs/observability.md).
type instruments struct {
	requests  metric.Int64Counter
	duration  metric.Float64Histogram
	decisions metric.Int64Counter
	refusals  metric.Int64Counter
	// configRejects counts configs refused by validation or apply.
	configRejects metric.Int64Counter
	// ignoredHeaders counts location headers from peers not trusted for them.
	ignoredHeaders metric.Int64Counter
	// adminRefused counts admin calls refused for their token (401, 403).
	adminRefused metric.Int64Counter
	// auditFailures counts audit entries that could not be written.
	auditFailures metric.Int64Counter
}

// ignoredHeader counts one location header that was not believed; the
// resolver only reports configured header names, so the label is bounded.
func (in *instruments) ignoredHeader(header string) {
	in.ignoredHeaders.Add(context.Background(), 1, metric.WithAttributes(attribute.String("header", header)))
}

func newInstruments(m metric.Meter) *instruments {
	if m == nil {
		m = noop.NewMeterProvider().Meter("")
	}
	in := &instruments{}
	// Errors here only come from invalid names, which are constants.
	in.requests, _ = m.Int64Counter("regiongate.http.requests",
		metric.WithDescription("HTTP requests by route, method, status, region and data classification"))
	in.duration, _ = m.Float64Histogram("regiongate.http.request.duration", metric.WithUnit("s"),
		metric.WithDescription("HTTP request latency"),
		metric.WithExplicitBucketBoundaries(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
	in.decisions, _ = m.Int64Counter("regiongate.routing.decisions",
		metric.WithDescription("Routing decisions by chosen region, classification and whether the home region was chosen"))
	in.refusals, _ = m.Int64Counter("regiongate.routing.refusals",
		metric.WithDescription("Routing refusals by reason (no_lawful_region, no_region_available) and classification"))
	in.configRejects, _ = m.Int64Counter("regiongate.config.reload.failures",
		metric.WithDescription("Region configs refused (invalid or not applicable); the old config stayed in force"))
	in.ignoredHeaders, _ = m.Int64Counter("regiongate.location.ignored.headers",
		metric.WithDescription("Location headers (X-Forwarded-For, CDN country headers) sent by a peer not trusted to set them, by header"))
	in.adminRefused, _ = m.Int64Counter("regiongate.admin.refused",
		metric.WithDescription("Admin API calls refused for their token, by reason (missing_token, invalid_token, lacks_role) and route"))
	in.auditFailures, _ = m.Int64Counter("regiongate.audit.failures",
		metric.WithDescription("Audit entries that could not be written, by action; the change they named was refused or held back"))
	return in
}

// observe records every request's metrics once the handler is done.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		// Operators can look a request up in their tracing backend.
		if id := traceID(c); id != "" {
			c.Header("X-Trace-ID", id)
		}
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		attrs := metric.WithAttributes(
			attribute.String("route", route),
			attribute.String("method", methodLabel(c.Request.Method)),
			attribute.Int("status", c.Writer.Status()),
			attribute.String("region", c.GetString(ctxRegion)),
			attribute.String("classification", c.GetString(ctxClass)),
		)
		ctx := c.Request.Context() // synchronous instruments ignore its cancellation
		s.inst.requests.Add(ctx, 1, attrs)
		s.inst.duration.Record(ctx, time.Since(start).Seconds(), attrs)
	}
}

// methodLabel keeps the method label to a fixed set: the method is the
// client's to invent, and every new label value is a new series that
// /metrics keeps forever.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// recordDecision counts the decision and notes it on the request's span,
// so a trace shows where the request went and why.
func (s *Server) recordDecision(c *gin.Context, req router.Request, d router.Decision, err error) {
	c.Set(ctxClass, req.Class)
	ctx := c.Request.Context()
	span := trace.SpanFromContext(ctx)
	if err != nil {
		reason := "no_region_available"
		if errors.Is(err, router.ErrNoLawfulRegion) {
			reason = "no_lawful_region"
		}
		s.inst.refusals.Add(ctx, 1, metric.WithAttributes(
			attribute.String("reason", reason), attribute.String("classification", req.Class)))
		if span.IsRecording() {
			span.AddEvent("routing.refused", trace.WithAttributes(
				attribute.String("reason", reason), attribute.StringSlice("lawful", d.Lawful)))
		}
		return
	}
	home := len(d.Lawful) > 0 && d.Region == d.Lawful[0]
	s.inst.decisions.Add(ctx, 1, metric.WithAttributes(
		attribute.String("region", d.Region), attribute.String("classification", req.Class), attribute.Bool("home", home)))
	if !span.IsRecording() {
		return // the slices below are copied into the event: only for a span that keeps it
	}
	span.AddEvent("routing.decision", trace.WithAttributes(
		attribute.String("region", d.Region),
		attribute.String("namespace", d.Namespace),
		attribute.String("task_queue", d.TaskQueue),
		attribute.StringSlice("candidates", d.Candidates),
		attribute.StringSlice("lawful", d.Lawful),
		attribute.Bool("resident", d.Resident),
	))
}

// registerRegionGauges reports every region's breaker, health and drain
// state, and the config version, whenever metrics are read.
func (s *Server) registerRegionGauges(m metric.Meter) error {
	if m == nil {
		return nil
	}
	breaker, err := m.Int64ObservableGauge("regiongate.region.breaker.state",
		metric.WithDescription("Circuit breaker state per region: 0 closed, 1 half-open, 2 open"))
	if err != nil {
		return err
	}
	healthy, err := m.Int64ObservableGauge("regiongate.region.healthy",
		metric.WithDescription("1 when the region's health checks pass"))
	if err != nil {
		return err
	}
	drained, err := m.Int64ObservableGauge("regiongate.region.drained",
		metric.WithDescription("1 when the region is drained"))
	if err != nil {
		return err
	}
	cfgInfo, err := m.Int64ObservableGauge("regiongate.config.info",
		metric.WithDescription("Always 1; the version label is the config in force"))
	if err != nil {
		return err
	}
	drill, err := m.Float64ObservableGauge("regiongate.drill.active", metric.WithUnit("s"),
		metric.WithDescription("Seconds since an active failover drill started, per region and drill"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		now := time.Now()
		for _, d := range s.drills.active(now) {
			o.ObserveFloat64(drill, now.Sub(d.Start).Seconds(),
				metric.WithAttributes(attribute.String("region", d.Region), attribute.String("drill", d.ID)))
		}
		for _, r := range s.regions.All() {
			at := metric.WithAttributes(attribute.String("region", r.Name()))
			o.ObserveInt64(breaker, breakerValue(r.Breaker()), at)
			o.ObserveInt64(healthy, boolValue(r.Healthy()), at)
			o.ObserveInt64(drained, boolValue(r.Drained()), at)
		}
		o.ObserveInt64(cfgInfo, 1, metric.WithAttributes(attribute.String("version", s.Policy().Config().Version())))
		return nil
	}, breaker, healthy, drained, cfgInfo, drill)
	return err
}

func breakerValue(state string) int64 {
	switch state {
	case "half-open":
		return 1
	case "open":
		return 2
	}
	return 0
}

func boolValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
