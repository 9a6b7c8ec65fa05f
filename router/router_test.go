package router

import (
	"errors"
	"slices"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/iso3166"
)

func devPolicy(t testing.TB) *Policy {
	t.Helper()
	return New(configs.Default(), "PropertyBooking")
}

func TestDecide(t *testing.T) {
	p := devPolicy(t)
	tests := []struct {
		name    string
		req     Request
		snap    Snapshot
		want    string
		wantErr error
		lawful  []string
	}{
		{name: "german pii goes to the EU home region", req: Request{Location: "DE", Class: "pii"}, want: "eu-west", lawful: []string{"eu-west", "eu-central"}},
		{name: "us financial stays in the US", req: Request{Location: "US", Class: "financial"}, want: "us-east", lawful: []string{"us-east", "us-west"}},
		{name: "canadian pii stays in north america", req: Request{Location: "CA", Class: "pii"}, want: "us-east", lawful: []string{"us-east", "us-west"}},
		{name: "swiss pii goes to the EU", req: Request{Location: "CH", Class: "pii"}, want: "eu-west"},
		{name: "japanese pii has no lawful region", req: Request{Location: "JP", Class: "pii"}, wantErr: ErrNoLawfulRegion},
		{name: "japanese public goes to the default region", req: Request{Location: "JP", Class: "public"}, want: "us-east"},
		{name: "german public prefers home but may go anywhere", req: Request{Location: "DE", Class: "public"}, want: "eu-west", lawful: []string{"eu-west", "eu-central", "us-east", "us-west"}},
		{name: "home drained fails over in order", req: Request{Location: "FR", Class: "pii"}, snap: Snapshot{"eu-west": {Drained: true}}, want: "eu-central"},
		{name: "breaker open fails over", req: Request{Location: "FR", Class: "pii"}, snap: Snapshot{"eu-west": {Breaker: "open"}}, want: "eu-central"},
		{name: "half-open still gets probes", req: Request{Location: "FR", Class: "pii"}, snap: Snapshot{"eu-west": {Breaker: "half-open"}}, want: "eu-west"},
		{name: "both EU regions down refuses, never the US", req: Request{Location: "DE", Class: "pii"}, snap: Snapshot{"eu-west": {Unhealthy: true}, "eu-central": {Drained: true}}, wantErr: ErrNoRegionAvailable},
		{name: "public data leaves the EU when the EU is down", req: Request{Location: "DE", Class: "internal"}, snap: Snapshot{"eu-west": {Unhealthy: true}, "eu-central": {Drained: true}}, want: "us-east"},
		{name: "lower case country is refused", req: Request{Location: "de", Class: "pii"}, wantErr: ErrBadLocation},
		{name: "UK is not an ISO code", req: Request{Location: "UK", Class: "pii"}, wantErr: ErrBadLocation},
		{name: "unknown class", req: Request{Location: "DE", Class: "secret"}, wantErr: ErrUnknownClass},
		{name: "unknown priority", req: Request{Location: "DE", Class: "pii", Priority: "urgent"}, wantErr: ErrBadPriority},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Explain(tt.req, tt.snap)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if d.Region != tt.want {
				t.Errorf("region = %q, want %q (reasons %+v)", d.Region, tt.want, d.Reasons)
			}
			if tt.lawful != nil && !slices.Equal(d.Lawful, tt.lawful) {
				t.Errorf("lawful = %v, want %v", d.Lawful, tt.lawful)
			}
			if err == nil && len(d.Reasons) != len(p.Config().Regions) {
				t.Errorf("got %d reasons, want one per region", len(d.Reasons))
			}
		})
	}
}

func TestDecideNamesQueueAndNamespace(t *testing.T) {
	p := devPolicy(t)
	for _, tt := range []struct {
		pr   Priority
		want string
	}{
		{PriorityNormal, "eu-west-PropertyBooking"},
		{PriorityHigh, "eu-west-PropertyBooking-priority"},
		{PriorityLow, "eu-west-PropertyBooking-batch"},
	} {
		d, err := p.Decide(Request{Location: "DE", Class: "pii", WorkflowType: "PropertyBooking", Priority: tt.pr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.TaskQueue != tt.want || d.Namespace != "dev-eu-west" {
			t.Errorf("priority %q: queue %q namespace %q", tt.pr, d.TaskQueue, d.Namespace)
		}
	}
}

// TestResidentDataNeverLeavesItsLawfulSet walks every country, every class
// and every subset of available regions of the dev config.
func TestResidentDataNeverLeavesItsLawfulSet(t *testing.T) {
	p := devPolicy(t)
	cfg := p.Config()
	n := len(cfg.Regions)
	for _, country := range iso3166.All() {
		for _, class := range cfg.Classifications {
			lawful := lawfulByHand(cfg, country, class.Resident)
			for mask := 0; mask < 1<<n; mask++ {
				snap := Snapshot{}
				for i, r := range cfg.Regions {
					snap[r.Name] = RegionState{Unhealthy: mask&(1<<i) == 0, Breaker: "closed"}
				}
				d, err := p.Decide(Request{Location: country, Class: class.Name}, snap)
				checkDecision(t, country, class.Name, snap, lawful, d, err)
			}
		}
	}
}

func checkDecision(t *testing.T, country, class string, snap Snapshot, lawful map[string]bool, d Decision, err error) {
	t.Helper()
	anyUp := false
	for r := range lawful {
		anyUp = anyUp || snap[r].Available()
	}
	switch {
	case len(lawful) == 0:
		if !errors.Is(err, ErrNoLawfulRegion) {
			t.Fatalf("%s/%s: want ErrNoLawfulRegion, got %v %q", country, class, err, d.Region)
		}
	case !anyUp:
		if !errors.Is(err, ErrNoRegionAvailable) {
			t.Fatalf("%s/%s %v: want ErrNoRegionAvailable, got %v %q", country, class, snap, err, d.Region)
		}
	default:
		if err != nil || !lawful[d.Region] || !snap[d.Region].Available() {
			t.Fatalf("%s/%s %v: got %q, %v; lawful %v", country, class, snap, d.Region, err, lawful)
		}
	}
	var want []string
	for _, r := range d.Lawful {
		if !lawful[r] {
			t.Fatalf("%s/%s: %s listed as lawful", country, class, r)
		}
		if st, ok := snap[r]; (!ok || st.Available()) && len(want) < MaxCandidates {
			want = append(want, r)
		}
	}
	if len(d.Lawful) != len(lawful) || (err == nil && !slices.Equal(d.Candidates, want)) {
		t.Fatalf("%s/%s %v: lawful %v candidates %v, want %v", country, class, snap, d.Lawful, d.Candidates, want)
	}
}

// lawfulByHand recomputes the lawful set straight from the config.
func lawfulByHand(cfg *configs.Config, country string, resident bool) map[string]bool {
	out := map[string]bool{}
	for _, r := range cfg.Regions {
		ok := !resident
		for _, e := range r.Residency {
			ok = ok || e == country || slices.Contains(cfg.Jurisdictions[e], country)
		}
		if ok {
			out[r.Name] = true
		}
	}
	return out
}

func BenchmarkDecide(b *testing.B) {
	p := devPolicy(b)
	cases := []struct {
		name string
		snap Snapshot
	}{
		{"all-up", Snapshot{"us-east": {Breaker: "closed"}, "us-west": {Breaker: "closed"}, "eu-west": {Breaker: "closed"}, "eu-central": {Breaker: "closed"}}},
		{"home-open", Snapshot{"eu-west": {Breaker: "open"}}},
	}
	req := Request{Location: "DE", Class: "pii", WorkflowType: "PropertyBooking"}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Decide(req, c.snap); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecisionSlicesAreTheCallers: a decision shares the compiled lists to
// stay allocation-free, so an append to it must copy rather than write
// into the policy and change what the next request finds lawful.
func TestDecisionSlicesAreTheCallers(t *testing.T) {
	// 101 regions, all lawful for public data: the decision keeps the
	// first MaxCandidates of a longer compiled list.
	p := New(largeConfig(t), "PropertyBooking")
	req := Request{Location: "JP", Class: "public", WorkflowType: "PropertyBooking"}
	before, err := p.Decide(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(before.Lawful)
	wantCand := slices.Clone(before.Candidates)
	_ = append(before.Lawful, "mars")
	_ = append(before.Candidates, "mars")
	after, err := p.Decide(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after.Lawful, want) || !slices.Equal(after.Candidates, wantCand) {
		t.Fatalf("appends to one decision changed the next: lawful %v, candidates %v", after.Lawful, after.Candidates)
	}
}

// TestTenantNamespaces: the one naming rule, as Decide applies it and as
// Namespaces lists it for the workers.
func TestTenantNamespaces(t *testing.T) {
	cfg, err := configs.Parse([]byte(`environment: prod
jurisdictions:
  EU: [FR, DE]
classifications:
  - {name: public, resident: false}
regions:
  - name: eu
    endpoint: eu.example:7233
    residency: [EU]
tenants: [{name: acme, isolated: true}, {name: beta, isolated: false}]
`))
	if err != nil {
		t.Fatal(err)
	}
	p := New(cfg, "PropertyBooking")
	for _, tt := range []struct{ tenant, want string }{
		{"acme", "prod-eu-acme"}, // isolated: a namespace of its own
		{"beta", "prod-eu"},      // listed, not isolated
		{"other", "prod-eu"},     // not listed
		{"", "prod-eu"},          // no tenant
	} {
		d, err := p.Decide(Request{Location: "DE", Class: "public", Tenant: tt.tenant, WorkflowType: "PropertyBooking"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Namespace != tt.want || d.Destination(0).Namespace != tt.want {
			t.Errorf("tenant %q: namespace %q (destination %+v), want %q", tt.tenant, d.Namespace, d.Destination(0), tt.want)
		}
	}
	eu, _ := cfg.Region("eu")
	if got := Namespaces(cfg, eu); !slices.Equal(got, []string{"prod-eu", "prod-eu-acme"}) {
		t.Errorf("Namespaces(eu) = %v", got)
	}
}
