package gateway

import (
	"sync"

	"golang.org/x/time/rate"

	"github.com/regiongate/regiongate/configs"
)

// tenantLimits holds one token bucket per tenant that names itself.
type tenantLimits struct {
	mu      sync.Mutex
	perSec  float64
	burst   int
	buckets map[string]*rate.Limiter
}

func newTenantLimits(l configs.Limits) *tenantLimits {
	t := &tenantLimits{}
	t.reconfigure(l)
	return t
}

func (t *tenantLimits) reconfigure(l configs.Limits) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.perSec, t.burst = l.TenantRatePerSecond, l.TenantBurst
	if t.burst <= 0 {
		t.burst = max(1, int(2*t.perSec))
	}
	t.buckets = map[string]*rate.Limiter{}
}

// allow reports whether the tenant may make one more request now. Requests
// without a tenant, or with limits off, are always allowed.
func (t *tenantLimits) allow(tenant string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tenant == "" || t.perSec <= 0 {
		return true
	}
	b, ok := t.buckets[tenant]
	if !ok {
		b = rate.NewLimiter(rate.Limit(t.perSec), t.burst)
		t.buckets[tenant] = b
	}
	return b.Allow()
}
