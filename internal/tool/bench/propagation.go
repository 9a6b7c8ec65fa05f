package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
)

// PropagationOptions measure how long a config written to the store takes
// to be served by every replica. Zero values take the defaults below.
type PropagationOptions struct {
	Writes int // default 100
	// Write stores the i-th config and returns the version it will have.
	Write func(ctx context.Context, i int) (version string, err error)
	// Replicas report the config version each replica serves.
	Replicas []func(ctx context.Context) (string, error)
	Poll     time.Duration // between polls of one replica; default 1ms
	Timeout  time.Duration // per write; default 10s
	Progress io.Writer
}

// PropagationResult is what the propagation experiment measured. A sample
// is the time from the write until the last replica serves it.
type PropagationResult struct {
	Writes   int     `json:"writes"`
	Replicas int     `json:"replicas"`
	PollMs   float64 `json:"poll_ms"`
	P50Ms    float64 `json:"p50_ms"`
	P95Ms    float64 `json:"p95_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	Timeouts int     `json:"timeouts"` // writes some replica never served
}

// Propagation writes configs one after another and polls every replica
// until each serves the new one.
func Propagation(ctx context.Context, o PropagationOptions) (PropagationResult, error) {
	if o.Writes <= 0 {
		o.Writes = 100
	}
	if o.Poll <= 0 {
		o.Poll = time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	r := PropagationResult{Writes: o.Writes, Replicas: len(o.Replicas), PollMs: ms(o.Poll)}
	var s Sample
	for i := range o.Writes {
		want, err := o.Write(ctx, i)
		if err != nil {
			return r, fmt.Errorf("write %d: %w", i, err)
		}
		began := time.Now()
		if !o.awaitAll(ctx, want, began.Add(o.Timeout)) {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			r.Timeouts++
			continue
		}
		s.Latencies = append(s.Latencies, time.Since(began))
		if o.Progress != nil && (i+1)%max(1, o.Writes/5) == 0 {
			fmt.Fprintf(o.Progress, "  propagation: %d/%d writes\n", i+1, o.Writes)
		}
	}
	sum := s.Summarize("propagation")
	r.P50Ms, r.P95Ms, r.P99Ms, r.MaxMs = sum.P50Ms, sum.P95Ms, sum.P99Ms, sum.MaxMs
	return r, nil
}

// awaitAll polls every replica in parallel until each serves want or the
// deadline passes; it reports whether all did.
func (o PropagationOptions) awaitAll(ctx context.Context, want string, deadline time.Time) bool {
	var wg sync.WaitGroup
	ok := make([]bool, len(o.Replicas))
	for i, version := range o.Replicas {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if v, err := version(ctx); err == nil && v == want {
					ok[i] = true
					return
				}
				_ = Sleep(ctx, o.Poll) // polling interval of the measurement
			}
		})
	}
	wg.Wait()
	for _, b := range ok {
		if !b {
			return false
		}
	}
	return true
}

// ReplicaVersion reads the config version a gateway replica serves: the
// ETag of GET /admin/v1/config on its admin API.
func ReplicaVersion(hc *http.Client, adminURL, token string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, adminURL+"/admin/v1/config", nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s/admin/v1/config: %s", adminURL, resp.Status)
		}
		return strings.Trim(resp.Header.Get("ETag"), `"`), nil
	}
}

// ConsulWriter writes base with a comment naming the write appended, so
// every write is a new config version with the same meaning.
func ConsulWriter(kv *api.KV, key string, base []byte, runID string) func(ctx context.Context, i int) (string, error) {
	return func(ctx context.Context, i int) (string, error) {
		text := fmt.Appendf(append([]byte(nil), base...), "\n# regiongate bench %s write %d\n", runID, i)
		if _, err := kv.Put(&api.KVPair{Key: key, Value: text}, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
			return "", fmt.Errorf("writing consul key %s: %w", key, err)
		}
		return configs.VersionOf(text), nil
	}
}
