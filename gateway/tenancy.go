package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
)

// identify authenticates every client API request before its handler
// (clientauth: API keys, OIDC access tokens, or anonymous where the config
// allows it): a missing or bad credential where one is required is a 401
// with its challenge; the principal (its tenant) is kept for the handler.
func (s *Server) identify() gin.HandlerFunc {
	return s.clientAuth.Middleware(func(c *gin.Context, err error) {
		if !errors.Is(err, clientauth.ErrNoCredential) {
			s.log.Info("client credential refused", "request_id", c.GetString(requestIDHeader), "error", err)
		}
		fail(c, kindClientUnauthorized, clientauth.PublicDetail(err))
	})
}

// callerOf is the request's principal (anonymous when identify did not run).
func callerOf(c *gin.Context) clientauth.Principal {
	if p, ok := clientauth.FromContext(c.Request.Context()); ok {
		return p
	}
	return clientauth.Principal{Method: clientauth.MethodAnonymous}
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
		fail(c, kindBadRequest, errBadTenant(bodyTenant).Error())
	case caller.Tenant == "":
		fail(c, kindTenantMismatch, "an anonymous caller may not name a tenant; authenticate with the tenant's credential")
	case bodyTenant != caller.Tenant:
		fail(c, kindTenantMismatch, fmt.Sprintf("the credential is for tenant %q, the body names %q", caller.Tenant, bodyTenant))
	default:
		return caller.Tenant, true
	}
	return "", false
}

// errBadTenant says why a name is not a tenant's.
func errBadTenant(name string) error {
	return fmt.Errorf("tenant %q is not a tenant name (lower-case letters, digits and '-', at most 63)", name)
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
	loc, ok := s.locateAs(c, callerOf(c).Tenant, c.Param("id"))
	if ok {
		s.enterRegion(c, loc.Region.Name())
	}
	return loc, ok
}

// locateAs finds tenant's workflow id (the id as the tenant's client uses
// it) or answers why not: another tenant's workflow of the same id is not
// found.
func (s *Server) locateAs(c *gin.Context, tenant, id string) (regions.Location, bool) {
	tid, ok := temporalID(c, tenant, id)
	if !ok {
		return regions.Location{}, false
	}
	pol := s.Policy()
	loc, err := s.regions.Locate(c.Request.Context(), tid, func(region string) string {
		ns, _ := pol.TenantNamespaceIn(region, tenant)
		return ns
	})
	if err != nil {
		s.regionError(c, id, err)
		return loc, false
	}
	return loc, true
}

// builtinName refuses query, signal and update names Temporal reserves
// for itself (__stack_trace, __temporal_workflow_metadata, ...): they would
// let a client read the workflow's internals.
func builtinName(c *gin.Context, what, name string) bool {
	if strings.HasPrefix(name, "__") {
		fail(c, kindBadRequest, fmt.Sprintf("%s names beginning with __ are Temporal's own", what))
		return true
	}
	return false
}
