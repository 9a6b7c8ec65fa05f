package router

import (
	"testing"

	"github.com/regiongate/regiongate/configs"
)

// FuzzTenantWorkflowID: two callers' workflow ids never name the same
// Temporal workflow. A tenant's id and another tenant's, or an anonymous
// caller's that CheckAnonymousID lets through, map to different Temporal
// ids: another tenant's workflow is never found, signalled or cancelled.
func FuzzTenantWorkflowID(f *testing.F) {
	f.Add("acme", "booking-1", "globex", "booking-1")
	f.Add("", "acme:booking-1", "acme", "booking-1")
	f.Add("acme", "x:y", "acme-x", "y")
	f.Add("a", "b:c", "a:b", "c")
	f.Add("", "booking-1", "acme", "")
	f.Fuzz(func(t *testing.T, tenantA, idA, tenantB, idB string) {
		if !callerID(tenantA, idA) || !callerID(tenantB, idB) || tenantA == tenantB && idA == idB {
			return
		}
		if a, b := TenantWorkflowID(tenantA, idA), TenantWorkflowID(tenantB, idB); a == b {
			t.Fatalf("(%q, %q) and (%q, %q) are both Temporal workflow %q", tenantA, idA, tenantB, idB, a)
		}
	})
}

// callerID: an id a caller may use: a tenant's (named by its credential)
// or an anonymous caller's.
func callerID(tenant, id string) bool {
	if tenant == "" {
		return CheckAnonymousID(id) == nil
	}
	return configs.ValidTenant(tenant)
}
