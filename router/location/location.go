// Package location works out a request's country from the sources a real deployment has.
package location

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// Sources, as named in the config's location.precedence.
const (
	SourceRequest = "request" // the body's userLocation
	SourceHeader  = "header"  // a CDN country header from a trusted proxy
	SourceGeoIP   = "geoip"   // the client address in a MaxMind database
)

var (
	// ErrNoLocation: no source gave a country.
	ErrNoLocation = errors.New("no user location: send userLocation (an ISO 3166-1 alpha-2 code)")
	// ErrBadLocation: the request named something that is not a country code.
	ErrBadLocation = errors.New("bad country code")
)

// Input is what a request offers to locate its user.
type Input struct {
	Body       string              // userLocation from the body, may be empty
	Header     func(string) string // request header lookup, may be nil
	RemoteAddr string              // the peer's "ip:port" or "ip"
}

// Resolver tries the configured sources in order. It is safe for
// concurrent use; Close releases the GeoIP database.
type Resolver struct {
	precedence []string
	headers    []string
	trusted    []netip.Prefix
	geo        *maxminddb.Reader
}

// New builds a resolver from a validated config, opening the GeoIP
// database when one is configured.
func New(cfg configs.Location) (*Resolver, error) {
	r := &Resolver{precedence: cfg.Precedence, headers: cfg.Headers}
	for _, c := range cfg.TrustedProxies {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", c, err)
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	if cfg.GeoIPDatabase != "" {
		db, err := maxminddb.Open(cfg.GeoIPDatabase)
		if err != nil {
			return nil, fmt.Errorf("opening GeoIP database: %w", err)
		}
		r.geo = db
	}
	return r, nil
}

// Close releases the GeoIP database.
func (r *Resolver) Close() error {
	if r.geo == nil {
		return nil
	}
	return r.geo.Close()
}

// Resolve returns the country and the source that decided it. A body
// location that is not a valid code is an error, not a reason to guess
// from elsewhere: the client said something wrong.
// It is checked whatever the precedence, even when a header or GeoIP would
// decide first.
func (r *Resolver) Resolve(in Input) (country, source string, err error) {
	if in.Body != "" && !iso3166.Valid(in.Body) {
		return "", "", fmt.Errorf("%w %q: want an ISO 3166-1 alpha-2 code such as DE", ErrBadLocation, in.Body)
	}
	for _, src := range r.precedence {
		switch src {
		case SourceRequest:
			if in.Body == "" {
				continue
			}
			return in.Body, SourceRequest, nil
		case SourceHeader:
			if c := r.fromHeader(in); c != "" {
				return c, SourceHeader, nil
			}
		case SourceGeoIP:
			if c := r.fromGeoIP(in); c != "" {
				return c, SourceGeoIP, nil
			}
		}
	}
	return "", "", ErrNoLocation
}

// fromHeader reads the first configured header that holds a real country
// code, only when the peer is a trusted proxy: anyone else could forge it.
// CDN placeholders such as "XX" (unknown) or "T1" (Tor) are skipped.
func (r *Resolver) fromHeader(in Input) string {
	if in.Header == nil || !r.isTrusted(peer(in.RemoteAddr)) {
		return ""
	}
	for _, h := range r.headers {
		v := strings.ToUpper(strings.TrimSpace(in.Header(h)))
		if iso3166.Valid(v) {
			return v
		}
	}
	return ""
}

func (r *Resolver) fromGeoIP(in Input) string {
	if r.geo == nil {
		return ""
	}
	ip := r.clientIP(in)
	if !ip.IsValid() {
		return ""
	}
	var rec struct {
		Country struct {
			ISOCode string `maxminddb:"iso_code"`
		} `maxminddb:"country"`
	}
	if err := r.geo.Lookup(ip).Decode(&rec); err != nil || !iso3166.Valid(rec.Country.ISOCode) {
		return ""
	}
	return rec.Country.ISOCode
}

// clientIP is the peer, or, when the peer is a trusted proxy, the
// right-most address in X-Forwarded-For that is not itself trusted.
func (r *Resolver) clientIP(in Input) netip.Addr {
	ip := peer(in.RemoteAddr)
	if !r.isTrusted(ip) || in.Header == nil {
		return ip
	}
	hops := strings.Split(in.Header("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip
		}
		if !r.isTrusted(hop.Unmap()) {
			return hop.Unmap()
		}
	}
	return ip
}

func (r *Resolver) isTrusted(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// peer parses "ip:port" or a bare ip.
func peer(addr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap()
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip.Unmap()
	}
	return netip.Addr{}
}
