package gateway

import (
	"strconv"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

// limitsConfig is a one-region config with the given limits and tenants
// sections (YAML flow mappings).
func limitsConfig(t *testing.T, limits, tenants string) *configs.Config {
	t.Helper()
	text := "environment: test\nclassifications: [{name: public, resident: false}]\n" +
		"regions: [{name: eu, endpoint: 127.0.0.1:1, residency: [DE]}]\nlimits: " + limits + "\n"
	if tenants != "" {
		text += "tenants: " + tenants + "\n"
	}
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// allow admits one start and finishes it at once.
func (tl *tenantLimits) allow(tenant string) bool {
	release, over := tl.acquire(tenant)
	if over != "" {
		return false
	}
	release()
	return true
}

// TestTenantLimitsSurviveUnrelatedConfigChanges: a config apply that
// leaves a tenant's quota alone keeps its bucket (an exhausted tenant stays
// limited); a new quota starts afresh.
func TestTenantLimitsSurviveUnrelatedConfigChanges(t *testing.T) {
	l := "{tenantRatePerSecond: 0.001, tenantBurst: 1}"
	tl := newTenantLimits(limitsConfig(t, l, ""))
	if !tl.allow("acme") || tl.allow("acme") {
		t.Fatal("a burst of 1 must allow one request, then limit")
	}
	tl.reconfigure(limitsConfig(t, l, "[{name: globex, isolated: true}]"))
	if tl.allow("acme") {
		t.Fatal("an unrelated config change reset the tenant's bucket")
	}
	tl.reconfigure(limitsConfig(t, "{tenantRatePerSecond: 0.001, tenantBurst: 2}", ""))
	if !tl.allow("acme") {
		t.Fatal("new limits did not start afresh")
	}
}

// TestTenantLimitsStayBounded: made-up tenant names cannot grow the
// buckets without bound, and a tenant still short of tokens is never
// forgotten (forgetting it would lift its limit).
func TestTenantLimitsStayBounded(t *testing.T) {
	fast := newTenantLimits(limitsConfig(t, "{tenantRatePerSecond: 1000000, tenantBurst: 1}", "")) // refills at once
	for i := range 3 * sweepAt {
		fast.allow("t-" + strconv.Itoa(i))
	}
	if n := fast.size(); n > sweepAt+1 {
		t.Fatalf("%d buckets for tenants that are all back at full, want at most %d", n, sweepAt+1)
	}
	slow := newTenantLimits(limitsConfig(t, "{tenantRatePerSecond: 0.001, tenantBurst: 1}", ""))
	for i := range sweepAt + 1 {
		slow.allow("t-" + strconv.Itoa(i))
	}
	if slow.allow("t-0") {
		t.Fatal("a limited tenant was swept and so let through again")
	}
}

// TestQuotasPerTenant: a tenant's own entry overrides the defaults,
// anonymous callers share one bucket of their own, and the in-flight cap
// holds until a start is done.
func TestQuotasPerTenant(t *testing.T) {
	tl := newTenantLimits(limitsConfig(t,
		"{tenantRatePerSecond: 0.001, tenantBurst: 1, tenantMaxInFlight: 1, anonymousRatePerSecond: 0.001, anonymousBurst: 2}",
		"[{name: big, ratePerSecond: 0.001, burst: 5}, {name: busy, ratePerSecond: 0, maxInFlight: 3}]"))
	if !tl.allow("small") || tl.allow("small") {
		t.Fatal("the default quota (burst 1) was not applied")
	}
	for i := range 5 {
		if !tl.allow("big") {
			t.Fatalf("start %d of a tenant with burst 5 refused", i)
		}
	}
	if tl.allow("big") {
		t.Fatal("a sixth start within the tenant's burst of 5")
	}
	for i, want := range []bool{true, true, false} {
		if got := tl.allow(""); got != want {
			t.Fatalf("anonymous start %d: allowed %v: anonymous callers do not share a bucket of 2", i+1, got)
		}
	}
	var releases []func()
	for i := range 3 {
		release, over := tl.acquire("busy")
		if over != "" {
			t.Fatalf("in-flight start %d refused: %s", i, over)
		}
		releases = append(releases, release)
	}
	if _, over := tl.acquire("busy"); over != overInFlight {
		t.Fatalf("a 4th start in flight: %q, want the in-flight limit", over)
	}
	releases[0]()
	releases[0]() // a second release is a no-op
	if _, over := tl.acquire("busy"); over != "" {
		t.Fatalf("a start after one finished: %q", over)
	}
	if _, over := tl.acquire("busy"); over != overInFlight {
		t.Fatal("a double release freed two slots")
	}
}
