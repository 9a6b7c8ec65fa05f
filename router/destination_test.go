package router

import (
	"github.com/regiongate/regiongate/configs"

	"slices"
	"strings"
	"testing"
)

// TestDestinations: every candidate's destination is the region, the
// tenant's namespace there and the queue for the type and priority, in
// candidate order; lawful regions that are unavailable still have one, for
// retries of ids recorded there.
func TestDestinations(t *testing.T) {
	p := New(configs.Default(), "PropertyBooking")
	req := Request{Location: "DE", Class: "pii", Tenant: "northwind", WorkflowType: "PropertyBooking", Priority: PriorityHigh}
	d, err := p.Decide(req, Snapshot{"eu-west": {Breaker: "open"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Destination{Region: "eu-central", Namespace: "dev-eu-central-northwind", TaskQueue: "eu-central-PropertyBooking-priority"}
	if len(d.Candidates) != 1 || d.Destination(0) != want {
		t.Fatalf("candidates %v, destination %+v, want %+v", d.Candidates, d.Destination(0), want)
	}
	if d.Region != want.Region || d.Namespace != want.Namespace || d.TaskQueue != want.TaskQueue {
		t.Fatalf("decision names %s %s %s, want the first destination's", d.Region, d.Namespace, d.TaskQueue)
	}
	west, ok := d.LawfulDestination("eu-west")
	if !ok || west != (Destination{Region: "eu-west", Namespace: "dev-eu-west-northwind", TaskQueue: "eu-west-PropertyBooking-priority"}) {
		t.Fatalf("eu-west (open breaker, lawful) destination %+v, %v", west, ok)
	}
	if _, ok := d.LawfulDestination("us-east"); ok {
		t.Fatal("us-east is not lawful for German pii but has a destination")
	}

	// Nothing available: the lawful destinations are still there.
	d, err = p.Decide(req, Snapshot{"eu-west": {Drained: true}, "eu-central": {Unhealthy: true}})
	if err != ErrNoRegionAvailable {
		t.Fatalf("err %v", err)
	}
	if _, ok := d.LawfulDestination("eu-central"); !ok {
		t.Fatal("no destination in a lawful region when none is available")
	}
	// Refused before routing: no destinations at all.
	d, _ = p.Decide(Request{Location: "XX", Class: "pii"}, nil)
	if _, ok := d.LawfulDestination("eu-west"); ok {
		t.Fatal("a refused request has a destination")
	}
	// Explain lists them for people.
	d, _ = p.Explain(req, nil)
	if len(d.Destinations) != 2 || d.Destinations[1].Region != "eu-central" {
		t.Fatalf("explained destinations %+v", d.Destinations)
	}
}

// TestDestinationsDoNotAllocate: naming where a start goes is table
// lookups, for shared and isolated tenants alike.
func TestDestinationsDoNotAllocate(t *testing.T) {
	p := New(configs.Default(), "PropertyBooking")
	for _, tenant := range []string{"", "acme", "northwind"} {
		req := Request{Location: "DE", Class: "pii", Tenant: tenant, WorkflowType: "PropertyBooking"}
		allocs := testing.AllocsPerRun(100, func() {
			d, err := p.Decide(req, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k := range d.Candidates {
				_ = d.Destination(k)
			}
			_, _ = d.LawfulDestination("eu-central")
		})
		if allocs != 0 {
			t.Errorf("tenant %q: %v allocations per decision", tenant, allocs)
		}
	}
}

func TestWouldRefuse(t *testing.T) {
	p := devPolicy(t)
	for _, tt := range []struct {
		name, region string
		snap         Snapshot
		want         []string
	}{
		{"one EU region left: nobody refused", "eu-west", nil, nil},
		{"the last EU region: EU (and EEA) members, GB and CH refused", "eu-west", Snapshot{"eu-central": {Drained: true}}, []string{"CH", "EEA", "EU", "GB"}},
		{"refused already is not this drain's doing", "eu-west", Snapshot{"eu-central": {Drained: true}, "eu-west": {Unhealthy: true}}, nil},
		{"the last US region: US and CA", "us-east", Snapshot{"us-west": {Breaker: "open"}}, []string{"CA", "US"}},
		{"unknown region: nobody", "mars", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.WouldRefuse(tt.region, tt.snap); !slices.Equal(got, tt.want) {
				t.Errorf("WouldRefuse(%s) = %v, want %v", tt.region, got, tt.want)
			}
		})
	}
}

// TestStillLawful: a decision checked against a later policy follows that
// policy: a narrowed residency or a removed region is no longer lawful.
func TestStillLawful(t *testing.T) {
	before := New(configs.Default(), "PropertyBooking")
	d, err := before.Decide(Request{Location: "DE", Class: "pii", WorkflowType: "PropertyBooking"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	narrowed, err := configs.Parse([]byte(strings.Replace(string(configs.DefaultYAML()),
		"    namespace: dev-eu-central\n    residency: [EU, GB, CH]", "    namespace: dev-eu-central\n    residency: [GB, CH]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	after := New(narrowed, "PropertyBooking")
	for _, tt := range []struct {
		pol    *Policy
		region string
		want   bool
	}{
		{before, "eu-central", true},
		{nil, "eu-central", true},
		{after, "eu-west", true},
		{after, "eu-central", false}, // residency narrowed: German pii may no longer go there
		{after, "mars", false},
	} {
		if got := d.StillLawful(tt.pol, tt.region); got != tt.want {
			t.Errorf("StillLawful(%s) = %v, want %v", tt.region, got, tt.want)
		}
	}
}
