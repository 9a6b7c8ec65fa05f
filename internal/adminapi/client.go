// Package adminapi is a small client for the gateway's admin API, used by the CLI.
package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls one gateway's admin API with a bearer token.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8081
	Token   string
	HTTP    *http.Client // nil means a client with a 30s timeout
}

// Error is a problem+json answer.
type Error struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail) }

// Do sends a request and decodes a 2xx JSON answer into out (if not nil).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling the admin API at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode, Title: resp.Status}
		_ = json.Unmarshal(data, e)
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Region is one row of GET /admin/v1/regions.
type Region struct {
	Name      string   `json:"name"`
	Endpoint  string   `json:"endpoint"`
	Namespace string   `json:"namespace"`
	Residency []string `json:"residency"`
	Failover  []string `json:"failover"`
	State     string   `json:"state"`
	Breaker   string   `json:"breaker"`
	Healthy   bool     `json:"healthy"`
	Drill     string   `json:"drill,omitempty"`
}

// Regions lists the regions.
func (c *Client) Regions(ctx context.Context) ([]Region, error) {
	var out struct {
		Regions []Region `json:"regions"`
	}
	err := c.Do(ctx, "GET", "/admin/v1/regions", nil, &out)
	return out.Regions, err
}

// Drill is a drill as created; Report is its report.
type Drill struct {
	ID          string    `json:"id"`
	Region      string    `json:"region"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Actor       string    `json:"actor"`
	Forced      bool      `json:"forced,omitempty"`
	WouldRefuse []string  `json:"wouldRefuse,omitempty"`
}

// Latency is one window of a report.
type Latency struct {
	Requests int     `json:"requests"`
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
}

// Report is GET /admin/v1/drills/{id}.
type Report struct {
	Drill
	Status   string `json:"status"`
	Rerouted int64  `json:"rerouted"`
	Refused  int64  `json:"refused"`
	Errors   int64  `json:"errors"`
	Latency  struct {
		Before Latency `json:"before"`
		During Latency `json:"during"`
		After  Latency `json:"after"`
	} `json:"latency"`
}

// StartDrill starts a drill.
func (c *Client) StartDrill(ctx context.Context, region string, d time.Duration, force bool) (Drill, error) {
	var out Drill
	body := map[string]any{"region": region, "durationSeconds": int(d.Seconds()), "force": force}
	err := c.Do(ctx, "POST", "/admin/v1/drills", body, &out)
	return out, err
}

// DrillReport reads a drill's report.
func (c *Client) DrillReport(ctx context.Context, id string) (Report, error) {
	var out Report
	err := c.Do(ctx, "GET", "/admin/v1/drills/"+id, nil, &out)
	return out, err
}
