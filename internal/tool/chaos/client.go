package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Gateway is one gateway replica of the stack.
type Gateway struct {
	Name      string // gateway-1, gateway-2
	ClientURL string // http://127.0.0.1:port
	AdminURL  string
}

// problemPrefix starts every problem type URI (docs/api.md).
const problemPrefix = "https://regiongate.dev/problems/"

// ClientTimeout bounds one client request: well above the gateway's call
// timeout (5s) times the candidates a start may try.
const ClientTimeout = 30 * time.Second

// caller sends the load's requests and writes each with its answer to the
// ledger.
type caller struct {
	gateways []Gateway
	http     *http.Client
	ledger   *Ledger
}

func newCaller(gws []Gateway, l *Ledger) *caller {
	return &caller{gateways: gws, http: &http.Client{Timeout: ClientTimeout}, ledger: l}
}

// clientKey is a tenant's dev client key (docs/tenancy.md); an anonymous
// caller sends none.
func clientKey(tenant string) string {
	if tenant == "" {
		return ""
	}
	return "dev-client-" + tenant
}

// answer is what the ledger keeps of a client API answer body.
type answer struct {
	Type       string `json:"type"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Region     string `json:"region"`
}

// send asks the replicas in turn, from the one named first, and moves on to
// the next only when a replica refused the connection (so the request
// reached nothing), as a client behind a load balancer would; every
// attempt is a ledger entry. It returns the last one.
func (c *caller) send(ctx context.Context, first int, e Entry, method, path string, body []byte, hdr http.Header) Entry {
	var out Entry
	for k := range c.gateways {
		gw := c.gateways[(first+k)%len(c.gateways)]
		if out = c.once(ctx, gw, e, method, path, body, hdr, k < len(c.gateways)-1); !out.Refused {
			break
		}
	}
	return out
}

// once sends one attempt; a refused connection is marked Refused when
// another replica is left to try.
func (c *caller) once(ctx context.Context, gw Gateway, e Entry, method, path string, body []byte, hdr http.Header, more bool) Entry {
	e.Via, e.Time = gw.Name, time.Now()
	req, err := http.NewRequestWithContext(ctx, method, gw.ClientURL+path, bytes.NewReader(body))
	if err != nil {
		e.Err = err.Error()
		return c.ledger.Add(e)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key := clientKey(e.Tenant); key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.http.Do(req)
	e.Ms = time.Since(e.Time).Milliseconds()
	if err != nil {
		e.Err = shortError(err)
		e.Refused = more && errors.Is(err, syscall.ECONNREFUSED)
		return c.ledger.Add(e)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	e.Status = resp.StatusCode
	var a answer
	if json.Unmarshal(data, &a) == nil {
		e.Problem = strings.TrimPrefix(a.Type, problemPrefix)
		e.Region, e.RunID = a.Region, a.RunID
		if e.WorkflowID == "" {
			e.WorkflowID = a.WorkflowID
		}
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = ra
	}
	if e.Status >= 300 && e.Problem == "" {
		e.Detail = strings.TrimSpace(string(data[:min(len(data), 200)]))
	}
	return c.ledger.Add(e)
}

// shortError is an HTTP client error without the method and URL that
// every such error repeats.
func shortError(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err.Error()
	}
	if ue.Timeout() {
		return "timeout: no answer within " + ClientTimeout.String()
	}
	return ue.Err.Error()
}
