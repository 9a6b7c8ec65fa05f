package gateway

import (
	"strconv"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

// TestTenantLimitsSurviveUnrelatedConfigChanges: a config apply that
// leaves the limits alone keeps every bucket (an exhausted tenant stays
// limited); new limits start afresh.
func TestTenantLimitsSurviveUnrelatedConfigChanges(t *testing.T) {
	l := configs.Limits{TenantRatePerSecond: 0.001, TenantBurst: 1}
	tl := newTenantLimits(l)
	if !tl.allow("acme") || tl.allow("acme") {
		t.Fatal("a burst of 1 must allow one request, then limit")
	}
	tl.reconfigure(l)
	if tl.allow("acme") {
		t.Fatal("an unchanged config reset the tenant's bucket")
	}
	tl.reconfigure(configs.Limits{TenantRatePerSecond: 0.001, TenantBurst: 2})
	if !tl.allow("acme") {
		t.Fatal("new limits did not start afresh")
	}
}

// TestTenantLimitsStayBounded: made-up tenant names cannot grow the
// buckets without bound, and a tenant still short of tokens is never
// forgotten (forgetting it would lift its limit).
func TestTenantLimitsStayBounded(t *testing.T) {
	fast := newTenantLimits(configs.Limits{TenantRatePerSecond: 1e12, TenantBurst: 1}) // refills at once
	for i := range 3 * sweepAt {
		fast.allow("t-" + strconv.Itoa(i))
	}
	if n := len(fast.buckets); n > sweepAt+1 {
		t.Fatalf("%d buckets for tenants that are all back at full, want at most %d", n, sweepAt+1)
	}
	slow := newTenantLimits(configs.Limits{TenantRatePerSecond: 0.001, TenantBurst: 1})
	for i := range sweepAt + 1 {
		slow.allow("t-" + strconv.Itoa(i))
	}
	if slow.allow("t-0") {
		t.Fatal("a limited tenant was swept and so let through again")
	}
}
