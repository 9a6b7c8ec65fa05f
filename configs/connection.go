package configs

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// connection checks a region's tls and apiKey blocks.
func (v *validator) connection(p string, r Region) {
	if t := r.TLS; t != nil {
		v.check((t.CertFile == "") == (t.KeyFile == ""), p+".tls", "certFile and keyFile go together (a client certificate and its key)")
		v.check(!strings.ContainsAny(t.ServerName, " :/"), p+".tls.serverName", "must be a host name, got %q", t.ServerName)
	}
	if k := r.APIKey; k != nil {
		v.check((k.File == "") != (k.Env == ""), p+".apiKey", "give exactly one of file and env")
		v.check(k.Env == "" || envNameRE.MatchString(k.Env), p+".apiKey.env", "must be an environment variable name, got %q", k.Env)
	}
}

// Temporal Cloud's endpoints: a namespace's own (mTLS, and API keys where
// the namespace allows them) and the regional API-key endpoints.
const (
	cloudNamespaceSuffix = ".tmprl.cloud"
	cloudRegionalSuffix  = ".api.temporal.io"
)

// Warnings lists what is valid but probably wrong, with lines: a region
// whose endpoint is Temporal Cloud's but that has no credentials Cloud
// would accept, or a namespace Cloud does not serve there. `regiongate
// config validate` prints them; they never refuse a config.
func (c *Config) Warnings() []Problem {
	var out []Problem
	warn := func(path, msg string) { out = append(out, Problem{Path: path, Message: msg}) }
	for i, r := range c.Regions {
		p := fmt.Sprintf("regions[%d]", i)
		host, _, _ := net.SplitHostPort(r.Endpoint)
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		namespaceEndpoint := strings.HasSuffix(host, cloudNamespaceSuffix)
		if !namespaceEndpoint && !strings.HasSuffix(host, cloudRegionalSuffix) {
			continue
		}
		clientCert := r.TLS != nil && r.TLS.CertFile != ""
		if !clientCert && r.APIKey == nil {
			warn(p+".endpoint", "a Temporal Cloud endpoint without credentials: Cloud refuses it; set tls.certFile and tls.keyFile (mTLS) or apiKey")
		}
		if !namespaceEndpoint && clientCert && r.APIKey == nil {
			warn(p+".endpoint", "a Temporal Cloud regional endpoint takes API keys; for mTLS use the namespace endpoint <namespace>.<account>.tmprl.cloud:7233")
		}
		if want := strings.TrimSuffix(host, cloudNamespaceSuffix); namespaceEndpoint && strings.Contains(want, ".") && r.Namespace != want {
			warn(p+".namespace", "Temporal Cloud serves namespace "+want+" at "+r.Endpoint+", not "+r.Namespace)
		}
	}
	addLines(c.raw, out)
	return out
}
