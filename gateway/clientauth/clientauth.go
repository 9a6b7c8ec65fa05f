// Package clientauth authenticates client API callers by API key or OIDC access token and names their tenant.
package clientauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regiongate/regiongate/configs"
)

// Method says how a caller authenticated.
type Method string

// The methods of a Principal.
const (
	MethodAPIKey    Method = "api-key"
	MethodJWT       Method = "jwt"
	MethodAnonymous Method = "anonymous"
)

// Principal is who made a request.
type Principal struct {
	// Tenant is the credential's tenant, canonical (configs.ValidTenant);
	// empty for an anonymous caller.
	Tenant string
	// Subject names the caller for logs and audit: the API key's name or
	// the token's sub. Never a secret.
	Subject string
	Method  Method
	// Roles are the token's roles (OIDC roleClaim); nil for API keys and
	// anonymous callers. Shared with the token cache: read, never modify.
	Roles []string
}

// HasRole reports whether the principal holds role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// Errors of Authenticate, tested with errors.Is. ErrBadCredential wraps the
// reason, for logs only: what the client is told is PublicDetail.
var (
	// ErrNoCredential: no Authorization header where one is required.
	ErrNoCredential = errors.New("no client credential")
	// ErrBadCredential: a malformed header, an unknown API key, or a token
	// that fails verification.
	ErrBadCredential = errors.New("invalid client credential")
)

func bad(reason error) error { return fmt.Errorf("%w: %w", ErrBadCredential, reason) }

// PublicDetail is what a 401 may tell the client about err: nothing of the
// reason, which could help an attacker probe keys or the IdP.
func PublicDetail(err error) string {
	if errors.Is(err, ErrNoCredential) {
		return "send Authorization: Bearer <API key or access token>"
	}
	return "the credential is not valid (unknown, expired, or not for this service)"
}

// maxCredential bounds what is hashed or parsed: a real API key or access
// token is far shorter.
const maxCredential = 8 << 10

// Options tune an Authenticator; zero values take the defaults.
type Options struct {
	// HTTPClient fetches the issuer's discovery document and JWKS; nil
	// means a client with a 10s timeout. Responses over 1 MiB are refused.
	HTTPClient *http.Client
	// JWKSRefresh is how often the JWKS is fetched anyway; zero means 15m.
	JWKSRefresh time.Duration
	// JWKSMinRefresh is the least time between two fetches caused by
	// tokens naming an unknown key id (or a failed discovery), so a flood
	// of forged kids cannot make us hammer the IdP; zero means 1m. A token
	// arriving when no fetch is allowed fails at once, it does not wait.
	JWKSMinRefresh time.Duration
	// CacheSize bounds the verified-token cache; zero means 10000.
	CacheSize int
	// Now is the clock for exp, nbf and the cache; nil means time.Now.
	Now func() time.Time
	// OnError, if set, hears about JWKS fetches that failed in the
	// background (the old keys stay in force).
	OnError func(error)
}

func (o Options) withDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.JWKSRefresh <= 0 {
		o.JWKSRefresh = 15 * time.Minute
	}
	if o.JWKSMinRefresh <= 0 {
		o.JWKSMinRefresh = time.Minute
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnError == nil {
		o.OnError = func(error) {}
	}
	return o
}

// Authenticator turns an Authorization header into a Principal. It is safe
// for concurrent use; Apply swaps its settings without blocking requests.
type Authenticator struct {
	keys *Keys
	opts Options

	mu    sync.Mutex // serialises Apply and Close
	state atomic.Pointer[state]
}

// state is one configs.ClientAuth in force, replaced whole.
type state struct {
	cfg  configs.ClientAuth
	oidc *verifier // nil: no JWTs accepted
}

// New builds an Authenticator from the config's clientAuth section and the
// API keys in force. It does no I/O: the JWKS is fetched on the first
// token. Close it to stop the background JWKS refresh.
func New(cfg configs.ClientAuth, keys *Keys, opts Options) *Authenticator {
	if keys == nil {
		keys = NewKeys()
	}
	a := &Authenticator{keys: keys, opts: opts.withDefaults()}
	a.Apply(cfg)
	return a
}

// Apply puts new settings in force (on every config change). Unchanged
// OIDC settings keep the verifier, its JWKS and its token cache; changed
// ones start afresh.
func (a *Authenticator) Apply(cfg configs.ClientAuth) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cfg.Mode == "" {
		cfg.Mode = configs.ClientAuthRequired // as configs.Parse defaults it
	}
	old := a.state.Load()
	next := &state{cfg: cfg}
	switch {
	case cfg.OIDC == nil:
	case old != nil && old.oidc != nil && reflect.DeepEqual(*old.cfg.OIDC, *cfg.OIDC):
		next.oidc = old.oidc
	default:
		next.oidc = newVerifier(*cfg.OIDC, a.opts)
	}
	a.state.Store(next)
	if old != nil && old.oidc != nil && old.oidc != next.oidc {
		old.oidc.close() // requests still using it finish with the keys it has
	}
}

// Close stops the background JWKS refresh.
func (a *Authenticator) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.state.Load(); s != nil && s.oidc != nil {
		s.oidc.close()
	}
}

// Keys returns the API keys the authenticator looks credentials up in.
func (a *Authenticator) Keys() *Keys { return a.keys }

// Authenticate checks the value of an Authorization header. An empty one
// is anonymous in optional mode and ErrNoCredential in required mode; a
// header that is not "Bearer <credential>" or a credential that does not
// verify is ErrBadCredential, in either mode. A credential that looks like
// a JWT goes to the OIDC verifier when one is configured, else to the API
// keys.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Principal, error) {
	st := a.state.Load()
	credential, err := parseHeader(header)
	switch {
	case errors.Is(err, ErrNoCredential) && st.cfg.Mode == configs.ClientAuthOptional:
		return Principal{Method: MethodAnonymous}, nil
	case err != nil:
		return Principal{}, err
	case st.oidc != nil && looksLikeJWT(credential):
		return st.oidc.verify(ctx, credential)
	}
	k, ok := a.keys.Lookup(credential)
	if !ok {
		return Principal{}, bad(errors.New("unknown API key"))
	}
	return Principal{Tenant: k.Tenant, Subject: k.Name, Method: MethodAPIKey}, nil
}

// parseHeader returns the credential of "Bearer <credential>". The scheme
// is case-insensitive (RFC 9110 section 11.1); the credential must be an
// RFC 6750 b64token, which keeps spaces, control and non-ASCII characters
// (a copy-paste accident, or an attempt to smuggle something into a log)
// from ever being looked up.
func parseHeader(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", ErrNoCredential
	}
	scheme, credential, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", bad(errors.New("the Authorization scheme is not Bearer"))
	}
	credential = strings.TrimLeft(credential, " ")
	switch {
	case credential == "":
		return "", bad(errors.New("the Bearer scheme without a credential"))
	case len(credential) > maxCredential:
		return "", bad(fmt.Errorf("credential longer than %d bytes", maxCredential))
	case !isB64Token(credential):
		return "", bad(errors.New("the credential has characters a bearer token cannot have"))
	}
	return credential, nil
}

// isB64Token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// looksLikeJWT: a compact JWS, three dot-separated parts, the header a JSON
// object (base64url of `{"` is "eyJ"). An API key shaped like that is
// therefore never looked up while OIDC is on; docs/tenancy.md says so.
func looksLikeJWT(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}
