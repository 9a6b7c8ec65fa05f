package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// The HTTP fuzzers (fuzz_http_test.go) send each input, as raw bytes, to a
// real net/http server in front of a gateway built for that input alone,
// so a failing input fails again by itself. The gateway's regions sit on
// closedEndpoint: a call that reaches for a region is refused at once.

// closedEndpoint is where every region of a fuzzed gateway points. Nothing
// listens on port 1 of loopback (fuzzConfigs checks); the port is fixed so
// that the config text, and so its ETag, is the same on every run and
// committed seeds can carry it (until dev.yaml changes: the f.Add seeds
// carry the current one).
const closedEndpoint = "127.0.0.1:1"

// An input's setup byte picks the gateway it meets.
const (
	setupConfig   = 0x03 // the config variant (fuzzConfigText)
	setupLoopback = 0x04 // the peer is 127.0.0.1 (a trusted proxy in variants 1 and 3), else 203.0.113.9
	setupDrained  = 0x08 // us-east is drained
	setupDrill    = 0x10 // eu-west has an active drill, fuzzDrillID
	setupOrigins  = 0x20 // https://app.example may call across origins
)

const fuzzDrillID = "drill-20260101-000000-f0f0f0"

// fuzzConfigText is config variant v: 0 the dev config; 1 production-like
// (credentials required, loopback trusted for CF-IPCountry and
// X-Forwarded-For, the header first); 2 tight limits (512-byte bodies, a
// start a tenant per 1000 s); 3 as 1 with an OIDC issuer that cannot be
// reached (access tokens go to the verifier and fail).
func fuzzConfigText(v uint8) string {
	text := string(configs.DefaultYAML())
	for _, p := range []string{"7233", "7234", "7235", "7236"} {
		text = strings.ReplaceAll(text, "127.0.0.1:"+p, closedEndpoint)
	}
	prod := strings.Replace(text, "mode: optional", "mode: required", 1) + `
location:
  precedence: [header, request]
  headers: [CF-IPCountry]
  trustedProxies:
    - {cidr: 127.0.0.0/8, headers: [CF-IPCountry, X-Forwarded-For]}
`
	switch v & setupConfig {
	case 1:
		return prod
	case 2:
		text = strings.Replace(text, "maxBodyBytes: 1048576", "maxBodyBytes: 512", 1)
		text = strings.Replace(text, "tenantRatePerSecond: 100", "tenantRatePerSecond: 0.001", 1)
		text = strings.Replace(text, "tenantBurst: 200", "tenantBurst: 1\n  anonymousRatePerSecond: 0.001\n  anonymousMaxInFlight: 1", 1)
		return strings.Replace(text, "{name: northwind, isolated: true}", "{name: northwind, isolated: true, ratePerSecond: 5, maxInFlight: 1}", 1)
	case 3:
		return strings.Replace(prod, "mode: required", `mode: required
  oidc:
    issuer: https://127.0.0.1:1/
    audiences: [regiongate]
    algorithms: [RS256, ES256]
    codecRole: codec`, 1)
	}
	return text
}

var fuzzConfigs = sync.OnceValues(func() ([4]*configs.Config, error) {
	var out [4]*configs.Config
	if c, err := net.DialTimeout("tcp", closedEndpoint, time.Second); err == nil {
		c.Close()
		return out, fmt.Errorf("something listens on %s, where the fuzzed gateways' regions must be refused", closedEndpoint)
	}
	for v := range out {
		cfg, err := configs.Parse([]byte(fuzzConfigText(uint8(v))))
		if err != nil {
			return out, fmt.Errorf("config variant %d: %w", v, err)
		}
		out[v] = cfg
	}
	return out, nil
})

func fuzzConfig(tb testing.TB, setup uint8) *configs.Config {
	tb.Helper()
	all, err := fuzzConfigs()
	if err != nil {
		tb.Fatal(err)
	}
	return all[setup&setupConfig]
}

// fuzzCodec encrypts the fuzzed gateways' payloads; its key is a test's.
var fuzzCodec = sync.OnceValue(func() *codec.Codec {
	c, err := codec.New([]codec.Key{{ID: "fuzz", Secret: bytes.Repeat([]byte{7}, codec.KeySize)}})
	if err != nil {
		panic(err)
	}
	return c
})

// fuzzPayloads is a codec request body: one payload encrypted with
// fuzzCodec (for decode) or in the clear (for encode).
func fuzzPayloads(tb testing.TB, encrypted bool) []byte {
	tb.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]any{"cardToken": "tok_visa"})
	if err != nil {
		tb.Fatal(err)
	}
	ps := []*commonpb.Payload{p}
	if encrypted {
		if ps, err = fuzzCodec().Encode(ps); err != nil {
			tb.Fatal(err)
		}
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// fuzzGateway is a gateway built for one input, with what the checks read.
type fuzzGateway struct {
	srv     *Server
	mgr     *regions.Manager
	cfg     *configs.Config // the config it started with
	records *countingRecords
	audit   *audit.Memory
	metrics *prometheus.Registry // what /metrics serves
	logs    *lockedBuffer
	handler http.Handler
	routes  map[string]bool
	remote  string
	ran     atomic.Bool            // a handler ran: the answer is the gateway's, not net/http's
	path    atomic.Pointer[string] // the path the handler saw
}

// seenPath is the request's path as the handler saw it ("" if none did).
func (g *fuzzGateway) seenPath() string {
	if p := g.path.Load(); p != nil {
		return *p
	}
	return ""
}

// newFuzzGateway builds the gateway an input with this setup meets: the
// client API, or the admin API with the codec endpoint. Its log is kept
// for the checks unless discardLogs.
func newFuzzGateway(tb testing.TB, setup uint8, admin, discardLogs bool) *fuzzGateway {
	tb.Helper()
	cfg := fuzzConfig(tb, setup)
	g := &fuzzGateway{cfg: cfg, records: &countingRecords{Records: regions.NewMemoryRecords()},
		audit: &audit.Memory{}, metrics: prometheus.NewRegistry(), logs: &lockedBuffer{}, remote: "203.0.113.9:40000"}
	var logs io.Writer = g.logs
	if discardLogs {
		logs = io.Discard
	}
	if setup&setupLoopback != 0 {
		g.remote = "127.0.0.1:40000"
	}
	var err error
	if g.mgr, err = regions.NewManager(cfg, regions.Options{Records: g.records}); err != nil {
		tb.Fatal(err)
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(g.metrics))
	if err != nil {
		tb.Fatal(err)
	}
	opts := Options{Regions: g.mgr, Config: cfg, WorkflowTypes: workflows.Names, Tokens: DevTokens(),
		ClientKeys: clientauth.NewKeys(clientauth.DevKeys()...), Audit: g.audit,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		Meter:          sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)).Meter("fuzz"),
		Metrics:        promhttp.HandlerFor(g.metrics, promhttp.HandlerOpts{}),
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample())),
		JWKSClient:     &http.Client{Timeout: 2 * time.Second}}
	if setup&setupOrigins != 0 {
		opts.AllowOrigins = []string{"https://app.example"}
	}
	if admin {
		// As gatewayd wires it (which this package's tests cannot import):
		// an operator token or the codec role, every use audited.
		opts.Codec = codec.NewHTTPHandler(codec.HTTPOptions{
			Lookup:    g.codecLookup,
			Authorize: func(r *http.Request) (string, bool) { return g.srv.CodecAuthorize(r) },
			OnUse: func(r *http.Request, who, ns, op string, n int) error {
				return g.srv.AuditCodecUse(r, who, ns, op, n)
			},
			AllowOrigins: []string{"https://ui.example"},
		})
	}
	if g.srv, err = New(opts); err != nil {
		tb.Fatal(err)
	}
	g.handler = g.srv.ClientHandler()
	if admin {
		g.handler = g.srv.AdminHandler()
	}
	g.routes = map[string]bool{}
	for _, r := range g.handler.(*gin.Engine).Routes() {
		g.routes[r.Path] = true
	}
	ctx := context.Background()
	if setup&setupDrained != 0 {
		if err := g.mgr.SetDrained("us-east", true); err != nil {
			tb.Fatal(err)
		}
	}
	if setup&setupDrill != 0 {
		now := time.Now().UTC()
		d := Drill{ID: fuzzDrillID, Region: "eu-west", Start: now.Add(-time.Minute), End: now.Add(time.Hour), Actor: "dev.operator"}
		if err := g.srv.drills.store.Create(ctx, d); err != nil {
			tb.Fatal(err)
		}
		if err := g.srv.drills.refresh(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return g
}

func (g *fuzzGateway) close() {
	g.srv.Close()
	g.mgr.Close()
}

// codecLookup serves the namespaces of the config in force with fuzzCodec.
func (g *fuzzGateway) codecLookup(ns string) (converter.PayloadCodec, bool) {
	cfg := g.srv.Config()
	for _, rc := range cfg.Regions {
		for _, n := range router.Namespaces(cfg, rc) {
			if n == ns {
				return fuzzCodec(), true
			}
		}
	}
	return nil, false
}

// countingRecords counts the routing records held, to show that starts
// which reached no region leave none behind.
type countingRecords struct {
	regions.Records
	mu  sync.Mutex
	ids map[string]bool
}

func (c *countingRecords) note(id string, held bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[string]bool{}
	}
	if held {
		c.ids[id] = true
	} else {
		delete(c.ids, id)
	}
}

func (c *countingRecords) held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

func (c *countingRecords) Claim(ctx context.Context, id string, at regions.Placement) (regions.Record, error) {
	r, err := c.Records.Claim(ctx, id, at)
	if err == nil {
		c.note(id, true)
	}
	return r, err
}

func (c *countingRecords) Release(ctx context.Context, id string, from regions.Record) error {
	err := c.Records.Release(ctx, id, from)
	if err == nil {
		c.note(id, false)
	}
	return err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
