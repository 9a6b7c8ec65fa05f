// Package location works out a request's country from the sources a real deployment has.
package location

import (
	"errors"
	"fmt"
	"net/http"
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
	Body       string      // userLocation from the body, may be empty
	Header     http.Header // the request's headers, may be nil
	RemoteAddr string      // the peer's "ip:port" or "ip"
}

// Resolver tries the configured sources in order. It is safe for
// concurrent use; Close releases the GeoIP database.
type Resolver struct {
	precedence []string
	headers    []header // the country headers, in the config's order
	trusted    []proxy
	geo        *maxminddb.Reader
	ignored    func(header string)
}

// header is a country header as configured (for reports) and canonical
// (to compare).
type header struct{ name, canonical string }

// proxy is a trusted proxy and the headers it is believed for.
type proxy struct {
	prefix  netip.Prefix
	headers map[string]bool // canonical header names
}

// Options are what New needs besides the config.
type Options struct {
	// Ignored, when set, hears every location header a request carried
	// that was not believed (the peer is not a proxy trusted for it). It
	// is only ever called with X-Forwarded-For or a configured country
	// header, so a counter labelled with it stays bounded.
	Ignored func(header string)
}

// New builds a resolver from a validated config, opening the GeoIP
// database when one is configured.
func New(cfg configs.Location, opts Options) (*Resolver, error) {
	r := &Resolver{precedence: cfg.Precedence, ignored: opts.Ignored}
	if r.ignored == nil {
		r.ignored = func(string) {}
	}
	for _, h := range cfg.Headers {
		r.headers = append(r.headers, header{name: h, canonical: http.CanonicalHeaderKey(h)})
	}
	for _, tp := range cfg.TrustedProxies {
		p, err := netip.ParsePrefix(tp.CIDR)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", tp.CIDR, err)
		}
		px := proxy{prefix: p.Masked(), headers: map[string]bool{}}
		for _, h := range tp.Headers {
			px.headers[http.CanonicalHeaderKey(h)] = true
		}
		r.trusted = append(r.trusted, px)
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
// code, only from a peer that is a proxy trusted for that header: anyone
// else could forge it. A header sent by anyone else is ignored (and
// reported). CDN placeholders such as "XX" (unknown) or "T1" (Tor) are
// skipped.
func (r *Resolver) fromHeader(in Input) string {
	if in.Header == nil {
		return ""
	}
	from := peer(in.RemoteAddr)
	for _, h := range r.headers {
		raw := in.Header.Get(h.canonical)
		if raw == "" {
			continue
		}
		if !r.believes(from, h.canonical) {
			r.ignored(h.name)
			continue
		}
		if v := strings.ToUpper(strings.TrimSpace(raw)); iso3166.Valid(v) {
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

// clientIP is the peer, or, when the peer is a proxy trusted for
// X-Forwarded-For, the right-most address in it that is not itself such a
// proxy. Every X-Forwarded-For line counts, as one list in order: a proxy
// may append a line of its own, and reading only the first would let the
// client's forged line win.
func (r *Resolver) clientIP(in Input) netip.Addr {
	ip := peer(in.RemoteAddr)
	if in.Header == nil {
		return ip
	}
	lines := in.Header.Values(configs.ForwardedFor)
	if len(lines) == 0 {
		return ip
	}
	if !r.believes(ip, configs.ForwardedFor) {
		r.ignored(configs.ForwardedFor)
		return ip
	}
	hops := strings.Split(strings.Join(lines, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip
		}
		if !r.believes(hop.Unmap(), configs.ForwardedFor) {
			return hop.Unmap()
		}
	}
	return ip
}

// believes reports whether ip is a proxy trusted for header (canonical):
// any trusted proxy entry holding ip that names it.
func (r *Resolver) believes(ip netip.Addr, header string) bool {
	if !ip.IsValid() {
		return false
	}
	for _, px := range r.trusted {
		if px.headers[header] && px.prefix.Contains(ip) {
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
