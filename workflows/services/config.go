package services

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/regiongate/regiongate/internal/base/strictyaml"
)

// Endpoint timeouts: the default, and the longest allowed (a request that
// outlasts its activity's start-to-close timeout is wasted).
const (
	DefaultTimeout = 3 * time.Second
	MaxTimeout     = time.Minute
)

// Endpoint is one service reached over HTTP.
type Endpoint struct {
	// URL is the base URL, http or https, without credentials, query or
	// fragment; the API's paths go below it.
	URL string `yaml:"url"`
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// AuthTokenFile, if set, holds a bearer token sent as
	// "Authorization: Bearer <token>". It is read again when it changes,
	// so a rotated token needs no restart.
	AuthTokenFile string `yaml:"authTokenFile"`
}

// Config is the services of one region. A nil endpoint means the in-memory
// stand-in of this package (dev only: it forgets everything on restart).
type Config struct {
	Payment      *Endpoint `yaml:"payment"`
	Property     *Endpoint `yaml:"property"`
	Notification *Endpoint `yaml:"notification"`
}

// File is a services file: a Config per region, so that one file can serve
// every region's workers.
//
//	regions:
//	  eu-west:
//	    payment: {url: "https://payments.eu-west.internal", timeout: 3s, authTokenFile: /run/secrets/payments}
//	    property: {url: "https://properties.eu-west.internal"}
//	    # notification not set: the in-memory stand-in
type File struct {
	Regions map[string]Config `yaml:"regions"`
}

// ErrNoRegion: the file has no entry for the region asked for.
var ErrNoRegion = errors.New("no services configured for the region")

// LoadFile reads and parses a services file.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("services config: %w", err)
	}
	f, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf("services config %s: %w", path, err)
	}
	return f, nil
}

// ParseFile decodes YAML (or JSON, which is YAML) strictly: an unknown
// field is an error, as is a second document. Every problem found is
// reported, each with its path.
func ParseFile(data []byte) (*File, error) {
	var f File
	if err := strictyaml.Decode(data, &f); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// LoadRegion reads a services file and returns the region's services.
func LoadRegion(path, region string) (Config, error) {
	f, err := LoadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := f.Region(region)
	if err != nil {
		return Config{}, fmt.Errorf("services config %s: %w", path, err)
	}
	return c, nil
}

// Region returns the region's services, ErrNoRegion if the file has none.
func (f *File) Region(name string) (Config, error) {
	c, ok := f.Regions[name]
	if !ok {
		return Config{}, fmt.Errorf("%w: %q", ErrNoRegion, name)
	}
	return c, nil
}

func (f *File) validate() error {
	if len(f.Regions) == 0 {
		return errors.New("regions: at least one region is needed")
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(f.Regions)) {
		if strings.TrimSpace(name) == "" {
			problems = append(problems, "regions: a region name is empty")
		}
		problems = append(problems, f.Regions[name].problems("regions."+name)...)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// problems lists what is wrong with c, each prefixed with its path.
func (c Config) problems(path string) []string {
	var out []string
	for _, s := range []struct {
		name string
		e    *Endpoint
	}{{"payment", c.Payment}, {"property", c.Property}, {"notification", c.Notification}} {
		if s.e == nil {
			continue
		}
		if err := s.e.validate(); err != nil {
			out = append(out, fmt.Sprintf("%s.%s.%v", path, s.name, err))
		}
	}
	return out
}

// String says what each service is, for the worker's log: no secrets in
// it (an endpoint has none; the token stays in its file).
func (c Config) String() string {
	describe := func(e *Endpoint) string {
		if e == nil {
			return "in-memory"
		}
		return fmt.Sprintf("%s (timeout %s)", e.URL, e.withDefaults().Timeout)
	}
	return fmt.Sprintf("payment=%s property=%s notification=%s",
		describe(c.Payment), describe(c.Property), describe(c.Notification))
}

func (e Endpoint) withDefaults() Endpoint {
	if e.Timeout == 0 {
		e.Timeout = DefaultTimeout
	}
	return e
}

// validate reports the first problem as "field: what is wrong".
func (e Endpoint) validate() error {
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "":
		return errors.New("url: required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("url: must be an absolute http or https URL")
	case u.User != nil:
		return errors.New("url: must not hold credentials (use authTokenFile)")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(e.URL, "?"):
		return errors.New("url: must have no query or fragment")
	case e.Timeout < 0 || e.Timeout > MaxTimeout:
		return fmt.Errorf("timeout: must be between 0 (default %s) and %s", DefaultTimeout, MaxTimeout)
	}
	return nil
}
