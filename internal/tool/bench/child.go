package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
)

// The ceiling measurement runs what it measures (a gateway, the http
// floor) as child processes of `regiongate bench`: the hidden subcommands
// `bench gateway-process` and `bench floor-process`. Each serves its API
// and, on a second loopback listener, its runtime statistics, and writes
// a ChildReady file once it serves.

// ChildReady says where a child process serves.
type ChildReady struct {
	URL   string `json:"url"`   // the client API (the gateway's or the floor's)
	Stats string `json:"stats"` // the statistics listener (ServeStats)
}

// WriteChildReady writes r to path in one step (a rename), so the parent
// never reads half of it.
func WriteChildReady(path string, r ChildReady) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readChildReady(path string) (ChildReady, error) {
	var r ChildReady
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(data, &r)
}

// RuntimeStats are a child's own Go runtime counters, read by the parent
// before and after a phase: allocations per start come from here.
type RuntimeStats struct {
	AllocObjects uint64 `json:"alloc_objects"` // cumulative heap allocations
	AllocBytes   uint64 `json:"alloc_bytes"`
	GCCycles     uint64 `json:"gc_cycles"`
	HeapLive     uint64 `json:"heap_live_bytes"` // live heap at the last GC
	Mapped       uint64 `json:"mapped_bytes"`    // all memory the runtime holds from the OS
	GOMAXPROCS   int    `json:"gomaxprocs"`
	Goroutines   int    `json:"goroutines"`
}

var runtimeSamples = []string{
	"/gc/heap/allocs:objects", "/gc/heap/allocs:bytes", "/gc/cycles/total:gc-cycles",
	"/gc/heap/live:bytes", "/memory/classes/total:bytes",
}

func readRuntimeStats() RuntimeStats {
	s := make([]metrics.Sample, len(runtimeSamples))
	for i, name := range runtimeSamples {
		s[i].Name = name
	}
	metrics.Read(s)
	u := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return RuntimeStats{
		AllocObjects: u(0), AllocBytes: u(1), GCCycles: u(2), HeapLive: u(3), Mapped: u(4),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Goroutines: runtime.NumGoroutine(),
	}
}

// ServeStats serves this process's RuntimeStats (GET /stats), CPU
// profiles (GET /profile?seconds=N) and its allocation profile since it
// started (GET /allocs) on a free loopback port until ctx ends, and returns its base URL. Only the bench's child processes run it;
// `regiongate serve` has no such listener.
func ServeStats(ctx context.Context) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(readRuntimeStats())
	})
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		secs, err := strconv.ParseFloat(r.URL.Query().Get("seconds"), 64)
		if err != nil || secs <= 0 || secs > 120 {
			http.Error(w, "seconds: want 0 < n <= 120", http.StatusBadRequest)
			return
		}
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		_ = Sleep(r.Context(), time.Duration(secs*float64(time.Second)))
		pprof.StopCPUProfile()
	})
	mux.HandleFunc("GET /allocs", func(w http.ResponseWriter, _ *http.Request) {
		_ = pprof.Lookup("allocs").WriteTo(w, 0)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	go func() { <-ctx.Done(); _ = hs.Close() }()
	return "http://" + ln.Addr().String(), nil
}

// ServeFloorProcess is `regiongate bench floor-process`: the http floor
// (see ModeHTTPFloor) in front of one SDK client to w's region, on a free
// loopback port, with ServeStats beside it, until ctx ends.
func ServeFloorProcess(ctx context.Context, w Workload, readyFile string) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: w.Endpoint, Namespace: w.Namespace, Logger: QuietLogger()})
	if err != nil {
		return fmt.Errorf("dialing %s at %s: %w", w.Region, w.Endpoint, err)
	}
	defer c.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	stats, err := ServeStats(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{Handler: floorHandler(c, w), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = hs.Close() }()
	if err := WriteChildReady(readyFile, ChildReady{URL: "http://" + ln.Addr().String(), Stats: stats}); err != nil {
		ln.Close()
		return err
	}
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		slog.Debug("http floor stopped serving", "error", err)
		return err
	}
	return nil
}
