package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
)

// ModeHTTPFloor starts through the thinnest HTTP front to the SDK there
// is: a net/http handler that decodes the start, calls ExecuteWorkflow on
// one long-lived client, and encodes the answer. No routing, records,
// breaker, middleware or telemetry. What it adds over direct is what any
// HTTP hop in front of Temporal costs on this machine; what the gateway
// adds beyond it is the gateway's own.
const ModeHTTPFloor = "http-floor"

// floorStart is the part of the client API's start body the floor reads.
type floorStart struct {
	WorkflowID string          `json:"workflowId"`
	Input      json.RawMessage `json:"input"`
}

// startHTTPFloor serves ModeHTTPFloor on a free loopback port until stop.
// ov times its client's start RPCs and its handler.
func startHTTPFloor(ctx context.Context, w Workload, ov *Overhead) (url string, stop func(), err error) {
	copts := client.Options{HostPort: w.Endpoint, Namespace: w.Namespace, Logger: QuietLogger()}
	copts.ConnectionOptions.DialOptions = []grpc.DialOption{ov.DialOption()}
	c, err := client.DialContext(ctx, copts)
	if err != nil {
		return "", nil, fmt.Errorf("dialing %s at %s: %w", w.Region, w.Endpoint, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.Close()
		return "", nil, err
	}
	hs := &http.Server{Handler: ov.Handler(floorHandler(c, w)), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Debug("http floor stopped serving", "error", err)
		}
	}()
	return "http://" + ln.Addr().String(), func() { _ = hs.Close(); c.Close() }, nil
}

func floorHandler(c client.Client, w Workload) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var req floorStart
		if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 1<<20)).Decode(&req); err != nil || req.WorkflowID == "" {
			http.Error(rw, "bad start", http.StatusBadRequest)
			return
		}
		var args []any
		if len(req.Input) > 0 {
			args = append(args, req.Input)
		}
		_, err := c.ExecuteWorkflow(r.Context(), w.startOptions(req.WorkflowID), w.WorkflowType, args...)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(rw).Encode(Started{
			WorkflowID: req.WorkflowID, Region: w.Region, Namespace: w.Namespace, TaskQueue: w.TaskQueue,
		})
	})
}
