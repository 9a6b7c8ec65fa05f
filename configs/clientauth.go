package configs

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Client authentication modes (ClientAuth.Mode).
const (
	// ClientAuthRequired refuses a caller without a valid credential (401).
	ClientAuthRequired = "required"
	// ClientAuthOptional also serves anonymous callers, who have no
	// tenant; a credential that is sent must still be valid.
	ClientAuthOptional = "optional"
)

// ClientAuth says how the client API authenticates its callers, with an
// API key or an OIDC access token in "Authorization: Bearer".
type ClientAuth struct {
	// Mode is ClientAuthRequired or ClientAuthOptional; empty (the section
	// absent) means required, the production default.
	Mode string `yaml:"mode,omitempty"`
	// OIDC accepts JWT access tokens from one issuer; nil accepts none
	// (API keys only).
	OIDC *OIDC `yaml:"oidc,omitempty"`
}

// OIDC is the issuer whose access tokens the client API accepts.
type OIDC struct {
	// Issuer is the token's iss, compared exactly; https (http only on a
	// loopback host).
	Issuer string `yaml:"issuer"`
	// Audiences: a token's aud must name at least one of them.
	Audiences []string `yaml:"audiences"`
	// JWKSURL is where the issuer's signing keys are; empty means the
	// jwks_uri of the issuer's /.well-known/openid-configuration.
	JWKSURL string `yaml:"jwksURL,omitempty"`
	// Algorithms pins the signature algorithms accepted; empty means
	// [RS256]. "none" and the HMAC algorithms (HS*) are refused: a
	// gateway holding the issuer's shared secret could mint tokens.
	Algorithms []string `yaml:"algorithms,omitempty"`
	// TenantClaim names the claim holding the tenant; empty means
	// "tenant". A name with dots is first looked up as it is (for
	// namespaced claims like "https://example.com/tenant"), then as a
	// path into nested objects ("ext.tenant").
	TenantClaim string `yaml:"tenantClaim,omitempty"`
	// RoleClaim names the claim holding the caller's roles (an array of
	// strings or one space-separated string), read as TenantClaim is;
	// empty means "roles".
	RoleClaim string `yaml:"roleClaim,omitempty"`
	// CodecRole is the role (in RoleClaim) that lets a token decode
	// payloads at the codec endpoint, as the Temporal UI does with "pass
	// access token"; empty means "regiongate-codec".
	CodecRole string `yaml:"codecRole,omitempty"`
	// Leeway is the clock skew allowed on exp and nbf; zero means none.
	Leeway Duration `yaml:"leeway,omitempty"`
}

// Bounds and defaults of the client authentication settings.
const (
	MaxOIDCLeeway      = Duration(5 * time.Minute)
	DefaultTenantClaim = "tenant"
	DefaultRoleClaim   = "roles"
	DefaultCodecRole   = "regiongate-codec"
)

// OIDCAlgorithms are the JWT signature algorithms oidc.algorithms may pin:
// asymmetric ones only.
var OIDCAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// ValidTenant reports whether name is a canonical tenant name: lower-case
// ASCII letters, digits and '-', at most 63 bytes, not starting with '-'
// (it would read as a flag on a command line). The one tenant rule: config
// validation, the API-key parser and the JWT tenant claim all use it, so
// "Acme", "acme " and names with invisible characters never name a tenant.
func ValidTenant(name string) bool {
	if len(name) == 0 || len(name) > 63 || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// CheckOIDCURL checks an issuer or JWKS URL: absolute https, or http on a
// loopback host (a local test IdP); no credentials, query or fragment.
func CheckOIDCURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %v", err)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%q has no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q must not carry credentials, a query or a fragment", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q must be https (http only on a loopback host)", raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a *ClientAuth) applyDefaults() {
	if a.Mode == "" {
		a.Mode = ClientAuthRequired
	}
	if o := a.OIDC; o != nil {
		if len(o.Algorithms) == 0 {
			o.Algorithms = []string{"RS256"}
		}
		if o.TenantClaim == "" {
			o.TenantClaim = DefaultTenantClaim
		}
		if o.RoleClaim == "" {
			o.RoleClaim = DefaultRoleClaim
		}
		if o.CodecRole == "" {
			o.CodecRole = DefaultCodecRole
		}
	}
}

func (v *validator) clientAuth(a ClientAuth) {
	v.check(a.Mode == ClientAuthRequired || a.Mode == ClientAuthOptional, "clientAuth.mode",
		"must be %s or %s, got %q", ClientAuthRequired, ClientAuthOptional, a.Mode)
	o := a.OIDC
	if o == nil {
		return
	}
	const p = "clientAuth.oidc"
	v.checkErr(CheckOIDCURL(o.Issuer), p+".issuer")
	if o.JWKSURL != "" {
		v.checkErr(CheckOIDCURL(o.JWKSURL), p+".jwksURL")
	}
	v.check(len(o.Audiences) > 0, p+".audiences", "name at least one audience: without one, tokens issued for any other service would be accepted")
	for i, aud := range o.Audiences {
		path := fmt.Sprintf("%s.audiences[%d]", p, i)
		v.check(strings.TrimSpace(aud) == aud && aud != "", path, "must be a non-empty audience without surrounding spaces, got %q", aud)
		v.check(!slices.Contains(o.Audiences[:i], aud), path, "%q is listed twice", aud)
	}
	for i, alg := range o.Algorithms {
		path := fmt.Sprintf("%s.algorithms[%d]", p, i)
		switch {
		case strings.EqualFold(alg, "none"):
			v.check(false, path, "\"none\" is never accepted: it means an unsigned token")
		case strings.HasPrefix(strings.ToUpper(alg), "HS"):
			v.check(false, path, "%s is refused: HMAC needs the issuer's shared secret, and a token signed with the public key as the secret must never pass", alg)
		default:
			v.check(slices.Contains(OIDCAlgorithms, alg), path, "unknown algorithm %q: want one of %s", alg, strings.Join(OIDCAlgorithms, ", "))
		}
		v.check(!slices.Contains(o.Algorithms[:i], alg), path, "%s is listed twice", alg)
	}
	v.check(validClaimName(o.TenantClaim), p+".tenantClaim", "must be a claim name or a dotted path like \"ext.tenant\", got %q", o.TenantClaim)
	v.check(validClaimName(o.RoleClaim), p+".roleClaim", "must be a claim name or a dotted path like \"realm_access.roles\", got %q", o.RoleClaim)
	v.durationWithin(o.Leeway, MaxOIDCLeeway, p+".leeway")
}

func validClaimName(s string) bool {
	return s != "" && s == strings.TrimSpace(s) && !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".") && !strings.Contains(s, "..")
}

func (v *validator) checkErr(err error, path string) {
	if err != nil {
		v.check(false, path, "%v", err)
	}
}
