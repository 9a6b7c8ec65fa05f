package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// NewTracerProvider builds the process's tracer provider from the standard
// OTEL_* environment: OTLP (gRPC, or HTTP when OTEL_EXPORTER_OTLP_PROTOCOL
// says http/protobuf) when an OTLP endpoint is set, stdout when
// OTEL_TRACES_EXPORTER=console, and otherwise no exporter (spans still
// carry trace ids into logs and across Temporal). The resource names the
// service and, when given, the region. It also installs the W3C
// propagators globally.
func NewTracerProvider(ctx context.Context, service, region string, extra ...sdktrace.TracerProviderOption) (*sdktrace.TracerProvider, error) {
	attrs := []attribute.KeyValue{semconv.ServiceName(service)}
	if region != "" {
		attrs = append(attrs, attribute.String("cloud.region", region))
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("building otel resource: %w", err)
	}
	if env, err := resource.New(ctx, resource.WithFromEnv()); err == nil {
		res, _ = resource.Merge(res, env)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	exp, err := exporterFromEnv(ctx)
	if err != nil {
		return nil, err
	}
	if exp != nil {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(append(opts, extra...)...)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp, nil
}

func exporterFromEnv(ctx context.Context) (sdktrace.SpanExporter, error) {
	switch strings.ToLower(os.Getenv("OTEL_TRACES_EXPORTER")) {
	case "none":
		return nil, nil
	case "console":
		return stdouttrace.New()
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, nil
	}
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if strings.HasPrefix(proto, "http") {
		return otlptracehttp.New(ctx)
	}
	return otlptracegrpc.New(ctx)
}

// TemporalTracing is the Temporal SDK's OpenTelemetry interceptor on tp:
// set on the gateway's clients and on the workers, it carries one trace
// from the HTTP request through the start into the workflow and its
// activities.
func TemporalTracing(tp *sdktrace.TracerProvider) (interceptor.Interceptor, error) {
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer: tp.Tracer("regiongate/temporal"),
	})
}
