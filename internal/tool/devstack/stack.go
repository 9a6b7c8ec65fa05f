package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/assembly/workerd"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Stack is the product end to end, as make dev runs it, on free ports: a
// Temporal dev server and a worker per region of configs/dev.yaml, and the
// gateway's client and admin APIs on real listeners. The gateway and the
// workers are assembled by internal/assembly, as `regiongate serve` and
// `regiongate worker` assemble theirs: health checks, drain sync, drill
// refresh, config watch and codec endpoint included.
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
	// CodecKeys is where the gateway and the workers find those keys, for
	// another gateway replica of the same stack.
	CodecKeys codec.Source

	gateway *gatewayd.Gateway
	workers []*workerd.Worker
	// workerOpts starts a region's worker again (StartWorker).
	workerOpts func(region string) workerd.Options
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
	// Temporal clients and the workers (the Temporal SDK's interceptor);
	// nil gives each its own, as in production.
	TracerProvider *sdktrace.TracerProvider
	// Health tunes the gateway's health checks; the zero value takes the
	// product's defaults.
	Health regions.HealthOptions
	// Records, when set, keeps the gateway's routing records there
	// (RecordKeys keys them: required unless they are in memory); nil keeps
	// them in memory.
	Records    regions.Records
	RecordKeys *regions.RecordKeys
	// Logger hears the gateway's log; nil discards it.
	Logger *slog.Logger
	// Replication runs the regions as replicated pairs (ReplicaPairs), as
	// make dev REPLICATION=1 does: each region's namespaces are global
	// namespaces active in its own cluster and replicated to its peer's.
	Replication bool
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
	if opts.Replication {
		if base, err = replicatedConfig(configs.DefaultYAML()); err != nil {
			return nil, err
		}
		if err := s.startPairs(ctx, dir, base); err != nil {
			return nil, err
		}
	} else if err := s.startTemporal(ctx, dir, base); err != nil {
		return nil, err
	}
	if s.Config, err = gatewayConfig(base, s.Temporal, opts); err != nil {
		return nil, err
	}
	keys, err := s.keys()
	if err != nil {
		return nil, err
	}
	s.CodecKeys = keys
	if err := s.startWorkers(ctx, opts, keys); err != nil {
		return nil, err
	}
	return s, s.startGateway(ctx, opts, keys)
}

// gatewayConfig is the dev config with each region's endpoint and tuning.
func gatewayConfig(base *configs.Config, servers map[string]*Temporal, opts StackOptions) (*configs.Config, error) {
	endpoints, tuning := map[string]string{}, map[string]string{}
	for _, r := range base.Regions {
		addr := servers[r.Name].Addr
		if opts.Via != nil {
			var err error
			if addr, err = opts.Via(r.Name, addr); err != nil {
				return nil, err
			}
		}
		endpoints[r.Name], tuning[r.Name] = addr, opts.Tune[r.Name].yaml()
	}
	text, err := ConfigAt(base, endpoints, tuning)
	if err != nil {
		return nil, err
	}
	return configs.Parse(text)
}

// DevConfigAt is the embedded dev config (configs/dev.yaml, comments
// kept) with each region's endpoint replaced by endpoints[region], and
// extra[region], YAML lines of that region's settings, added after it. A
// region missing from endpoints keeps its own.
func DevConfigAt(endpoints, extra map[string]string) ([]byte, error) {
	return ConfigAt(configs.Default(), endpoints, extra)
}

// ConfigAt is DevConfigAt for another config than the embedded one (the
// replicated pairs', say): base's own text, comments kept.
func ConfigAt(base *configs.Config, endpoints, extra map[string]string) ([]byte, error) {
	text := string(base.Raw())
	for _, r := range base.Regions {
		addr, ok := endpoints[r.Name]
		if !ok {
			addr = r.Endpoint
		}
		text = strings.Replace(text, "    endpoint: "+r.Endpoint+"\n", "    endpoint: "+addr+"\n"+extra[r.Name], 1)
	}
	if _, err := configs.Parse([]byte(text)); err != nil {
		return nil, fmt.Errorf("rewriting dev config: %w", err)
	}
	return []byte(text), nil
}

func (s *Stack) startTemporal(ctx context.Context, dir string, cfg *configs.Config) error {
	return s.startEach(cfg, func(_ int, r configs.Region) (*Temporal, error) {
		return StartTemporal(ctx, dir, router.Namespaces(cfg, r)...)
	})
}

// startEach starts a server per region at once with start, given the
// region's index and the region, and keeps each in s.Temporal.
func (s *Stack) startEach(cfg *configs.Config, start func(i int, r configs.Region) (*Temporal, error)) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for i, r := range cfg.Regions {
		wg.Go(func() {
			t, err := start(i, r)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("region %s: %w", r.Name, err))
				return
			}
			s.Temporal[r.Name] = t
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// keys gives every region a random payload key, as production gives each
// its own, and returns the key source the gateway and the workers read
// them from: the variables `regiongate serve` and `worker` read, held in
// memory instead of the process's environment.
func (s *Stack) keys() (codec.Source, error) {
	env := map[string]string{}
	s.Codecs = map[string]*codec.Codec{}
	for _, r := range s.Config.Regions {
		key, err := codec.GenerateKey("test-" + r.Name)
		if err != nil {
			return codec.Source{}, err
		}
		if s.Codecs[r.Name], err = codec.New([]codec.Key{key}); err != nil {
			return codec.Source{}, err
		}
		env[codec.EnvName(r.Name)] = key.Encode()
	}
	return codec.Source{Require: true, Getenv: func(name string) string { return env[name] }}, nil
}

// startWorkers starts each region's worker as `regiongate worker` does
// (its namespace and every isolated tenant's, every routed queue), against
// the region's dev server even when the gateway goes through Via, and a
// Direct client for assertions.
func (s *Stack) startWorkers(ctx context.Context, opts StackOptions, keys codec.Source) error {
	s.workerOpts = func(region string) workerd.Options {
		return workerd.Options{
			Config: s.Config, Region: region, Address: s.Temporal[region].Addr,
			Worker:    worker.Options{WorkerStopTimeout: time.Second},
			CodecKeys: keys, TracerProvider: opts.TracerProvider,
		}
	}
	for _, r := range s.Config.Regions {
		w, err := workerd.Start(ctx, s.workerOpts(r.Name))
		if err != nil {
			return fmt.Errorf("worker of %s: %w", r.Name, err)
		}
		s.workers = append(s.workers, w)
		c, err := client.DialContext(ctx, codec.ClientOptions(client.Options{
			HostPort: s.Temporal[r.Name].Addr, Namespace: r.Namespace, Logger: log.NewStructuredLogger(nopLogger()),
		}, s.Codecs[r.Name]))
		if err != nil {
			return fmt.Errorf("dialing %s: %w", r.Name, err)
		}
		s.Direct[r.Name] = c
	}
	return nil
}

// startGateway starts the gateway as `regiongate serve` does, with the
// dev tokens and its stores in memory, on free loopback ports. It outlives
// ctx, which bounds only the start: Close stops it.
func (s *Stack) startGateway(ctx context.Context, opts StackOptions, keys codec.Source) error {
	var err error
	s.gateway, err = gatewayd.Start(context.WithoutCancel(ctx), gatewayd.Options{
		Config: s.Config, Tokens: gateway.DevTokens(), CodecKeys: keys,
		ClientKeys:     gatewayd.ClientKeys{Dev: true},
		TracerProvider: opts.TracerProvider, OnStateChange: opts.OnStateChange, Health: opts.Health,
		Records: opts.Records, RecordKeys: opts.RecordKeys, Logger: opts.Logger,
	})
	if err != nil {
		return err
	}
	s.Manager, s.Server = s.gateway.Manager, s.gateway.Server
	ls, err := gatewayd.Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.gateway.ServeInBackground(ls)
	s.ClientURL, s.AdminURL = ls.ClientURL(), ls.AdminURL()
	return nil
}

// Close stops the gateway, the workers and the servers.
func (s *Stack) Close() {
	if s.gateway != nil {
		s.gateway.Close()
	}
	var wg sync.WaitGroup
	for _, w := range s.workers {
		if w != nil {
			wg.Go(w.Stop)
		}
	}
	wg.Wait()
	for _, c := range s.Direct {
		c.Close()
	}
	for _, t := range s.Temporal {
		wg.Go(t.Stop)
	}
	wg.Wait()
}
