package clientauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/regiongate/regiongate/configs"
)

// verifier checks OIDC access tokens of one issuer with golang-jwt: the
// signature with a key of the issuer's JWKS, alg among the pinned ones
// (never none, never HMAC), iss exactly, aud among the audiences, exp
// (required) and nbf with the leeway. Verified tokens are cached.
type verifier struct {
	cfg    configs.OIDC
	parser *jwt.Parser
	keys   *keySet
	cache  *lru.Cache[[32]byte, cached]
	now    func() time.Time
	// unusable refuses every token of settings that validation would
	// refuse: golang-jwt reads an empty issuer, audience or method list
	// as "do not check".
	unusable error
}

// cached is a verified token: valid until its exp, never past it, and only
// while the key set it was verified against is in force.
type cached struct {
	p   Principal
	exp time.Time
	gen uint64
}

func newVerifier(cfg configs.OIDC, opts Options) *verifier {
	algs := make([]string, 0, len(cfg.Algorithms))
	for _, a := range cfg.Algorithms {
		// Belt and braces: validation refuses these already.
		if a != "none" && !strings.HasPrefix(a, "HS") {
			algs = append(algs, a)
		}
	}
	cache, err := lru.New[[32]byte, cached](opts.CacheSize)
	if err != nil {
		panic(err) // only for a size <= 0, which withDefaults rules out
	}
	var unusable error
	if cfg.Issuer == "" || len(cfg.Audiences) == 0 || slices.Contains(cfg.Audiences, "") || len(algs) == 0 {
		unusable = errors.New("the oidc settings lack an issuer, an audience or an algorithm")
	}
	return &verifier{
		unusable: unusable,
		cfg:      cfg,
		parser: jwt.NewParser(
			jwt.WithValidMethods(algs),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audiences...),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(time.Duration(cfg.Leeway)),
			jwt.WithTimeFunc(opts.Now),
		),
		keys:  newKeySet(cfg, opts),
		cache: cache,
		now:   opts.Now,
	}
}

func (v *verifier) close() { v.keys.close() }

// verify checks a token; a repeated one costs a hash and a map lookup.
func (v *verifier) verify(ctx context.Context, token string) (Principal, error) {
	if v.unusable != nil {
		return Principal{}, bad(v.unusable)
	}
	sum := sha256.Sum256([]byte(token))
	gen := v.keys.generation() // read before verifying: a change meanwhile wins
	if c, ok := v.cache.Get(sum); ok && c.gen == gen && v.now().Before(c.exp) {
		return c.p, nil
	}
	kf, err := v.keys.keyfunc(ctx, token)
	if err != nil {
		return Principal{}, bad(err)
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, kf); err != nil {
		return Principal{}, bad(fmt.Errorf("access token: %w", err))
	}
	p, err := v.principal(claims)
	if err != nil {
		return Principal{}, bad(err)
	}
	exp, _ := claims.GetExpirationTime() // required: the parser checked it
	v.cache.Add(sum, cached{p: p, exp: exp.Time, gen: gen})
	return p, nil
}

func (v *verifier) principal(claims jwt.MapClaims) (Principal, error) {
	raw, _ := claim(claims, v.cfg.TenantClaim)
	tenant, ok := raw.(string)
	if !ok || !configs.ValidTenant(tenant) {
		// %q shows an invisible character or a trailing space in the log.
		return Principal{}, fmt.Errorf("access token: claim %s is missing or not a tenant name: %q", v.cfg.TenantClaim, fmt.Sprint(raw))
	}
	sub, _ := claims.GetSubject()
	roles, err := rolesOf(claims, v.cfg.RoleClaim)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Tenant: tenant, Subject: sub, Method: MethodJWT, Roles: roles}, nil
}

// claim finds a claim by its name, or else by a dotted path into nested
// objects ("ext.tenant"): namespaced claims ("https://example.com/tenant")
// contain dots of their own.
func claim(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	head, rest, nested := strings.Cut(name, ".")
	if !nested {
		return nil, false
	}
	inner, ok := claims[head].(map[string]any)
	if !ok {
		return nil, false
	}
	return claim(inner, rest)
}

// rolesOf reads the roles claim: an array of strings, or one string of
// space-separated roles (as scope is written). Absent means no roles.
func rolesOf(claims map[string]any, name string) ([]string, error) {
	raw, ok := claim(claims, name)
	if !ok {
		return nil, nil
	}
	switch r := raw.(type) {
	case string:
		return strings.Fields(r), nil
	case []any:
		roles := make([]string, 0, len(r))
		for _, x := range r {
			s, ok := x.(string)
			if !ok {
				return nil, errors.New("access token: claim " + name + " holds a role that is not a string")
			}
			roles = append(roles, s)
		}
		return roles, nil
	}
	return nil, errors.New("access token: claim " + name + " is neither a string nor an array of strings")
}
