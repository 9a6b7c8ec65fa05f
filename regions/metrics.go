package regions

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instruments are the regions' own metrics: breaker, health and drain
// transitions, and health-check latency (docs/observability.md).
type instruments struct {
	transitions   metric.Int64Counter
	healthLatency metric.Float64Histogram
}

func newInstruments(m metric.Meter) (*instruments, error) {
	if m == nil {
		return nil, nil
	}
	var in instruments
	var err error
	in.transitions, err = m.Int64Counter("regiongate.region.transitions",
		metric.WithDescription("Region state changes: what (breaker, health, drain), from and to"))
	if err != nil {
		return nil, err
	}
	in.healthLatency, err = m.Float64Histogram("regiongate.region.health_check.duration", metric.WithUnit("s"),
		metric.WithDescription("Latency of the active health checks (CheckHealth), by region and result"),
		metric.WithExplicitBucketBoundaries(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5))
	if err != nil {
		return nil, err
	}
	return &in, nil
}

func (in *instruments) stateChange(c StateChange) {
	if in == nil {
		return
	}
	in.transitions.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("region", c.Region), attribute.String("what", c.What),
		attribute.String("from", c.From), attribute.String("to", c.To)))
}

func (in *instruments) healthCheck(region string, d time.Duration, ok bool) {
	if in == nil {
		return
	}
	result := "pass"
	if !ok {
		result = "fail"
	}
	in.healthLatency.Record(context.Background(), d.Seconds(), metric.WithAttributes(
		attribute.String("region", region), attribute.String("result", result)))
}
