package regions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// decision is the router's decision for German pii when the lawful regions
// are lawful, in that order, and only candidates among them are available.
// Each region's namespace is fakeRegion's ("ns-<name>").
func decision(lawful, candidates []string) router.Decision {
	var b strings.Builder
	b.WriteString("environment: dev\nclassifications: [{name: pii, resident: true}]\nregions:\n")
	names := slices.Concat(lawful, []string{"us-east", "eu-west", "eu-central"})
	snap := router.Snapshot{}
	for i, n := range names {
		if slices.Index(names, n) != i {
			continue
		}
		residency := "US"
		if slices.Contains(lawful, n) {
			residency = "DE"
		}
		fmt.Fprintf(&b, "  - {name: %s, endpoint: 127.0.0.1:1, namespace: ns-%s, residency: [%s], failover: [%s]}\n",
			n, n, residency, strings.Join(slices.DeleteFunc(slices.Clone(lawful), func(l string) bool { return l == n }), ", "))
		if !slices.Contains(candidates, n) {
			snap[n] = router.RegionState{Drained: true}
		}
	}
	cfg, err := configs.Parse([]byte(b.String()))
	if err != nil {
		panic(err)
	}
	d, _ := router.New(cfg, "PropertyBooking").Decide(router.Request{Location: "DE", Class: "pii", WorkflowType: "PropertyBooking"}, snap)
	if !slices.Equal(d.Lawful, lawful) || !slices.Equal(d.Candidates, candidates) {
		panic(fmt.Sprintf("decision lawful %v candidates %v, want %v and %v", d.Lawful, d.Candidates, lawful, candidates))
	}
	return d
}

var eu = []string{"eu-west", "eu-central"}

func startReq(id string) StartRequest {
	return StartRequest{WorkflowID: id, WorkflowType: "PropertyBooking"}
}

func recordOf(t *testing.T, m *Manager, id string) string {
	t.Helper()
	rec, err := m.records.Lookup(context.Background(), m.keys.Key(id))
	if err != nil {
		t.Fatal(err)
	}
	return rec.Region
}

func TestStartFailover(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name          string
		west, central func(ctx context.Context) error
		wantRegion    string // "" when the start fails
		wantErr       error
		wantRecord    string
		wantCentral   bool // whether eu-central was asked at all
	}{
		{"home accepts", accept, accept, "eu-west", nil, "eu-west", false},
		{"home refuses: next candidate, same request", refuse, accept, "eu-central", nil, "eu-central", true},
		{"home hangs after sending: unknown, never elsewhere", hang, accept, "", ErrUnknownOutcome, "eu-west", false},
		{"home resets after sending: unknown, never elsewhere", reset, accept, "", ErrUnknownOutcome, "eu-west", false},
		{"home refuses, next hangs: unknown, stays with the next", refuse, hang, "", ErrUnknownOutcome, "eu-central", true},
		{"every candidate refuses: unavailable and the claim is released", refuse, refuse, "", ErrUnavailable, "", true},
		{"home already has the id", duplicate, accept, "eu-west", nil, "eu-west", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fakes := fakeManager(t, eu...)
			fakes["eu-west"].set(tt.west)
			fakes["eu-central"].set(tt.central)
			s, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("start: %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("start: %v, want %v", err, tt.wantErr)
			case errors.Is(tt.wantErr, ErrUnavailable) && errors.Is(err, ErrUnknownOutcome):
				t.Fatalf("start: %v claims the outcome is unknown", err)
			}
			if err == nil && s.Region != tt.wantRegion {
				t.Fatalf("started in %q, want %q", s.Region, tt.wantRegion)
			}
			if got := recordOf(t, m, "wf-1"); got != tt.wantRecord {
				t.Fatalf("record %q, want %q", got, tt.wantRecord)
			}
			if asked := len(fakes["eu-central"].calls()) > 0; asked != tt.wantCentral {
				t.Fatalf("eu-central asked: %v, want %v", asked, tt.wantCentral)
			}
		})
	}
}

func TestRetryGoesOnlyToTheRecordedRegion(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, append(eu, "us-east")...)
	fakes["eu-west"].set(hang)
	if _, err := m.Start(ctx, decision(eu, eu), startReq("wf-1")); !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("first start: %v", err)
	}
	// The retry comes while eu-west looks unavailable to the router: it
	// still goes to eu-west only, and fails there without failing over.
	fakes["eu-west"].set(refuse)
	if _, err := m.Start(ctx, decision(eu, []string{"eu-central"}), startReq("wf-1")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("retry while eu-west refuses: %v", err)
	}
	if n := len(fakes["eu-central"].calls()); n != 0 {
		t.Fatalf("eu-central asked %d times", n)
	}
	// eu-west is back and had received the first start.
	fakes["eu-west"].set(duplicate)
	s, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
	if err != nil || s.Region != "eu-west" || !s.Existing {
		t.Fatalf("retry after recovery: %+v, %v", s, err)
	}
	// A request that may not use eu-west is refused, not started elsewhere.
	_, err = m.Start(ctx, decision([]string{"us-east"}, []string{"us-east"}), startReq("wf-1"))
	if !errors.Is(err, ErrConflict) || len(fakes["us-east"].calls()) != 0 {
		t.Fatalf("unlawful retry: %v", err)
	}
}

// TestConcurrentRetryStopsTheFailover: request A claims the id for
// eu-west; while A's start is refused there, the client's retry B arrives,
// finds the record and starts in eu-west, which has come back. A must not
// then move the record and start the id in eu-central.
func TestConcurrentRetryStopsTheFailover(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	var retry Started
	var retryErr error
	fakes["eu-west"].set(func(ctx context.Context) error {
		fakes["eu-west"].set(accept) // eu-west is back for B
		retry, retryErr = m.Start(context.Background(), decision(eu, eu), startReq("wf-1"))
		return refuse(ctx) // A's own attempt was refused
	})
	_, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
	if retryErr != nil || retry.Region != "eu-west" {
		t.Fatalf("retry B: %+v, %v", retry, retryErr)
	}
	if !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("request A: %v, want ErrUnknownOutcome", err)
	}
	if n := len(fakes["eu-central"].calls()); n != 0 {
		t.Fatalf("the id was also started in eu-central (%d calls)", n)
	}
	if got := recordOf(t, m, "wf-1"); got != "eu-west" {
		t.Fatalf("record %q", got)
	}
}

func TestStartAfterAFullOutageUsesTheRegionsAvailableThen(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	fakes["eu-west"].set(refuse)
	fakes["eu-central"].set(refuse)
	if _, err := m.Start(ctx, decision(eu, eu), startReq("wf-1")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("during the outage: %v", err)
	}
	// Only eu-west comes back; the last region tried must not hold the id.
	fakes["eu-west"].set(accept)
	s, err := m.Start(ctx, decision(eu, []string{"eu-west"}), startReq("wf-1"))
	if err != nil || s.Region != "eu-west" || s.Existing {
		t.Fatalf("after the outage: %+v, %v", s, err)
	}
	if got := fakes["eu-west"].calls(); !slices.Equal(got, []string{"wf-1", "wf-1"}) {
		t.Fatalf("eu-west starts %v", got)
	}
}

// policyFor compiles a config in which only the given regions may hold
// German pii (namespaces as fakeRegion names them).
func policyFor(t *testing.T, lawful ...string) *router.Policy {
	t.Helper()
	var b strings.Builder
	b.WriteString("environment: dev\nclassifications: [{name: pii, resident: true}]\nregions:\n")
	for _, n := range []string{"eu-west", "eu-central", "us-east"} {
		residency := "US"
		if slices.Contains(lawful, n) {
			residency = "DE"
		}
		fmt.Fprintf(&b, "  - {name: %s, endpoint: 127.0.0.1:1, namespace: ns-%s, residency: [%s]}\n", n, n, residency)
	}
	cfg, err := configs.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return router.New(cfg, "PropertyBooking")
}

// TestStartFollowsThePolicyInForceWhenSent: a start decided before a
// compliance edit follows the edit if it has not been sent yet; it never
// lands in, or leaves a record for, a region the edit took away.
func TestStartFollowsThePolicyInForceWhenSent(t *testing.T) {
	ctx := context.Background()
	t.Run("narrowed before the claim: the next lawful candidate", func(t *testing.T) {
		m, fakes := fakeManager(t, eu...)
		now := policyFor(t, "eu-central")
		m.UsePolicy(func() *router.Policy { return now })
		s, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
		if err != nil || s.Region != "eu-central" || len(fakes["eu-west"].calls()) != 0 {
			t.Fatalf("start: %+v, %v (eu-west asked %d times)", s, err, len(fakes["eu-west"].calls()))
		}
		if got := recordOf(t, m, "wf-1"); got != "eu-central" {
			t.Fatalf("record %q", got)
		}
	})
	t.Run("no candidate lawful any more: refused, nothing sent, no record", func(t *testing.T) {
		m, fakes := fakeManager(t, eu...)
		now := policyFor(t, "us-east")
		m.UsePolicy(func() *router.Policy { return now })
		_, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
		if !errors.Is(err, ErrNotLawful) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("start: %v, want ErrNotLawful", err)
		}
		if len(fakes["eu-west"].calls())+len(fakes["eu-central"].calls()) != 0 || recordOf(t, m, "wf-1") != "" {
			t.Fatal("something was sent or recorded")
		}
	})
	t.Run("narrowed during the walk: the rest is skipped and the claim released", func(t *testing.T) {
		m, fakes := fakeManager(t, eu...)
		var now *router.Policy // the decision's own until eu-west refuses
		m.UsePolicy(func() *router.Policy { return now })
		fakes["eu-west"].set(func(ctx context.Context) error {
			now = policyFor(t, "eu-west") // eu-central loses German pii meanwhile
			return refuse(ctx)
		})
		_, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
		if !errors.Is(err, ErrUnavailable) || len(fakes["eu-central"].calls()) != 0 {
			t.Fatalf("start: %v, eu-central asked %d times", err, len(fakes["eu-central"].calls()))
		}
		if got := recordOf(t, m, "wf-1"); got != "" {
			t.Fatalf("record %q left behind", got)
		}
	})
	t.Run("a retry of an id in a region no longer lawful is refused", func(t *testing.T) {
		m, fakes := fakeManager(t, eu...)
		fakes["eu-west"].set(hang)
		if _, err := m.Start(ctx, decision(eu, eu), startReq("wf-1")); !errors.Is(err, ErrUnknownOutcome) {
			t.Fatalf("first start: %v", err)
		}
		now := policyFor(t, "eu-central")
		m.UsePolicy(func() *router.Policy { return now })
		if _, err := m.Start(ctx, decision(eu, eu), startReq("wf-1")); !errors.Is(err, ErrConflict) {
			t.Fatalf("retry: %v, want ErrConflict", err)
		}
		if n := len(fakes["eu-central"].calls()); n != 0 {
			t.Fatalf("the id was started in eu-central too (%d calls)", n)
		}
	})
}

// TestStartToARemovedRegionLeavesNoRecord: a region removed by a config
// swap while a start decided before it is in flight is treated as
// unreachable (nothing was sent there): the start moves on, or releases its
// claim, instead of stranding the id with a record for a region that is
// gone.
func TestStartToARemovedRegionLeavesNoRecord(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	m.mu.Lock()
	delete(m.regions, "eu-west") // removed after the decision
	m.mu.Unlock()
	s, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
	if err != nil || s.Region != "eu-central" {
		t.Fatalf("start: %+v, %v", s, err)
	}
	m.mu.Lock()
	delete(m.regions, "eu-central")
	m.mu.Unlock()
	if _, err := m.Start(ctx, decision(eu, eu), startReq("wf-2")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("start with both removed: %v", err)
	}
	if got := recordOf(t, m, "wf-2"); got != "" {
		t.Fatalf("record %q for a region that is gone", got)
	}
	if n := len(fakes["eu-central"].calls()); n != 1 {
		t.Fatalf("eu-central asked %d times, want 1", n)
	}
}

// TestRetryNeverLandsInAnotherNamespace: an id claimed for an isolated
// tenant's namespace whose start never went out (the gateway crashed
// between claim and start) is never started by a request that belongs in
// another namespace: that request is refused and nothing is sent.
func TestRetryNeverLandsInAnotherNamespace(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	if _, err := m.records.Claim(ctx, m.keys.Key("b-77"), Placement{Region: "eu-west", Namespace: "ns-eu-west-northwind"}); err != nil {
		t.Fatal(err)
	}
	// decision() names the shared namespace ns-eu-west in eu-west.
	if _, err := m.Start(ctx, decision(eu, eu), startReq("b-77")); !errors.Is(err, ErrConflict) {
		t.Fatalf("start: %v, want ErrConflict", err)
	}
	if n := len(fakes["eu-west"].calls()) + len(fakes["eu-central"].calls()); n != 0 {
		t.Fatalf("%d starts sent", n)
	}
}
