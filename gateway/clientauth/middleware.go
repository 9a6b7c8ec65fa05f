package clientauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Realm is the realm of the client API's Bearer challenge.
const Realm = "regiongate"

// Challenge is the WWW-Authenticate value for a 401 caused by err (RFC
// 6750 section 3): no error attribute when the credential is missing,
// error="invalid_token" when it is wrong.
func Challenge(err error) string {
	if errors.Is(err, ErrNoCredential) {
		return `Bearer realm="` + Realm + `"`
	}
	return `Bearer realm="` + Realm + `", error="invalid_token"`
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal Middleware put in a request's context;
// false when none did.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// AuthenticateRequest authenticates r. Two Authorization headers are a bad
// credential: which one a proxy or the gateway reads must not matter.
func (a *Authenticator) AuthenticateRequest(r *http.Request) (Principal, error) {
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		return Principal{}, bad(errors.New("more than one Authorization header"))
	}
	header := ""
	if len(values) == 1 {
		header = values[0]
	}
	return a.Authenticate(r.Context(), header)
}

// Middleware authenticates every request. On failure it sets the
// WWW-Authenticate challenge and calls fail, which writes the 401 (the
// gateway's problem+json, with PublicDetail(err) as its detail; err itself
// is for the log) and aborts. On success the Principal goes into the
// request's context (FromContext) and the chain goes on.
func (a *Authenticator) Middleware(fail func(c *gin.Context, err error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := a.AuthenticateRequest(c.Request)
		if err != nil {
			c.Header("WWW-Authenticate", Challenge(err))
			fail(c, err)
			c.Abort() // in case fail did not
			return
		}
		c.Request = c.Request.WithContext(NewContext(c.Request.Context(), p))
		c.Next()
	}
}

// TokenHolding returns the principal of a request that carries an OIDC
// access token holding role, for the codec endpoint (which takes admin
// tokens too: gateway.Server.CodecAuthorize). API keys and anonymous
// callers hold no role.
func (a *Authenticator) TokenHolding(r *http.Request, role string) (Principal, bool) {
	p, err := a.AuthenticateRequest(r)
	if err != nil || p.Method != MethodJWT || !p.HasRole(role) {
		return Principal{}, false
	}
	return p, true
}
