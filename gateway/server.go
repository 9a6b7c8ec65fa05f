// Package gateway serves the client API and the admin API over gin.
package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/gateway/console"
	"github.com/regiongate/regiongate/gateway/openapi"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/router/location"
)

// Options configure a Server. Nil fields take the documented defaults.
type Options struct {
	// Regions owns the regional clients; required.
	Regions *regions.Manager
	// Config is the region config in force at start; required.
	Config *configs.Config
	// WorkflowTypes the workers register; requests naming others get 400.
	WorkflowTypes []string
	// Tokens authenticate the admin API; none means every admin call is 401.
	Tokens []Token
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Metrics serves /metrics; nil serves a 404.
	Metrics http.Handler
	// Meter records the gateway's metrics; nil records nothing.
	Meter metric.Meter
	// TracerProvider traces requests (otelgin); nil means the global one.
	TracerProvider trace.TracerProvider
	// ConfigSource is where the config lives and where PUT writes it; nil
	// keeps Config in memory only.
	ConfigSource configs.Source
	// Audit records admin changes; nil keeps them in memory only.
	Audit audit.Store
	// Drills stores failover drills; nil keeps them in memory only.
	Drills DrillStore
	// Codec, when set, is served under /codec/ on the admin listener (the
	// Temporal UI's codec server); it authenticates requests itself.
	Codec http.Handler
	// ClientKeys are the client API keys (each naming its tenant); nil means
	// none. Whether a credential is required, and which OIDC issuer's
	// access tokens are accepted, is the config's clientAuth.
	ClientKeys *clientauth.Keys
	// JWKSClient fetches the OIDC issuer's keys; nil means a default client.
	JWKSClient *http.Client
	// AllowOrigins are the browser origins (e.g. "https://app.example")
	// allowed to call both APIs across origins; none means only same-origin
	// browser requests (and every non-browser client).
	AllowOrigins []string
}

// Server holds what both listeners share. Any replica can serve any request:
// the only state here is the config in force, swapped whole.
type Server struct {
	live          atomic.Pointer[live]
	regions       *regions.Manager
	types         map[string]bool
	workflowTypes []string
	tokens        []Token
	log           *slog.Logger
	metrics       http.Handler
	limits        *tenantLimits
	codec         http.Handler
	inst          *instruments
	tracer        trace.TracerProvider
	origins       []string
	clientAuth    *clientauth.Authenticator
	watcher       *configs.Watcher
	auditLog      audit.Store
	refused       *refusals
	drills        *drills
	lat           *latencies
	traffic       *traffic
}

// live is what a config compiles to; it is swapped whole.
type live struct {
	cfg      *configs.Config
	policy   *router.Policy
	resolver *location.Resolver
}

// compile builds what serving cfg needs: the routing policy and the
// location resolver (which counts the location headers it ignores).
func (s *Server) compile(cfg *configs.Config) (*live, error) {
	res, err := location.New(cfg.Location, location.Options{Ignored: s.inst.ignoredHeader})
	if err != nil {
		return nil, err
	}
	return &live{cfg: cfg, policy: router.New(cfg, s.workflowTypes...), resolver: res}, nil
}

// New builds a Server. It fails only when the config's location sources
// cannot be opened (a missing GeoIP database).
func New(opts Options) (*Server, error) {
	s := &Server{
		regions: opts.Regions,
		types:   map[string]bool{},
		tokens:  opts.Tokens,
		log:     opts.Logger,
		metrics: opts.Metrics,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, t := range opts.WorkflowTypes {
		s.types[t] = true
	}
	s.workflowTypes = opts.WorkflowTypes
	s.inst = newInstruments(opts.Meter)
	l, err := s.compile(opts.Config)
	if err != nil {
		return nil, err
	}
	s.live.Store(l)
	// Starts decided on an older policy are checked against this one
	// before they are sent (a compliance edit applies to them too).
	s.regions.UsePolicy(s.Policy)
	s.limits = newTenantLimits(opts.Config)
	s.tracer = opts.TracerProvider
	if s.tracer == nil {
		s.tracer = otel.GetTracerProvider()
	}
	if opts.Drills == nil {
		opts.Drills = &MemoryDrills{}
	}
	s.drills = newDrills(opts.Drills)
	if err := s.registerRegionGauges(opts.Meter); err != nil {
		return nil, fmt.Errorf("registering region gauges: %w", err)
	}
	s.lat = &latencies{}
	s.traffic = newTraffic()
	s.codec = opts.Codec
	s.origins = opts.AllowOrigins
	keys := opts.ClientKeys
	if keys == nil {
		keys = clientauth.NewKeys()
	}
	s.clientAuth = clientauth.New(opts.Config.ClientAuth, keys, clientauth.Options{
		HTTPClient: opts.JWKSClient,
		OnError:    func(err error) { s.log.Warn("fetching the OIDC issuer's keys", "error", err) },
	})
	s.auditLog = opts.Audit
	if s.auditLog == nil {
		s.auditLog = &audit.Memory{}
	}
	s.refused = newRefusals()
	src := opts.ConfigSource
	if src == nil {
		src = configs.NewMemorySource(opts.Config.Raw())
	}
	s.newWatcher(src, opts.Meter)
	// Config is already in force. Its index is learnt from the source when
	// WatchConfig starts; a PUT before that finds a stale index and gets 412.
	s.watcher.Prime(opts.Config, 0)
	if rev, err := src.Read(context.Background()); err == nil && bytes.Equal(rev.Data, opts.Config.Raw()) {
		s.watcher.Prime(opts.Config, rev.Index)
	}
	return s, nil
}

// Close stops the server's background work (the OIDC key refresh).
func (s *Server) Close() { s.clientAuth.Close() }

// Config returns the config in force.
func (s *Server) Config() *configs.Config { return s.live.Load().cfg }

// Policy returns the routing policy in force.
func (s *Server) Policy() *router.Policy { return s.live.Load().policy }

// setConfig swaps in a validated config; on error the old one stays. Only
// the watcher calls it, so the ETag it keeps stays true.
func (s *Server) setConfig(cfg *configs.Config) error {
	l, err := s.compile(cfg)
	if err != nil {
		return err
	}
	if err := s.regions.Apply(cfg); err != nil {
		l.resolver.Close()
		return err
	}
	// The old resolver is left to the GC rather than closed: requests in
	// flight may still be reading its database.
	s.live.Store(l)
	s.limits.reconfigure(cfg)
	s.clientAuth.Apply(cfg.ClientAuth)
	return nil
}

func init() { gin.SetMode(gin.ReleaseMode) }

func (s *Server) engine(service string, document []byte) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// Workflow ids may hold any character, "/" included: clients
	// percent-encode them in paths and we match on the raw path.
	e.UseRawPath = true
	e.UnescapePathValues = true
	// One visible chain: panics become 500s, every request gets an id, a
	// span (otelgin) and its metrics, and one log line.
	e.Use(recovery(s.log), requestID(),
		otelgin.Middleware(service, otelgin.WithTracerProvider(s.tracer)),
		s.observe(), accessLog(s.log), checkOrigin(s.origins, codecRoute))
	e.NoRoute(func(c *gin.Context) {
		fail(c, kindNoSuchEndpoint, "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path)
	})
	e.NoMethod(func(c *gin.Context) {
		fail(c, kindMethodNotAllowed, c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})
	e.GET("/healthz", func(c *gin.Context) { c.JSON(200, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.json", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(200, "application/json", document)
	})
	e.GET("/metrics", func(c *gin.Context) {
		if s.metrics == nil {
			fail(c, kindNoSuchEndpoint, "metrics are not enabled")
			return
		}
		s.metrics.ServeHTTP(c.Writer, c.Request)
	})
	return e
}

// ClientHandler serves the client API.
func (s *Server) ClientHandler() http.Handler {
	e := s.engine("regiongate-client-api", openapi.Client())
	v1 := e.Group("/v1/workflows", s.identify(), s.countTraffic())
	v1.POST("", requireJSON(), s.start)
	v1.GET("", s.list)
	v1.POST("/signal-with-start", requireJSON(), s.signalWithStart)
	v1.GET("/:id", s.describe)
	v1.GET("/:id/history", s.history)
	v1.GET("/:id/queries/:query", s.query)
	v1.POST("/:id/signals/:signal", requireJSON(), s.signal)
	v1.POST("/:id/updates/:update", requireJSON(), s.update)
	v1.POST("/:id/cancel", requireJSON(), s.cancel)
	v1.POST("/:id/terminate", requireJSON(), s.terminate)
	return e
}

// codecRoute serves the codec endpoint on the admin listener. It answers
// CORS itself, for the Temporal UI's origins.
const codecRoute = "/codec/*path"

// AdminHandler serves the admin API.
func (s *Server) AdminHandler() http.Handler {
	e := s.engine("regiongate-admin-api", openapi.Admin())
	a := e.Group("/admin/v1")
	a.GET("/whoami", s.requireRole(RoleViewer), s.whoami)
	a.GET("/regions", s.requireRole(RoleViewer), s.listRegions)
	a.POST("/regions/:name/drain", s.requireRole(RoleOperator), s.drain(true))
	a.POST("/regions/:name/restore", s.requireRole(RoleOperator), s.drain(false))
	a.GET("/regions/:name/drain-impact", s.requireRole(RoleViewer), s.drainImpact)
	a.POST("/regions/:name/failover", s.requireRole(RoleOperator), requireJSON(), s.failover)
	a.POST("/route/explain", s.requireRole(RoleViewer), requireJSON(), s.explain)
	a.GET("/route/table", s.requireRole(RoleViewer), s.routeTable)
	a.GET("/config", s.requireRole(RoleViewer), s.getConfig)
	a.PUT("/config", s.requireRole(RoleCompliance), s.putConfig)
	a.POST("/config/preview", s.requireRole(RoleCompliance), s.previewConfig)
	a.GET("/audit", s.requireRole(RoleViewer), s.listAudit)
	a.POST("/drills", s.requireRole(RoleOperator), requireJSON(), s.startDrill)
	a.GET("/drills", s.requireRole(RoleViewer), s.listDrills)
	a.GET("/drills/:id", s.requireRole(RoleViewer), s.drillReport)
	a.GET("/workflows/:id", s.requireRole(RoleOperator), s.lookupWorkflow)
	if s.codec != nil {
		e.Any(codecRoute, gin.WrapH(s.codec))
	}
	// The console is public files; what it shows comes from the API
	// above, with the token the user signs in with.
	e.GET("/console", s.console)
	e.GET("/console/*asset", s.console)
	return e
}

func (s *Server) console(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("asset"), "/")
	if !console.Serve(c.Writer, c.Request, name) {
		fail(c, kindNoSuchEndpoint, "the console has no file "+name)
	}
}

func (s *Server) readyz(c *gin.Context) {
	reachable := 0
	for _, r := range s.regions.All() {
		if r.Reachable() {
			reachable++
		}
	}
	if reachable == 0 {
		fail(c, kindNotReady, "config not loaded or no region reachable")
		return
	}
	c.JSON(200, gin.H{"status": "ready", "regionsReachable": reachable, "configVersion": s.Policy().Config().Version()})
}
