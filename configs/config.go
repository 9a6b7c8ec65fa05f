// Package configs owns the region config: its types, strict decoding and validation.
package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/regiongate/regiongate/internal/base/strictyaml"
)

// Config is the whole region config. A *Config is immutable once Parse
// returns it: replace it whole, never mutate it in place.
type Config struct {
	// Environment names the deployment ("dev", "prod"); it prefixes
	// namespaces that are not set explicitly.
	Environment string `yaml:"environment"`
	// DefaultRegion is the home region of users whose country no region's
	// residency list holds (for example JP). Empty means the first region.
	DefaultRegion string `yaml:"defaultRegion,omitempty"`
	// Jurisdictions groups countries under one name ("EU" -> the 27 member
	// states). Residency entries may name a group or a country.
	Jurisdictions map[string][]string `yaml:"jurisdictions"`
	// Classifications lists the data classes a request may carry.
	Classifications []Classification `yaml:"classifications"`
	// Regions lists the regional Temporal clusters, in preference order.
	Regions []Region `yaml:"regions"`
	// Limits holds request limits; zero values take the documented defaults.
	Limits Limits `yaml:"limits,omitempty"`
	// Tenants lists tenants with special treatment; tenants not listed share
	// their region's namespace.
	Tenants []Tenant `yaml:"tenants,omitempty"`
	// Location says where the user's country comes from.
	Location Location `yaml:"location,omitempty"`
	// ClientAuth says how client API callers authenticate; absent means
	// a credential is required.
	ClientAuth ClientAuth `yaml:"clientAuth,omitempty"`
	// Records tunes the routing records' retention and sweeping.
	Records Records `yaml:"records,omitempty"`

	version string
	raw     []byte
}

// Classification is one data class.
type Classification struct {
	Name string `yaml:"name"`
	// Resident data may only go to a region whose residency list holds the
	// user's country or one of its jurisdictions.
	Resident bool `yaml:"resident"`
	// Regions, when set, restricts this class to these regions (on top of
	// residency); empty means no restriction.
	Regions []string `yaml:"regions,omitempty"`
}

// Tenant is a tenant with its own settings.
type Tenant struct {
	Name string `yaml:"name"`
	// Isolated tenants get a namespace of their own in every region:
	// "<region's namespace>-<tenant>".
	Isolated bool `yaml:"isolated"`
	// RatePerSecond, Burst and MaxInFlight override limits' tenant
	// defaults for this tenant; absent means the default.
	RatePerSecond *float64 `yaml:"ratePerSecond,omitempty"`
	Burst         *int     `yaml:"burst,omitempty"`
	MaxInFlight   *int     `yaml:"maxInFlight,omitempty"`
}

// Location configures the sources of the user's country, tried in order.
type Location struct {
	// Precedence orders the sources: "request" (the body's userLocation),
	// "header" (a CDN country header from a trusted proxy), "geoip" (the
	// client address in a MaxMind-format database). Empty means
	// [request, header, geoip].
	Precedence []string `yaml:"precedence,omitempty"`
	// Headers are the CDN country headers to read, in order. Empty means
	// CF-IPCountry, CloudFront-Viewer-Country, X-Country-Code.
	Headers []string `yaml:"headers,omitempty"`
	// TrustedProxies are the proxies whose headers are believed, each only
	// for the headers it names. Empty means no header is ever believed.
	TrustedProxies []TrustedProxy `yaml:"trustedProxies,omitempty"`
	// GeoIPDatabase is a MaxMind-format (.mmdb) country database; empty
	// turns the geoip source off.
	GeoIPDatabase string `yaml:"geoipDatabase,omitempty"`
}

// TrustedProxy is a proxy (or CDN) in front of the gateway and the headers
// it may set. A header that any other peer sends is ignored: a client can
// write any header it likes, so a CDN country header is only as good as
// the proxy that set it.
type TrustedProxy struct {
	// CIDR is the range the proxy connects from.
	CIDR string `yaml:"cidr"`
	// Headers it is believed for: "X-Forwarded-For" (it appends the
	// address it saw) and country headers from location.headers. In YAML a
	// plain CIDR string stands for {cidr: ..., headers: [X-Forwarded-For]}.
	Headers []string `yaml:"headers"`
}

// ForwardedFor is the header a trusted proxy appends its peer's address to.
const ForwardedFor = "X-Forwarded-For"

// UnmarshalYAML takes a mapping, or a plain CIDR string for a proxy that
// is only believed for X-Forwarded-For.
func (p *TrustedProxy) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.CIDR, p.Headers = n.Value, []string{ForwardedFor}
		return nil
	}
	type plain TrustedProxy // without this method
	return n.Decode((*plain)(p))
}

// Region is one regional Temporal cluster.
type Region struct {
	Name string `yaml:"name"`
	// Endpoint is the Temporal frontend, host:port.
	Endpoint string `yaml:"endpoint"`
	// Namespace defaults to "<environment>-<name>".
	Namespace string `yaml:"namespace,omitempty"`
	// Residency lists the countries and jurisdictions whose resident data
	// may be stored here.
	Residency []string `yaml:"residency"`
	// Failover lists the regions to prefer, in order, when this one is the
	// user's home region and is unavailable.
	Failover []string `yaml:"failover,omitempty"`
	// Replica, when set, is the region this region's namespaces are
	// replicated to (Temporal global namespaces, active here): its
	// workflows can continue there after a namespace failover. Its
	// residency must cover every class and country this region may hold.
	Replica string `yaml:"replica,omitempty"`
	// Breaker tunes the region's circuit breaker; zero values take defaults.
	Breaker Breaker `yaml:"breaker,omitempty"`
	// CallTimeout bounds every Temporal call to this region; zero means 5s.
	CallTimeout Duration `yaml:"callTimeout,omitempty"`
	// TLS, when present (even empty, `tls: {}`: the system's roots, no
	// client certificate), dials the region over TLS.
	TLS *TLS `yaml:"tls,omitempty"`
	// APIKey, when set, authenticates with an API key (Temporal Cloud). It
	// turns TLS on: a key is never sent in plain text.
	APIKey *APIKey `yaml:"apiKey,omitempty"`
}

// Connection is everything in a region's config that shapes its client's
// connection: when any of it changes, the gateway and the workers need a new
// client for the region. A field added to Region that shapes the
// connection belongs here too (TestConnectionCoversRegion makes sure each
// Region field is placed on one side or the other). It is comparable:
// equal Connections dial alike.
type Connection struct {
	Endpoint  string
	Namespace string
	// UseTLS is true when the region has a tls block or an API key; TLS
	// is that block's settings (zero without one).
	UseTLS bool
	TLS    TLS
	// APIKey says where the API key is read from; zero means none.
	APIKey APIKey
}

// Connection returns what shapes the region's client.
func (r Region) Connection() Connection {
	c := Connection{Endpoint: r.Endpoint, Namespace: r.Namespace, UseTLS: r.TLS != nil || r.APIKey != nil}
	if r.TLS != nil {
		c.TLS = *r.TLS
	}
	if r.APIKey != nil {
		c.APIKey = *r.APIKey
	}
	return c
}

// TLS is how a region's server is verified and, for mutual TLS, how the
// gateway and the workers prove who they are. The files are re-read when
// they change, without a restart or a new connection.
type TLS struct {
	// CAFile holds the CA certificates (PEM) the server's certificate must
	// chain to; empty means the system's roots.
	CAFile string `yaml:"caFile,omitempty"`
	// CertFile and KeyFile are the client certificate and its key (PEM)
	// for mutual TLS; both or neither.
	CertFile string `yaml:"certFile,omitempty"`
	KeyFile  string `yaml:"keyFile,omitempty"`
	// ServerName is the name the server's certificate must carry; empty
	// means the endpoint's host.
	ServerName string `yaml:"serverName,omitempty"`
}

// APIKey says where a region's API key is read from: a file (re-read when
// it changes) or an environment variable, exactly one. The key itself is
// never in the config: the config is shown to every admin viewer, kept in
// Consul and copied into the audit log.
type APIKey struct {
	File string `yaml:"file,omitempty"`
	Env  string `yaml:"env,omitempty"`
}

// UnmarshalYAML refuses an inline key with a message that says why.
func (k *APIKey) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: apiKey must be {file: PATH} or {env: VARIABLE}: an inline key would be shown to every admin viewer and copied into the audit log", n.Line)
	}
	type plain APIKey // without this method
	return n.Decode((*plain)(k))
}

// Breaker tunes a region's circuit breaker.
type Breaker struct {
	// ConsecutiveFailures opens the breaker; zero means 5.
	ConsecutiveFailures uint32 `yaml:"consecutiveFailures,omitempty"`
	// OpenFor is how long it stays open before half-open; zero means 10s.
	OpenFor Duration `yaml:"openFor,omitempty"`
	// HalfOpenRequests is how many probes half-open lets through; zero means 1.
	HalfOpenRequests uint32 `yaml:"halfOpenRequests,omitempty"`
}

// Limits holds request limits.
type Limits struct {
	// MaxBodyBytes caps a request body; zero means 1 MiB.
	MaxBodyBytes int64 `yaml:"maxBodyBytes,omitempty"`
	// TenantRatePerSecond limits each tenant's starts, unless its entry in
	// tenants says otherwise; zero means no limit.
	TenantRatePerSecond float64 `yaml:"tenantRatePerSecond,omitempty"`
	// TenantBurst is each tenant's bucket size; zero means twice the rate.
	TenantBurst int `yaml:"tenantBurst,omitempty"`
	// TenantMaxInFlight caps each tenant's starts in progress at once (a
	// slow region holds them); zero means no cap.
	TenantMaxInFlight int `yaml:"tenantMaxInFlight,omitempty"`
	// AnonymousRatePerSecond, AnonymousBurst and AnonymousMaxInFlight are
	// the one bucket every anonymous caller shares (clientAuth optional);
	// zero rate means no limit, zero burst twice the rate, zero cap none.
	AnonymousRatePerSecond float64 `yaml:"anonymousRatePerSecond,omitempty"`
	AnonymousBurst         int     `yaml:"anonymousBurst,omitempty"`
	AnonymousMaxInFlight   int     `yaml:"anonymousMaxInFlight,omitempty"`
}

// Quota is the start limit one caller gets: a token bucket and a cap on
// starts in progress. A zero RatePerSecond means no rate limit, a zero
// MaxInFlight no cap; Burst is never zero when there is a rate.
type Quota struct {
	RatePerSecond float64
	Burst         int
	MaxInFlight   int
}

// QuotaOf is the quota of a tenant ("" for anonymous callers): its own
// entry's overrides over the defaults in limits.
func (c *Config) QuotaOf(tenant string) Quota {
	if tenant == "" {
		return quota(c.Limits.AnonymousRatePerSecond, c.Limits.AnonymousBurst, c.Limits.AnonymousMaxInFlight)
	}
	q := Quota{RatePerSecond: c.Limits.TenantRatePerSecond, Burst: c.Limits.TenantBurst, MaxInFlight: c.Limits.TenantMaxInFlight}
	t := c.Tenant(tenant)
	if t.RatePerSecond != nil {
		q.RatePerSecond = *t.RatePerSecond
		if t.Burst == nil {
			q.Burst = 0 // twice the tenant's own rate, not the default burst
		}
	}
	if t.Burst != nil {
		q.Burst = *t.Burst
	}
	if t.MaxInFlight != nil {
		q.MaxInFlight = *t.MaxInFlight
	}
	return quota(q.RatePerSecond, q.Burst, q.MaxInFlight)
}

func quota(rate float64, burst, inFlight int) Quota {
	if rate > 0 && burst <= 0 {
		burst = max(1, int(2*rate))
	}
	return Quota{RatePerSecond: rate, Burst: burst, MaxInFlight: inFlight}
}

// Duration is a time.Duration written as "5s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: duration must be a string like \"5s\"", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q: %w", n.Line, s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Raw returns the text the config was parsed from.
func (c *Config) Raw() []byte { return append([]byte(nil), c.raw...) }

// VersionOf returns the version a config text would have, without
// validating it.
func VersionOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// Version identifies the config's content: equal configs have equal versions.
func (c *Config) Version() string { return c.version }

// Region returns the named region.
func (c *Config) Region(name string) (Region, bool) {
	for _, r := range c.Regions {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// Tenant returns the named tenant's settings; unlisted tenants are zero.
func (c *Config) Tenant(name string) Tenant {
	for _, t := range c.Tenants {
		if t.Name == name {
			return t
		}
	}
	return Tenant{Name: name}
}

// Classification returns the named class.
func (c *Config) Classification(name string) (Classification, bool) {
	for _, cl := range c.Classifications {
		if cl.Name == name {
			return cl, true
		}
	}
	return Classification{}, false
}

// MaxBodyBytes returns the body limit with its default applied.
func (c *Config) MaxBodyBytes() int64 {
	if c.Limits.MaxBodyBytes <= 0 {
		return 1 << 20
	}
	return c.Limits.MaxBodyBytes
}

// Parse decodes YAML strictly (unknown fields are errors), applies defaults
// and validates. Any error leaves nothing half-built behind.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := strictyaml.Decode(data, &c); err != nil {
		if errors.Is(err, strictyaml.ErrEmpty) {
			return nil, errors.New("config is empty")
		}
		return nil, fmt.Errorf("decoding config: %w", err)
	}
	c.applyDefaults()
	if err := Validate(&c); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			addLines(data, ve.Problems)
		}
		return nil, err
	}
	c.version = VersionOf(data)
	c.raw = append([]byte(nil), data...)
	return &c, nil
}

func (c *Config) applyDefaults() {
	for i := range c.Regions {
		r := &c.Regions[i]
		if r.Namespace == "" && r.Name != "" {
			r.Namespace = c.Environment + "-" + r.Name
		}
	}
	if len(c.Location.Precedence) == 0 {
		c.Location.Precedence = []string{"request", "header", "geoip"}
	}
	if len(c.Location.Headers) == 0 {
		c.Location.Headers = []string{"CF-IPCountry", "CloudFront-Viewer-Country", "X-Country-Code"}
	}
	if c.DefaultRegion == "" && len(c.Regions) > 0 {
		c.DefaultRegion = c.Regions[0].Name
	}
	c.ClientAuth.applyDefaults()
}
