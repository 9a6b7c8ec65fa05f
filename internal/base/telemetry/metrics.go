// Package telemetry sets up the process's OpenTelemetry metrics, exported in Prometheus format.
package telemetry

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metrics is a meter provider whose readings are served at /metrics.
type Metrics struct {
	Provider *sdkmetric.MeterProvider
	Handler  http.Handler
}

// NewMetrics builds a private registry (tests can make many) with the otel
// Prometheus exporter reading into it.
func NewMetrics() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("creating prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	return &Metrics{Provider: mp, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}, nil
}

// Meter returns the meter for a component.
func (m *Metrics) Meter(name string) metric.Meter { return m.Provider.Meter(name) }
