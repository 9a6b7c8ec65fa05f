package gateway

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/regiongate/regiongate/configs"
)

// tenantLimits holds, per tenant, a token bucket and a count of starts in
// progress; anonymous callers share the bucket of the tenant "". Quotas
// come from the config (configs.Config.QuotaOf).
type tenantLimits struct {
	mu      sync.Mutex
	cfg     *configs.Config
	buckets map[string]*bucket
}

// bucket is one caller's limits.
type bucket struct {
	quota    configs.Quota
	limiter  *rate.Limiter // nil when the rate is not limited
	inFlight int
}

// sweepAt is how many buckets there may be before the idle ones (nothing
// in flight, back at their burst: no different from a new bucket) are
// dropped, so memory stays bounded however many tenants call.
const sweepAt = 10_000

func newTenantLimits(cfg *configs.Config) *tenantLimits {
	return &tenantLimits{cfg: cfg, buckets: map[string]*bucket{}}
}

// reconfigure takes a new config. A bucket whose quota is unchanged is
// kept as it is; one whose quota changed gets a new limiter (its starts in
// flight still count).
func (t *tenantLimits) reconfigure(cfg *configs.Config) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cfg = cfg
	for tenant, b := range t.buckets {
		if q := cfg.QuotaOf(tenant); q != b.quota {
			b.quota, b.limiter = q, newLimiter(q)
		}
	}
}

func newLimiter(q configs.Quota) *rate.Limiter {
	if q.RatePerSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(q.RatePerSecond), q.Burst)
}

// limitReason says why a start was limited.
type limitReason string

const (
	overRate     limitReason = "rate"
	overInFlight limitReason = "in-flight"
)

// acquire admits one start of tenant ("" for anonymous) or says which
// limit it is over. An admitted start must call release when it is done.
func (t *tenantLimits) acquire(tenant string) (release func(), over limitReason) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.buckets[tenant]
	if !ok {
		if len(t.buckets) >= sweepAt {
			t.sweep()
		}
		q := t.cfg.QuotaOf(tenant)
		b = &bucket{quota: q, limiter: newLimiter(q)}
		t.buckets[tenant] = b
	}
	if b.quota.MaxInFlight > 0 && b.inFlight >= b.quota.MaxInFlight {
		return nil, overInFlight
	}
	if b.limiter != nil && !b.limiter.Allow() {
		return nil, overRate
	}
	b.inFlight++
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			b.inFlight--
			t.mu.Unlock()
		})
	}, ""
}

// sweep drops the buckets with nothing in flight that are full again.
func (t *tenantLimits) sweep() {
	now := time.Now()
	for name, b := range t.buckets {
		if b.inFlight == 0 && (b.limiter == nil || b.limiter.TokensAt(now) >= float64(b.quota.Burst)) {
			delete(t.buckets, name)
		}
	}
}

// size is how many buckets are held, for tests of the bound.
func (t *tenantLimits) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.buckets)
}
