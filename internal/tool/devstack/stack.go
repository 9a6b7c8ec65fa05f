package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/base/telemetry"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Stack is the product end to end, as make dev runs it, on free ports: a
// Temporal dev server and a worker per region of configs/dev.yaml, and the
// gateway's client and admin APIs on real listeners.
type Stack struct {
	Config    *configs.Config
	Temporal  map[string]*Temporal     // region -> its dev server
	Direct    map[string]client.Client // region -> a client for assertions
	Manager   *regions.Manager
	Server    *gateway.Server
	ClientURL string // http://127.0.0.1:port of the client API
	AdminURL  string // http://127.0.0.1:port of the admin API
	// Codecs holds each region's payload codec: every stack runs with
	// encryption on, a random key per region, as production does.
	Codecs map[string]*codec.Codec

	pools     []*workflows.Pool
	nsClients []client.Client
	servers   []*http.Server
}

// StackOptions change what StartStackWith builds; the zero value is the
// dev stack as make dev runs it.
type StackOptions struct {
	// Tune sets per-region gateway settings (breaker, call timeout).
	Tune map[string]RegionTuning
	// Via, when set, returns the address the gateway dials for a region
	// instead of its dev server's addr, e.g. a Proxy in front of it.
	// Workers and Direct clients still use the dev server.
	Via func(region, addr string) (string, error)
	// OnStateChange is passed to the gateway's regions.Manager.
	OnStateChange func(regions.StateChange)
	// TracerProvider, when set, traces the gateway's HTTP listeners, its
	// Temporal clients and the workers (the Temporal SDK's interceptor).
	TracerProvider *sdktrace.TracerProvider
}

// RegionTuning is a region's gateway settings; zero values are left out of
// the config, so they take the product's defaults.
type RegionTuning struct {
	CallTimeout time.Duration
	Breaker     configs.Breaker
}

func (t RegionTuning) yaml() string {
	var b strings.Builder
	if t.CallTimeout > 0 {
		fmt.Fprintf(&b, "    callTimeout: %s\n", t.CallTimeout)
	}
	var fields []string
	if n := t.Breaker.ConsecutiveFailures; n > 0 {
		fields = append(fields, fmt.Sprintf("consecutiveFailures: %d", n))
	}
	if d := time.Duration(t.Breaker.OpenFor); d > 0 {
		fields = append(fields, fmt.Sprintf("openFor: %s", d))
	}
	if n := t.Breaker.HalfOpenRequests; n > 0 {
		fields = append(fields, fmt.Sprintf("halfOpenRequests: %d", n))
	}
	if len(fields) > 0 {
		fmt.Fprintf(&b, "    breaker: {%s}\n", strings.Join(fields, ", "))
	}
	return b.String()
}

// StartStack starts the dev stack; dir holds the servers' state and logs.
// Close stops it all.
func StartStack(ctx context.Context, dir string) (*Stack, error) {
	return StartStackWith(ctx, dir, StackOptions{})
}

// StartStackWith starts the stack changed by opts.
func StartStackWith(ctx context.Context, dir string, opts StackOptions) (_ *Stack, err error) {
	s := &Stack{Temporal: map[string]*Temporal{}, Direct: map[string]client.Client{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	base := configs.Default()
	if err := s.startTemporal(ctx, dir, base); err != nil {
		return nil, err
	}
	if s.Config, err = gatewayConfig(base, s.Temporal, opts); err != nil {
		return nil, err
	}
	if err := s.startWorkers(opts); err != nil {
		return nil, err
	}
	return s, s.startGateway(ctx, opts)
}

// gatewayConfig is the dev config with each region's endpoint and tuning.
func gatewayConfig(base *configs.Config, servers map[string]*Temporal, opts StackOptions) (*configs.Config, error) {
	text := string(configs.DefaultYAML())
	for _, r := range base.Regions {
		addr := servers[r.Name].Addr
		if opts.Via != nil {
			var err error
			if addr, err = opts.Via(r.Name, addr); err != nil {
				return nil, err
			}
		}
		text = strings.Replace(text, "    endpoint: "+r.Endpoint+"\n",
			"    endpoint: "+addr+"\n"+opts.Tune[r.Name].yaml(), 1)
	}
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("rewriting dev config: %w", err)
	}
	return cfg, nil
}

func (s *Stack) startTemporal(ctx context.Context, dir string, cfg *configs.Config) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, r := range cfg.Regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := StartTemporal(ctx, dir, router.Namespaces(cfg, r)...)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("region %s: %w", r.Name, err))
				return
			}
			s.Temporal[r.Name] = t
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Stack) startWorkers(opts StackOptions) error {
	s.Codecs = map[string]*codec.Codec{}
	for _, r := range s.Config.Regions {
		key, err := codec.GenerateKey("test-" + r.Name)
		if err != nil {
			return err
		}
		if s.Codecs[r.Name], err = codec.New([]codec.Key{key}); err != nil {
			return err
		}
	}
	var interceptors []interceptor.WorkerInterceptor
	if opts.TracerProvider != nil {
		tracing, err := telemetry.TemporalTracing(opts.TracerProvider)
		if err != nil {
			return err
		}
		interceptors = append(interceptors, tracing)
	}
	for _, r := range s.Config.Regions {
		c, err := client.Dial(codec.ClientOptions(client.Options{
			HostPort: s.Temporal[r.Name].Addr, Namespace: r.Namespace, Logger: quiet(),
		}, s.Codecs[r.Name]))
		if err != nil {
			return fmt.Errorf("dialing %s: %w", r.Name, err)
		}
		s.Direct[r.Name] = c
		// Workers poll the region's namespace and every isolated tenant's,
		// as `regiongate worker` does.
		for _, ns := range router.Namespaces(s.Config, r) {
			nc := c
			if ns != r.Namespace {
				opts := codec.ClientOptions(client.Options{Namespace: ns, Logger: quiet()}, s.Codecs[r.Name])
				if nc, err = client.NewClientFromExisting(c, opts); err != nil {
					return fmt.Errorf("client for %s: %w", ns, err)
				}
				s.nsClients = append(s.nsClients, nc)
			}
			pool, err := workflows.StartPool(nc, router.TaskQueues(r.Name, workflows.Names), workflows.NewActivities(),
				worker.Options{WorkerStopTimeout: time.Second, Interceptors: interceptors})
			if err != nil {
				return err
			}
			s.pools = append(s.pools, pool)
		}
	}
	return nil
}

func (s *Stack) startGateway(ctx context.Context, opts StackOptions) error {
	var err error
	base := client.Options{Logger: quiet()}
	if opts.TracerProvider != nil {
		tracing, err := telemetry.TemporalTracing(opts.TracerProvider)
		if err != nil {
			return err
		}
		base.Interceptors = []interceptor.ClientInterceptor{tracing}
	}
	metrics, err := telemetry.NewMetrics()
	if err != nil {
		return err
	}
	s.Manager, err = regions.NewManager(s.Config, regions.Options{
		ClientOptions: base, OnStateChange: opts.OnStateChange, Meter: metrics.Meter("regiongate/regions"),
		RegionClientOptions: func(rc configs.Region, base client.Options) (client.Options, error) {
			return codec.ClientOptions(base, s.Codecs[rc.Name]), nil
		},
	})
	if err != nil {
		return err
	}
	s.Manager.CheckHealthOnce(ctx, regions.HealthOptions{})
	s.Server, err = gateway.New(gateway.Options{
		Regions: s.Manager, Config: s.Config, WorkflowTypes: workflows.Names,
		Tokens: gateway.DevTokens(), Logger: nopLogger(), Metrics: metrics.Handler,
		Meter: metrics.Meter("regiongate/gateway"), TracerProvider: tracerProvider(opts),
	})
	if err != nil {
		return err
	}
	if s.ClientURL, err = s.serve(s.Server.ClientHandler()); err != nil {
		return err
	}
	s.AdminURL, err = s.serve(s.Server.AdminHandler())
	return err
}

func (s *Stack) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the gateway, the workers and the servers.
func (s *Stack) Close() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	if s.Manager != nil {
		s.Manager.Close()
	}
	for _, p := range s.pools {
		p.Stop()
	}
	for _, c := range s.nsClients {
		c.Close()
	}
	for _, c := range s.Direct {
		c.Close()
	}
	var wg sync.WaitGroup
	for _, t := range s.Temporal {
		wg.Add(1)
		go func() { defer wg.Done(); t.Stop() }()
	}
	wg.Wait()
}

func quiet() log.Logger { return log.NewStructuredLogger(nopLogger()) }

// tracerProvider is the option's provider, or nil (the global one) as an
// interface value the gateway can take.
func tracerProvider(opts StackOptions) trace.TracerProvider {
	if opts.TracerProvider == nil {
		return nil
	}
	return opts.TracerProvider
}
