package location

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"gopkg.in/yaml.v3"

	"github.com/regiongate/regiongate/configs"
)

// writeGeoDB builds a tiny MaxMind-format country database: 81.0.0.0/8 is
// DE, 2001:db8::/32 is FR, 8.8.8.0/24 is US.
func writeGeoDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "Test-Country", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, code := range map[string]string{"81.0.0.0/8": "DE", "2001:db8::/32": "FR", "8.8.8.0/24": "US"} {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

// headers builds request headers; a key given twice is two lines.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// proxies10 trusts 10.0.0.0/8 for every header these tests send.
var proxies10 = []configs.TrustedProxy{{CIDR: "10.0.0.0/8", Headers: []string{"X-Forwarded-For", "CF-IPCountry", "CloudFront-Viewer-Country"}}}

func newResolver(t testing.TB, loc configs.Location) *Resolver {
	return newResolverWith(t, loc, Options{})
}

func newResolverWith(t testing.TB, loc configs.Location, opts Options) *Resolver {
	t.Helper()
	if len(loc.Headers) == 0 {
		loc.Headers = []string{"CF-IPCountry", "CloudFront-Viewer-Country"}
	}
	r, err := New(loc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestResolve(t *testing.T) {
	db := writeGeoDB(t)
	all := configs.Location{Precedence: []string{"request", "header", "geoip"}, TrustedProxies: proxies10, GeoIPDatabase: db}
	headerFirst := configs.Location{Precedence: []string{"header", "geoip", "request"}, TrustedProxies: proxies10, GeoIPDatabase: db}
	tests := []struct {
		name       string
		loc        configs.Location
		in         Input
		want, from string
		wantErr    error
	}{
		{"body wins by default", all, Input{Body: "DE", Header: headers("CF-IPCountry", "US"), RemoteAddr: "10.1.1.1:5"}, "DE", SourceRequest, nil},
		{"bad body is an error, not a fallback", all, Input{Body: "de", RemoteAddr: "81.1.1.1:5"}, "", "", ErrBadLocation},
		{"trusted proxy header", all, Input{Header: headers("CF-IPCountry", "CH"), RemoteAddr: "10.1.1.1:5"}, "CH", SourceHeader, nil},
		{"second configured header", all, Input{Header: headers("CloudFront-Viewer-Country", "gb"), RemoteAddr: "10.1.1.1:5"}, "GB", SourceHeader, nil},
		{"untrusted peer's header is ignored", all, Input{Header: headers("CF-IPCountry", "CH"), RemoteAddr: "81.2.3.4:5"}, "DE", SourceGeoIP, nil},
		{"cdn placeholder XX falls through", all, Input{Header: headers("CF-IPCountry", "XX"), RemoteAddr: "10.1.1.1:5"}, "", "", ErrNoLocation},
		{"tor T1 falls through to geoip of the forwarded client", all, Input{Header: headers("CF-IPCountry", "T1", "X-Forwarded-For", "8.8.8.8, 10.2.2.2"), RemoteAddr: "10.1.1.1:5"}, "US", SourceGeoIP, nil},
		{"geoip of the peer", all, Input{RemoteAddr: "81.9.9.9:443"}, "DE", SourceGeoIP, nil},
		{"geoip ipv6", all, Input{RemoteAddr: "[2001:db8::1]:443"}, "FR", SourceGeoIP, nil},
		{"forwarded-for ignored from untrusted peer", all, Input{Header: headers("X-Forwarded-For", "8.8.8.8"), RemoteAddr: "81.9.9.9:443"}, "DE", SourceGeoIP, nil},
		{"unknown address", all, Input{RemoteAddr: "192.0.2.1:1"}, "", "", ErrNoLocation},
		{"garbage address", all, Input{RemoteAddr: "not-an-ip"}, "", "", ErrNoLocation},
		{"header precedence beats the body", headerFirst, Input{Body: "DE", Header: headers("CF-IPCountry", "US"), RemoteAddr: "10.1.1.1:5"}, "US", SourceHeader, nil},
		{"a bad body is an error under header precedence too", headerFirst, Input{Body: "XX", Header: headers("CF-IPCountry", "US"), RemoteAddr: "10.1.1.1:5"}, "", "", ErrBadLocation},
		{"no proxies configured: header never trusted", configs.Location{Precedence: []string{"header"}}, Input{Header: headers("CF-IPCountry", "US"), RemoteAddr: "10.1.1.1:5"}, "", "", ErrNoLocation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from, err := newResolver(t, tt.loc).Resolve(tt.in)
			if !errors.Is(err, tt.wantErr) || got != tt.want || from != tt.from {
				t.Fatalf("got %q from %q (%v), want %q from %q (%v)", got, from, err, tt.want, tt.from, tt.wantErr)
			}
		})
	}
}

// TestSpoofing: a client behind trusted proxies cannot choose its country.
// Each proxy is believed only for the headers it is configured to set, and
// every X-Forwarded-For line is read as one list.
func TestSpoofing(t *testing.T) {
	db := writeGeoDB(t)
	cloudfront := configs.TrustedProxy{CIDR: "10.0.0.0/8", Headers: []string{"X-Forwarded-For", "CloudFront-Viewer-Country"}}
	headerFirst := configs.Location{Precedence: []string{"header", "geoip", "request"}, GeoIPDatabase: db,
		Headers: []string{"CF-IPCountry", "CloudFront-Viewer-Country"}, TrustedProxies: []configs.TrustedProxy{cloudfront}}
	geoFirst := configs.Location{Precedence: []string{"geoip", "request"}, GeoIPDatabase: db, TrustedProxies: []configs.TrustedProxy{cloudfront}}
	plain := configs.Location{Precedence: []string{"header", "geoip"}, GeoIPDatabase: db}
	if err := yaml.Unmarshal([]byte("[10.0.0.0/8]"), &plain.TrustedProxies); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		loc        configs.Location
		in         Input
		want, from string
		ignored    []string
	}{
		{"behind CloudFront a client-sent CF-IPCountry is ignored", headerFirst,
			Input{Header: headers("CF-IPCountry", "US", "CloudFront-Viewer-Country", "DE"), RemoteAddr: "10.1.1.1:5"}, "DE", SourceHeader, []string{"CF-IPCountry"}},
		{"a forged line before the proxy's own line loses", geoFirst,
			Input{Header: headers("X-Forwarded-For", "8.8.8.8", "X-Forwarded-For", "81.1.1.1"), RemoteAddr: "10.1.1.1:5"}, "DE", SourceGeoIP, nil},
		{"a forged address before the proxy's append loses", geoFirst,
			Input{Header: headers("X-Forwarded-For", "8.8.8.8, 81.1.1.1"), RemoteAddr: "10.1.1.1:5"}, "DE", SourceGeoIP, nil},
		{"a direct client's X-Forwarded-For is ignored", geoFirst,
			Input{Header: headers("X-Forwarded-For", "8.8.8.8"), RemoteAddr: "81.1.1.1:5"}, "DE", SourceGeoIP, []string{"X-Forwarded-For"}},
		{"a direct client's country header is ignored", headerFirst,
			Input{Header: headers("CloudFront-Viewer-Country", "US"), RemoteAddr: "81.1.1.1:5"}, "DE", SourceGeoIP, []string{"CloudFront-Viewer-Country"}},
		{"a plain CIDR is believed for X-Forwarded-For only", plain,
			Input{Header: headers("CF-IPCountry", "US", "X-Forwarded-For", "81.1.1.1"), RemoteAddr: "10.1.1.1:5"}, "DE", SourceGeoIP, []string{"CF-IPCountry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ignored []string
			r := newResolverWith(t, tt.loc, Options{Ignored: func(h string) { ignored = append(ignored, h) }})
			got, from, err := r.Resolve(tt.in)
			if err != nil || got != tt.want || from != tt.from {
				t.Fatalf("got %q from %q (%v), want %q from %q", got, from, err, tt.want, tt.from)
			}
			if !slices.Equal(ignored, tt.ignored) {
				t.Fatalf("ignored %v, want %v", ignored, tt.ignored)
			}
		})
	}
}

func TestNewRefusesAMissingDatabase(t *testing.T) {
	_, err := New(configs.Location{GeoIPDatabase: filepath.Join(t.TempDir(), "none.mmdb")}, Options{})
	if err == nil {
		t.Fatal("want an error for a missing GeoIP database")
	}
}

func FuzzResolve(f *testing.F) {
	db := writeGeoDB(f)
	r := newResolver(f, configs.Location{Precedence: []string{"request", "header", "geoip"}, TrustedProxies: []configs.TrustedProxy{proxies10[0], {CIDR: "::1/128", Headers: proxies10[0].Headers}}, GeoIPDatabase: db})
	f.Add("DE", "CH", "8.8.8.8, 10.0.0.1", "10.0.0.2:80")
	f.Add("", "T1", "garbage,,", "[::1]:1")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, body, cf, xff, remote string) {
		c, src, err := r.Resolve(Input{Body: body, Header: headers("CF-IPCountry", cf, "X-Forwarded-For", xff, "X-Forwarded-For", cf), RemoteAddr: remote})
		if err == nil && (len(c) != 2 || src == "") {
			t.Fatalf("resolved to %q from %q", c, src)
		}
		if body != "" && err == nil && (c != body || src != SourceRequest) {
			t.Fatalf("a valid body must win: got %q from %q", c, src)
		}
	})
}
