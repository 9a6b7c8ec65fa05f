package router

import (
	"fmt"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/iso3166"
)

// largeConfig has 100 regions (each holding a slice of the world's
// countries, with two failovers) and 10,000 tenants, every tenth isolated.
func largeConfig(tb testing.TB) *configs.Config {
	tb.Helper()
	var b strings.Builder
	b.WriteString("environment: prod\njurisdictions:\n  EU: [AT, BE, BG, HR, CY, CZ, DK, EE, FI, FR, DE, GR, HU, IE, IT, LV, LT, LU, MT, NL, PL, PT, RO, SK, SI, ES, SE]\n")
	b.WriteString("classifications:\n  - {name: public, resident: false}\n  - {name: pii, resident: true}\n  - {name: financial, resident: true}\nregions:\n")
	all := iso3166.All()
	for i := range 100 {
		fmt.Fprintf(&b, "  - name: r%03d\n    endpoint: 10.0.%d.%d:7233\n    residency: [%s, %s, %s]\n    failover: [r%03d, r%03d]\n",
			i, i/250, i%250, all[(i*3)%len(all)], all[(i*3+1)%len(all)], all[(i*3+2)%len(all)], (i+1)%100, (i+2)%100)
	}
	b.WriteString("  - name: eu-home\n    endpoint: 10.1.0.1:7233\n    residency: [EU]\ntenants:\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "  - {name: tenant-%05d, isolated: %v}\n", i, i%10 == 0)
	}
	cfg, err := configs.Parse([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func TestLargeConfigStaysLawful(t *testing.T) {
	cfg := largeConfig(t)
	p := New(cfg, "PropertyBooking")
	for _, country := range []string{"DE", "AD", "ZW", "US", "JP"} {
		lawful := lawfulByHand(cfg, country, true)
		d, err := p.Decide(Request{Location: country, Class: "pii", Tenant: "tenant-00010", WorkflowType: "PropertyBooking"}, nil)
		checkDecision(t, country, "pii", nil, lawful, d, err)
		if err == nil && d.Namespace != "prod-"+d.Region+"-tenant-00010" {
			t.Fatalf("isolated tenant namespace %q", d.Namespace)
		}
	}
}

func BenchmarkDecideLarge(b *testing.B) {
	p := New(largeConfig(b), "PropertyBooking")
	snap := Snapshot{}
	for _, r := range p.Config().Regions {
		snap[r.Name] = RegionState{Breaker: "closed"}
	}
	snap["eu-home"] = RegionState{Breaker: "open"}
	for _, tc := range []struct{ name, location, class, tenant string }{
		{"resident-shared-tenant", "FR", "pii", "tenant-00011"},
		{"resident-isolated-tenant", "FR", "financial", "tenant-00020"},
		{"public-100-regions", "JP", "public", "tenant-09999"},
	} {
		req := Request{Location: tc.location, Class: tc.class, Tenant: tc.tenant, WorkflowType: "PropertyBooking"}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.Decide(req, snap)
			}
		})
	}
}
