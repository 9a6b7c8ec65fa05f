package gateway

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/regiongate/regiongate/configs"
)

// tenantLimits holds one token bucket per tenant that names itself.
type tenantLimits struct {
	mu      sync.Mutex
	limits  configs.Limits
	perSec  float64
	burst   int
	buckets map[string]*rate.Limiter
}

// sweepAt is how many buckets there may be before the full ones (tenants
// idle long enough to be back at their burst, so no different from a new
// bucket) are dropped: tenant names are the client's to choose.
const sweepAt = 10_000

func newTenantLimits(l configs.Limits) *tenantLimits {
	t := &tenantLimits{}
	t.reconfigure(l)
	return t
}

// reconfigure takes new limits; buckets start afresh only if they changed.
func (t *tenantLimits) reconfigure(l configs.Limits) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.buckets != nil && l == t.limits {
		return
	}
	t.limits, t.perSec, t.burst = l, l.TenantRatePerSecond, l.TenantBurst
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
		if len(t.buckets) >= sweepAt {
			t.sweep()
		}
		b = rate.NewLimiter(rate.Limit(t.perSec), t.burst)
		t.buckets[tenant] = b
	}
	return b.Allow()
}

// sweep drops the buckets that are full again.
func (t *tenantLimits) sweep() {
	now := time.Now()
	for name, b := range t.buckets {
		if b.TokensAt(now) >= float64(t.burst) {
			delete(t.buckets, name)
		}
	}
}
