// Package adminapi is a small client for the gateway's admin API, used by the CLI.
package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/regions"
)

// Client calls one gateway's admin API with a bearer token.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8081
	Token   string
	HTTP    *http.Client // nil means a client with a 70s timeout (a failover waits for up to 45s)
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
		hc = &http.Client{Timeout: 70 * time.Second}
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

// Regions lists the regions.
func (c *Client) Regions(ctx context.Context) ([]gateway.RegionView, error) {
	var out struct {
		Regions []gateway.RegionView `json:"regions"`
	}
	err := c.Do(ctx, "GET", "/admin/v1/regions", nil, &out)
	return out.Regions, err
}

// StartDrill starts a drill.
func (c *Client) StartDrill(ctx context.Context, req gateway.DrillRequest) (gateway.Drill, error) {
	var out gateway.Drill
	err := c.Do(ctx, "POST", "/admin/v1/drills", req, &out)
	return out, err
}

// Failover fails a replicated region's namespaces over and returns the
// report.
func (c *Client) Failover(ctx context.Context, region string, req gateway.FailoverRequest) (regions.FailoverReport, error) {
	var out regions.FailoverReport
	err := c.Do(ctx, "POST", "/admin/v1/regions/"+url.PathEscape(region)+"/failover", req, &out)
	return out, err
}

// DrillReport reads a drill's report.
func (c *Client) DrillReport(ctx context.Context, id string) (gateway.DrillReport, error) {
	var out gateway.DrillReport
	err := c.Do(ctx, "GET", "/admin/v1/drills/"+id, nil, &out)
	return out, err
}
