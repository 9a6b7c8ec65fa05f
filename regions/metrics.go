package regions

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instruments are the regions' own metrics: breaker, health and drain
// transitions, health-check latency, and the routing records' sweeps
// (docs/observability.md).
type instruments struct {
	transitions    metric.Int64Counter
	healthLatency  metric.Float64Histogram
	recordsSwept   metric.Int64Counter
	recordsStored  metric.Int64Gauge
	recordsOK      metric.Int64Gauge
	sweepsFailures metric.Int64Counter
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
	return &in, in.records(m)
}

func (in *instruments) records(m metric.Meter) (err error) {
	if in.recordsSwept, err = m.Int64Counter("regiongate.records.swept",
		metric.WithDescription("Routing records the sweeper gave an expiry (what=expired) or removed (what=removed)")); err != nil {
		return err
	}
	if in.recordsStored, err = m.Int64Gauge("regiongate.records.stored",
		metric.WithDescription("Routing records in the store, counted after the last sweep")); err != nil {
		return err
	}
	if in.recordsOK, err = m.Int64Gauge("regiongate.records.complete",
		metric.WithDescription("1 while the records store holds its marker (no records lost), else 0")); err != nil {
		return err
	}
	in.sweepsFailures, err = m.Int64Counter("regiongate.records.sweep_failures",
		metric.WithDescription("Regions, namespaces or store calls a sweep could not do"))
	return err
}

// sweep records what a sweep did.
func (in *instruments) sweep(rep SweepReport, complete bool) {
	if in == nil {
		return
	}
	ctx := context.Background()
	in.recordsSwept.Add(ctx, int64(rep.Expired), metric.WithAttributes(attribute.String("what", "expired")))
	in.recordsSwept.Add(ctx, int64(rep.Removed), metric.WithAttributes(attribute.String("what", "removed")))
	in.sweepsFailures.Add(ctx, int64(len(rep.Errors)))
	if rep.Records >= 0 {
		in.recordsStored.Record(ctx, int64(rep.Records))
	}
	ok := int64(0)
	if complete {
		ok = 1
	}
	in.recordsOK.Record(ctx, ok)
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
