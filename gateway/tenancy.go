package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
)

// Caller is who sent a client request, as its credential says.
type Caller struct {
	Tenant  string // "" for an anonymous caller
	Subject string // the API key's name or the token's subject, for logs
	Method  string // "api-key", "jwt" or "anonymous"
}

// ClientAuthenticator finds the caller of a client request from its
// Authorization header. An error wrapping ErrNoCredential or
// ErrBadCredential is a 401.
type ClientAuthenticator interface {
	Authenticate(ctx context.Context, authorization string) (Caller, error)
}

// Errors a ClientAuthenticator returns.
var (
	ErrNoCredential  = errors.New("no client credential")
	ErrBadCredential = errors.New("invalid client credential")
)

const callerKey = "regiongate.caller"

// identify authenticates every client API request before its handler: a
// missing or bad credential where one is required is a 401, and the
// caller (its tenant) is kept for the handler. Without an authenticator
// every caller is anonymous.
func (s *Server) identify() gin.HandlerFunc {
	return func(c *gin.Context) {
		caller := Caller{Method: "anonymous"}
		if s.clientAuth != nil {
			var err error
			caller, err = s.clientAuth.Authenticate(c.Request.Context(), c.GetHeader("Authorization"))
			if err != nil {
				s.unauthorized(c, err)
				return
			}
		}
		c.Set(callerKey, caller)
		c.Next()
	}
}

// unauthorized answers 401 with the challenge RFC 6750 asks for: an
// invalid credential is named as such, a missing one is not.
func (s *Server) unauthorized(c *gin.Context, err error) {
	challenge := `Bearer realm="regiongate"`
	detail := "send Authorization: Bearer <API key or access token>"
	if !errors.Is(err, ErrNoCredential) {
		challenge += `, error="invalid_token"`
		detail = "the credential is not valid (unknown key, or a token that is expired, not yet valid, for another audience or issuer, or badly signed)"
		s.log.Info("client credential refused", "request_id", c.GetString(requestIDHeader), "error", err)
	}
	c.Header("WWW-Authenticate", challenge)
	fail(c, kindClientUnauthorized, detail)
}

// callerOf is the request's caller (anonymous when identify did not run).
func callerOf(c *gin.Context) Caller {
	if v, ok := c.Get(callerKey); ok {
		return v.(Caller)
	}
	return Caller{Method: "anonymous"}
}

// requestTenant is the tenant a client request acts for: the credential's.
// A body may repeat it; naming another tenant, or any tenant without a
// credential, is a 403, and a name that is not canonical a 400.
func requestTenant(c *gin.Context, bodyTenant string) (string, bool) {
	caller := callerOf(c)
	switch {
	case bodyTenant == "":
		return caller.Tenant, true
	case !configs.ValidTenant(bodyTenant):
		fail(c, kindBadRequest, fmt.Sprintf("tenant %q is not a tenant name (lower-case letters, digits and '-', at most 63)", bodyTenant))
	case caller.Tenant == "":
		fail(c, kindTenantMismatch, "an anonymous caller may not name a tenant; authenticate with the tenant's credential")
	case bodyTenant != caller.Tenant:
		fail(c, kindTenantMismatch, fmt.Sprintf("the credential is for tenant %q, the body names %q", caller.Tenant, bodyTenant))
	default:
		return caller.Tenant, true
	}
	return "", false
}

// temporalID is the Temporal workflow id of the caller's workflow id; an
// anonymous caller's id must not be able to name a tenant's (400).
func temporalID(c *gin.Context, tenant, id string) (string, bool) {
	if tenant == "" {
		if err := router.CheckAnonymousID(id); err != nil {
			fail(c, kindBadRequest, err.Error())
			return "", false
		}
	}
	return router.TenantWorkflowID(tenant, id), true
}

// locate finds the caller's workflow named in the path: only ever the
// caller's own (another tenant's id is simply not found), searching the
// tenant's namespace in each region when no record says where it is.
func (s *Server) locate(c *gin.Context) (regions.Location, bool) {
	if !pathNames(c) {
		return regions.Location{}, false
	}
	tenant := callerOf(c).Tenant
	id, ok := temporalID(c, tenant, c.Param("id"))
	if !ok {
		return regions.Location{}, false
	}
	pol := s.Policy()
	loc, err := s.regions.Locate(c.Request.Context(), id, func(region string) string {
		ns, _ := pol.TenantNamespaceIn(region, tenant)
		return ns
	})
	if err != nil {
		s.regionError(c, c.Param("id"), err)
		return loc, false
	}
	return loc, true
}

// builtinName refuses query and signal names Temporal reserves for itself
// (__stack_trace, __temporal_workflow_metadata, ...): they would let a
// client read the workflow's internals.
func builtinName(c *gin.Context, what, name string) bool {
	if strings.HasPrefix(name, "__") {
		fail(c, kindBadRequest, fmt.Sprintf("%s names beginning with __ are Temporal's own", what))
		return true
	}
	return false
}
