package configs

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// Problem is one thing wrong with a config, with its place in the file.
type Problem struct {
	Path    string `json:"path"`           // e.g. "regions[2].failover[0]"
	Line    int    `json:"line,omitempty"` // in the YAML text; 0 when unknown
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return "line " + strconv.Itoa(p.Line) + ": " + p.Path + ": " + p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem found, not just the first.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid config:\n  " + strings.Join(lines, "\n  ")
}

var (
	nameRE  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	groupRE = regexp.MustCompile(`^[A-Z][A-Z0-9-]{1,31}$`)
)

// Validate checks a decoded config completely and returns a *ValidationError
// listing every problem, or nil.
func Validate(c *Config) error {
	v := &validator{}
	v.check(nameRE.MatchString(c.Environment), "environment", "must be a lower-case name like \"dev\", got %q", c.Environment)
	v.jurisdictions(c)
	v.classifications(c)
	v.regions(c)
	v.classRegions(c)
	v.tenants(c)
	v.location(c)
	v.clientAuth(c.ClientAuth)
	v.records(c.Records)
	v.within(float64(c.Limits.MaxBodyBytes), MaxBodyBytesLimit, "limits.maxBodyBytes", "bytes")
	v.within(c.Limits.TenantRatePerSecond, MaxTenantRate, "limits.tenantRatePerSecond", "starts per second")
	v.within(float64(c.Limits.TenantBurst), MaxTenantBurst, "limits.tenantBurst", "starts")
	v.within(float64(c.Limits.TenantMaxInFlight), MaxInFlight, "limits.tenantMaxInFlight", "starts")
	v.within(c.Limits.AnonymousRatePerSecond, MaxTenantRate, "limits.anonymousRatePerSecond", "starts per second")
	v.within(float64(c.Limits.AnonymousBurst), MaxTenantBurst, "limits.anonymousBurst", "starts")
	v.within(float64(c.Limits.AnonymousMaxInFlight), MaxInFlight, "limits.anonymousMaxInFlight", "starts")
	if len(v.problems) > 0 {
		return &ValidationError{Problems: v.problems}
	}
	return nil
}

// Bounds on every number in the config: a value past them is a typo or an
// attack on the gateway (a body limit near 2^63 overflowed the reader and
// made every body read as empty), never a setting anyone needs.
const (
	MaxBodyBytesLimit = 64 << 20 // limits.maxBodyBytes
	MaxTenantRate     = 1e6      // limits.tenantRatePerSecond
	MaxTenantBurst    = 1e7      // limits.tenantBurst
	MaxInFlight       = 1e6      // limits.tenantMaxInFlight, tenants[].maxInFlight
	MaxBreakerCount   = 10000    // breaker.consecutiveFailures, breaker.halfOpenRequests
	MaxCallTimeout    = Duration(10 * time.Minute)
	MaxOpenFor        = Duration(24 * time.Hour)
)

type validator struct{ problems []Problem }

// within checks 0 <= x <= hi; NaN is outside every range.
func (v *validator) within(x, hi float64, path, unit string) {
	switch {
	case x != x:
		v.check(false, path, "must be a number")
	case x < 0:
		v.check(false, path, "must not be negative, got %g", x)
	case x > hi:
		v.check(false, path, "must be at most %g %s, got %g", hi, unit, x)
	}
}

func (v *validator) durationWithin(d, hi Duration, path string) {
	v.check(d >= 0, path, "must not be negative, got %s", time.Duration(d))
	v.check(d <= hi, path, "must be at most %s, got %s", time.Duration(hi), time.Duration(d))
}

func (v *validator) check(ok bool, path, format string, args ...any) {
	if !ok {
		v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
}

func (v *validator) jurisdictions(c *Config) {
	for _, name := range slices.Sorted(maps.Keys(c.Jurisdictions)) {
		members := c.Jurisdictions[name]
		path := "jurisdictions." + name
		v.check(groupRE.MatchString(name), path, "a group name must be upper case, like \"EU\"")
		v.check(!iso3166.Valid(name), path, "a group must not be named like the country %s", name)
		v.check(len(members) > 0, path, "a group needs at least one country")
		seen := map[string]bool{}
		for i, m := range members {
			p := fmt.Sprintf("%s[%d]", path, i)
			v.check(iso3166.Valid(m), p, "%q is not an ISO 3166-1 alpha-2 country code", m)
			v.check(!seen[m], p, "%s is listed twice", m)
			seen[m] = true
		}
	}
}

func (v *validator) classifications(c *Config) {
	v.check(len(c.Classifications) > 0, "classifications", "at least one classification is needed")
	seen := map[string]bool{}
	for i, cl := range c.Classifications {
		p := fmt.Sprintf("classifications[%d]", i)
		v.check(nameRE.MatchString(cl.Name), p+".name", "must be a lower-case name, got %q", cl.Name)
		v.check(!seen[cl.Name], p+".name", "duplicate classification %q", cl.Name)
		seen[cl.Name] = true
	}
}

func (v *validator) regions(c *Config) {
	v.check(len(c.Regions) > 0, "regions", "at least one region is needed")
	names := map[string]bool{}
	for i, r := range c.Regions {
		p := fmt.Sprintf("regions[%d]", i)
		v.check(nameRE.MatchString(r.Name), p+".name", "must be a lower-case name like \"eu-west\", got %q", r.Name)
		v.check(!names[r.Name], p+".name", "duplicate region %q", r.Name)
		names[r.Name] = true
		v.check(validHostPort(r.Endpoint), p+".endpoint", "must be host:port, got %q", r.Endpoint)
		v.check(r.Namespace != "" && !strings.ContainsAny(r.Namespace, " /"), p+".namespace", "must be a Temporal namespace name, got %q", r.Namespace)
		v.durationWithin(r.CallTimeout, MaxCallTimeout, p+".callTimeout")
		v.connection(p, r)
		v.durationWithin(r.Breaker.OpenFor, MaxOpenFor, p+".breaker.openFor")
		v.within(float64(r.Breaker.ConsecutiveFailures), MaxBreakerCount, p+".breaker.consecutiveFailures", "failures")
		v.within(float64(r.Breaker.HalfOpenRequests), MaxBreakerCount, p+".breaker.halfOpenRequests", "requests")
		for j, e := range r.Residency {
			_, group := c.Jurisdictions[e]
			v.check(group || iso3166.Valid(e), fmt.Sprintf("%s.residency[%d]", p, j),
				"%q is neither an ISO 3166-1 alpha-2 country code nor a jurisdiction group", e)
		}
	}
	for i, r := range c.Regions {
		for j, f := range r.Failover {
			p := fmt.Sprintf("regions[%d].failover[%d]", i, j)
			v.check(names[f], p, "unknown region %q", f)
			v.check(f != r.Name, p, "a region cannot fail over to itself")
		}
	}
	v.replicas(c)
	v.check(names[c.DefaultRegion], "defaultRegion", "unknown region %q", c.DefaultRegion)
	v.residentClassesHaveAHome(c)
}

// residentClassesHaveAHome catches a config where resident data could never
// be stored anywhere: every resident request would be refused.
func (v *validator) residentClassesHaveAHome(c *Config) {
	anyResidency := false
	for _, r := range c.Regions {
		anyResidency = anyResidency || len(r.Residency) > 0
	}
	for i, cl := range c.Classifications {
		v.check(!cl.Resident || anyResidency, fmt.Sprintf("classifications[%d]", i),
			"resident class %q has no region whose residency list accepts anyone", cl.Name)
	}
}

func (v *validator) classRegions(c *Config) {
	for i, cl := range c.Classifications {
		for j, r := range cl.Regions {
			_, ok := c.Region(r)
			v.check(ok, fmt.Sprintf("classifications[%d].regions[%d]", i, j), "unknown region %q", r)
		}
	}
}

func (v *validator) tenants(c *Config) {
	seen := map[string]bool{}
	for i, t := range c.Tenants {
		p := fmt.Sprintf("tenants[%d].name", i)
		v.check(ValidTenant(t.Name), p, "must be a tenant name (lower-case letters, digits and -, at most 63, not starting with -), got %q", t.Name)
		v.check(!seen[t.Name], p, "duplicate tenant %q", t.Name)
		seen[t.Name] = true
		q := fmt.Sprintf("tenants[%d].", i)
		if t.RatePerSecond != nil {
			v.within(*t.RatePerSecond, MaxTenantRate, q+"ratePerSecond", "starts per second")
		}
		if t.Burst != nil {
			v.within(float64(*t.Burst), MaxTenantBurst, q+"burst", "starts")
		}
		if t.MaxInFlight != nil {
			v.within(float64(*t.MaxInFlight), MaxInFlight, q+"maxInFlight", "starts")
		}
	}
}

func (v *validator) location(c *Config) {
	seen := map[string]bool{}
	for i, s := range c.Location.Precedence {
		p := fmt.Sprintf("location.precedence[%d]", i)
		v.check(s == "request" || s == "header" || s == "geoip", p, "unknown source %q: want request, header or geoip", s)
		v.check(!seen[s], p, "source %q listed twice", s)
		seen[s] = true
	}
	for i, h := range c.Location.Headers {
		v.check(h != "" && !strings.ContainsAny(h, " :\t"), fmt.Sprintf("location.headers[%d]", i), "bad header name %q", h)
	}
	for i, tp := range c.Location.TrustedProxies {
		p := fmt.Sprintf("location.trustedProxies[%d]", i)
		_, err := netip.ParsePrefix(tp.CIDR)
		v.check(err == nil, p, "bad CIDR %q", tp.CIDR)
		v.check(len(tp.Headers) > 0, p+".headers", "name the headers this proxy sets (X-Forwarded-For and/or country headers from location.headers)")
		for j, h := range tp.Headers {
			known := strings.EqualFold(h, ForwardedFor) || slices.ContainsFunc(c.Location.Headers, func(k string) bool { return strings.EqualFold(k, h) })
			v.check(known, fmt.Sprintf("%s.headers[%d]", p, j), "%q is neither X-Forwarded-For nor one of location.headers", h)
		}
	}
}

func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
}

// ErrNotFound is returned by sources when no config is stored yet.
var ErrNotFound = errors.New("config not found")
