package workerd

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/regiongate/regiongate/internal/base/telemetry"
)

// serveMetrics exposes the SDK's own metrics (poll, task and activity
// latencies, slots, errors) through the otel Prometheus exporter, until
// Stop.
func (w *Worker) serveMetrics(addr string) (client.MetricsHandler, error) {
	m, err := telemetry.NewMetrics()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	w.closers = append(w.closers, func() { _ = srv.Close() })
	w.log.Info("worker metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:   m.Meter("temporal-sdk"),
		OnError: func(err error) { w.log.Warn("recording an SDK metric", "error", err) },
	}), nil
}
