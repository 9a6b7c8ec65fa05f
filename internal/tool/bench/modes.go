package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// Workload is what every mode starts: the same workflow type and input on
// the same region, namespace and task queue, so the modes differ only in
// how the start gets there.
type Workload struct {
	WorkflowType string
	Input        json.RawMessage
	Location     string // the body's userLocation
	Class        string // its dataClassification
	Region       string // where the gateway routes it
	Endpoint     string // the region's Temporal frontend, host:port
	Namespace    string
	TaskQueue    string
}

// Mode is one way of starting a workflow with a given id.
type Mode struct {
	Name  string
	Start func(ctx context.Context, id string) error
}

// The modes of the comparison.
const (
	ModeDirect  = "direct"
	ModeGateway = "gateway"
	ModeNaive   = "naive"
	// ModeGatewayMemory is a second gateway, self-contained only, that
	// keeps its routing records in memory: the difference to ModeGateway
	// is what the bbolt records cost.
	ModeGatewayMemory = "gateway-memory"
)

// allModes are the modes Execute knows, in the report's order.
var allModes = []string{ModeDirect, ModeGateway, ModeNaive, ModeGatewayMemory, ModeHTTPFloor}

// startOptions are the options the gateway starts with (regions.startIn),
// so a direct start asks the server for exactly the same thing.
func (w Workload) startOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                w.TaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
}

// args are the workflow's arguments as the gateway passes them: the raw
// JSON input, or none.
func (w Workload) args() []any {
	if len(w.Input) == 0 {
		return nil
	}
	return []any{w.Input}
}

// DirectMode starts through one long-lived SDK client, as an application
// talking to its region without the gateway would.
func DirectMode(c client.Client, w Workload) Mode {
	return Mode{Name: ModeDirect, Start: func(ctx context.Context, id string) error {
		_, err := c.ExecuteWorkflow(ctx, w.startOptions(id), w.WorkflowType, w.args()...)
		return err
	}}
}

// NaiveMode dials a new SDK client for every start and closes it after:
// what a gateway that did not keep its connections would pay.
func NaiveMode(w Workload) Mode {
	return Mode{Name: ModeNaive, Start: func(ctx context.Context, id string) error {
		c, err := client.DialContext(ctx, client.Options{HostPort: w.Endpoint, Namespace: w.Namespace, Logger: QuietLogger()})
		if err != nil {
			return fmt.Errorf("dialing %s: %w", w.Endpoint, err)
		}
		defer c.Close()
		_, err = c.ExecuteWorkflow(ctx, w.startOptions(id), w.WorkflowType, w.args()...)
		return err
	}}
}

// GatewayMode starts through the gateway's client API at baseURL. A start
// that lands anywhere but w.Region is an error: the modes must compare
// the same work.
func GatewayMode(name string, hc *http.Client, baseURL string, w Workload) Mode {
	return Mode{Name: name, Start: func(ctx context.Context, id string) error {
		st, err := GatewayStart(ctx, hc, baseURL, w, id)
		if err == nil && st.Region != w.Region {
			err = fmt.Errorf("start %s landed in %s, not %s", id, st.Region, w.Region)
		}
		return err
	}}
}

// Started is the gateway's answer to a start.
type Started struct {
	Status     int    `json:"-"`
	WorkflowID string `json:"workflowId"`
	Region     string `json:"region"`
	Namespace  string `json:"namespace"`
	TaskQueue  string `json:"taskQueue"`
}

// StatusError is a start the gateway answered with other than 2xx.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string { return fmt.Sprintf("gateway answered %d: %s", e.Status, e.Body) }

// Summary is the status with the problem's title and detail, without
// what differs per request (the workflow id), so equal errors compare
// equal.
func (e *StatusError) Summary() string {
	var p struct{ Title, Detail string }
	if json.Unmarshal([]byte(e.Body), &p) != nil || p.Title == "" {
		return e.Error()
	}
	return fmt.Sprintf("%d %s: %s", e.Status, p.Title, p.Detail)
}

// GatewayStart sends one start to the gateway. A non-2xx answer is a
// *StatusError.
func GatewayStart(ctx context.Context, hc *http.Client, baseURL string, w Workload, id string) (Started, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/workflows", bytes.NewReader(w.body(id)))
	if err != nil {
		return Started{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IDHeader, id)
	resp, err := hc.Do(req)
	if err != nil {
		return Started{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return Started{Status: resp.StatusCode}, fmt.Errorf("reading the gateway's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return Started{Status: resp.StatusCode}, &StatusError{Status: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
	}
	var st Started
	if err := json.Unmarshal(data, &st); err != nil {
		return Started{Status: resp.StatusCode}, fmt.Errorf("decoding the gateway's answer: %w", err)
	}
	st.Status = resp.StatusCode
	return st, nil
}

// body is the start request; built by hand, it costs the client little.
func (w Workload) body(id string) []byte {
	b := make([]byte, 0, 160+len(id)+len(w.Input))
	b = append(b, `{"workflowType":`...)
	b = strconv.AppendQuote(b, w.WorkflowType)
	b = append(b, `,"workflowId":`...)
	b = strconv.AppendQuote(b, id)
	b = append(b, `,"userLocation":`...)
	b = strconv.AppendQuote(b, w.Location)
	b = append(b, `,"dataClassification":`...)
	b = strconv.AppendQuote(b, w.Class)
	if len(w.Input) > 0 {
		b = append(b, `,"input":`...)
		b = append(b, w.Input...)
	}
	return append(b, '}')
}

// NewHTTPClient keeps enough idle connections for conns concurrent
// requests: with net/http's default of two per host, most requests would
// open a new connection and the gateway would be measured with a handicap.
func NewHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// QuietLogger keeps the SDK's clients from logging to the terminal.
func QuietLogger() log.Logger { return log.NewStructuredLogger(slog.New(slog.DiscardHandler)) }
